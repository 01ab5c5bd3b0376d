"""examples/chat: through the test client, then end to end with two pages in
headless Chromium (Debian's ``chromium``, driven by Playwright) talking to the
example served by its own ``app.run()`` in a subprocess, and to two such
processes sharing a redis-server behind nginx (Debian's, scripts/nginx.sh)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHAT = Path(__file__).resolve().parent.parent / "examples" / "chat"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chat(monkeypatch):
    """A fresh copy of the example's module (its app, its pub/sub on memory://)."""
    monkeypatch.delenv("BROADCAST_URL", raising=False)
    monkeypatch.syspath_prepend(str(CHAT))
    monkeypatch.delitem(sys.modules, "presence", raising=False)
    spec = importlib.util.spec_from_file_location("chat_example", CHAT / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "chat_example", module)
    spec.loader.exec_module(module)
    module.app.config["TESTING"] = True
    return module


async def test_page_opens_its_websocket_from_its_own_location(chat):
    response = await chat.app.test_client().get("/")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Lobby · Quaver chat</title>" in page
    assert 'data-socket-path="/ws"' in page
    assert "new URL(document.body.dataset.socketPath, location.href)" in page


async def test_every_message_reaches_every_connection(chat):
    async with chat.app.test_app() as test_app:
        client = test_app.test_client()
        async with client.websocket("/ws") as ada:
            assert await ada.receive_json() == {"process": chat.PROCESS}
            assert await ada.receive_json() == {"online": 1}
            async with client.websocket("/ws") as bob:
                assert await ada.receive_json() == {"online": 2}
                assert await bob.receive_json() == {"process": chat.PROCESS}
                assert await bob.receive_json() == {"online": 2}
                await ada.send_json({"name": "ada", "text": "  hello, bob  "})
                assert await ada.receive_json() == {"name": "ada", "text": "hello, bob"}
                assert await bob.receive_json() == {"name": "ada", "text": "hello, bob"}
                await bob.send("not json")
                await bob.send_json({"name": "bob", "text": "   "})  # blank: dropped
                await bob.send_json({"text": "x" * 600})
                assert await ada.receive_json() == {"name": "anonymous", "text": "x" * 500}
                await bob.close()
                assert await ada.receive_json() == {"online": 1}
        assert chat.pubsub.subscriber_count(chat.CHANNEL) == 0
        assert chat.presence.local == 0


async def test_leaving_unsubscribes(chat):
    async with chat.app.test_app() as test_app:
        for _ in range(20):
            async with test_app.test_client().websocket("/ws") as ws:
                assert await ws.receive_json() == {"process": chat.PROCESS}
                assert await ws.receive_json() == {"online": 1}
        assert chat.pubsub.subscriber_count(chat.CHANNEL) == 0


async def test_the_online_count_adds_up_processes_and_forgets_silent_ones(chat):
    from presence import Presence

    presence = Presence(chat.pubsub, "room:presence", "here", heartbeat=0.1, expiry=0.5)
    counting = asyncio.create_task(presence.run())
    while not chat.pubsub.subscriber_count("room:presence"):
        await asyncio.sleep(0.01)
    try:
        async with presence.joined():
            totals = presence.totals()
            assert await anext(totals) == 1
            await chat.pubsub.publish("room:presence", {"process": "there", "online": 3})
            assert await asyncio.wait_for(anext(totals), 2) == 4
            started = time.monotonic()
            assert await asyncio.wait_for(anext(totals), 2) == 1  # "there" went silent: dropped
            assert 0.4 < time.monotonic() - started < 1.5
    finally:
        counting.cancel()
        await chat.pubsub.close()


@pytest.fixture
def chat_server(free_port):
    """The example run as a user runs it, on a free port; always stopped."""
    server = subprocess.Popen(
        [sys.executable, str(CHAT / "app.py"), "--port", str(free_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                socket.create_connection(("127.0.0.1", free_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the chat example did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{free_port}/"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        server.stdout.close()


async def test_two_browsers_see_each_others_messages(chat_server):
    from playwright.async_api import async_playwright, expect

    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/setup.sh (apt-get install chromium)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ada = await browser.new_page()
            bob = await browser.new_page()
            for page in (ada, bob):
                await page.goto(chat_server)
                await expect(page.locator("#status")).to_have_text("connected")
            await expect(ada.locator("#online")).to_have_text("2")

            await ada.fill("#name", "ada")
            await ada.fill("#text", "hello from <b>ada</b>")
            await ada.press("#text", "Enter")
            for page in (ada, bob):  # the sender's page shows it too: it came back through the broker
                await expect(page.locator("#messages li")).to_have_count(1)
                await expect(page.locator("#messages li").last).to_have_text("adahello from <b>ada</b>")
                await expect(page.locator("#messages li .name")).to_have_text("ada")
            assert await bob.locator("#messages b").count() == 0  # shown as text, not HTML

            await bob.fill("#name", "bob")
            await bob.fill("#text", "hi ada")
            await bob.click("#submit")
            await expect(ada.locator("#messages li").last).to_have_text("bobhi ada")
            await expect(ada.locator("#messages li")).to_have_count(2)

            await bob.close()
            await expect(ada.locator("#online")).to_have_text("1")
        finally:
            await browser.close()


NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream chat {{  # round robin
        server 127.0.0.1:{first};
        server 127.0.0.1:{second};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://chat;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


@pytest.fixture
def nginx_in_front(tmp_path):
    """``start(first, second)``: an nginx of the test's own on a free port,
    round robin over two local ports; always stopped."""
    from broker_servers import free_port, wait_for_port

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: run scripts/nginx.sh (Debian's nginx)"
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    processes = []

    def start(first: int, second: int) -> str:
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, first=first, second=second, port=port))
        processes.append(
            subprocess.Popen(
                [nginx, "-e", str(prefix / "error.log"), "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for_port(port)
        return f"http://127.0.0.1:{port}/"

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("broker", ["redis", "postgres"])
async def test_two_processes_behind_nginx_share_one_room(tmp_path, nginx_in_front, broker):
    """Two server processes on one Redis (or PostgreSQL), behind nginx: two pages whose
    websockets reach different processes see each other's messages and the
    room's online count; /events carries the same JSON; a process killed
    without a goodbye drops out of the count."""
    import httpx
    from broker_servers import PostgresCluster, RedisServer, free_port
    from playwright.async_api import async_playwright, expect
    from server_process import ServerProcess

    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/setup.sh (apt-get install chromium)"
    env = {
        "CHAT_PRESENCE_HEARTBEAT": "0.5",
        "CHAT_PRESENCE_EXPIRY": "2",
        "CHAT_EVENTS_KEEP_ALIVE": "0.5",
    }
    ports = [free_port(), free_port()]
    with RedisServer() if broker == "redis" else PostgresCluster() as broker_server:
        env["BROADCAST_URL"] = broker_server.url
        folders = [tmp_path / "first", tmp_path / "second"]
        for folder in folders:
            folder.mkdir()
        with (
            ServerProcess([sys.executable, str(CHAT / "app.py"), "--port", str(ports[0])], folders[0], env) as first,
            ServerProcess([sys.executable, str(CHAT / "app.py"), "--port", str(ports[1])], folders[1], env) as second,
        ):
            for server, port in ((first, ports[0]), (second, ports[1])):
                server.wait_until_serving(f"http://127.0.0.1:{port}/")
            url = nginx_in_front(*ports)
            processes = {f"{socket.gethostname()}:{server.process.pid}": server for server in (first, second)}

            async with httpx.AsyncClient(timeout=10) as http, async_playwright() as playwright:
                events: list[str] = []

                async def follow_events() -> None:
                    async with http.stream("GET", url + "events") as response:
                        assert response.headers["content-type"] == "text/event-stream"
                        async for line in response.aiter_lines():
                            events.append(line)

                following = asyncio.create_task(follow_events())
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    ada = await browser.new_page()
                    await ada.goto(url)
                    await expect(ada.locator("#status")).to_have_text("connected")
                    await expect(ada.locator("#process")).not_to_have_text("…")
                    ada_process = await ada.locator("#process").text_content()
                    bob = await browser.new_page()
                    for _ in range(8):  # round robin: until bob's socket reaches the other process
                        await bob.goto(url)
                        await expect(bob.locator("#status")).to_have_text("connected")
                        await expect(bob.locator("#process")).not_to_have_text("…")
                        bob_process = await bob.locator("#process").text_content()
                        if bob_process != ada_process:
                            break
                        await http.get(url)  # a reload may take an even number of turns: shift by one
                    assert {ada_process, bob_process} == set(processes), (ada_process, bob_process)

                    for page in (ada, bob):  # the room's count, over both processes
                        await expect(page.locator("#online")).to_have_text("2")

                    await ada.fill("#name", "ada")
                    await ada.fill("#text", "hello from the first process")
                    await ada.press("#text", "Enter")
                    for page in (ada, bob):
                        await expect(page.locator("#messages li").last).to_have_text("adahello from the first process")
                    await bob.fill("#name", "bob")
                    await bob.fill("#text", "hi from the other")
                    await bob.click("#submit")
                    for page in (ada, bob):
                        await expect(page.locator("#messages li")).to_have_count(2)
                        await expect(page.locator("#messages li").last).to_have_text("bobhi from the other")

                    deadline = time.monotonic() + 5
                    while sum(line.startswith("data: ") for line in events) < 2:
                        assert time.monotonic() < deadline, events
                        await asyncio.sleep(0.05)
                    data = [line.removeprefix("data: ") for line in events if line.startswith("data: ")]
                    assert [json.loads(line) for line in data] == [
                        {"name": "ada", "text": "hello from the first process"},
                        {"name": "bob", "text": "hi from the other"},
                    ]
                    assert any(line.startswith(":") for line in events)  # keep-alive comments

                    processes[bob_process].process.kill()  # no goodbye
                    await expect(bob.locator("#status")).to_have_text("disconnected")
                    started = time.monotonic()
                    await expect(ada.locator("#online")).to_have_text("1", timeout=10_000)
                    assert time.monotonic() - started < 2 + 0.5 + 2  # within the expiry and a heartbeat
                finally:
                    following.cancel()
                    await browser.close()
