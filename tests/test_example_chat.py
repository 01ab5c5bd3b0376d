"""examples/chat: through the test client, then end to end with two pages in
headless Chromium (Debian's ``chromium``, driven by Playwright) talking to the
example served by its own ``app.run()`` in a subprocess."""

from __future__ import annotations

import importlib.util
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
    """A fresh copy of the example's module (its app and its broker)."""
    monkeypatch.syspath_prepend(str(CHAT))
    monkeypatch.delitem(sys.modules, "broker", raising=False)
    spec = importlib.util.spec_from_file_location("chat_example", CHAT / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "chat_example", module)
    spec.loader.exec_module(module)
    module.app.config["TESTING"] = True
    return module


async def test_page_points_its_script_at_the_websocket(chat):
    response = await chat.app.test_client().get("/")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Lobby · Quaver chat</title>" in page
    assert 'data-socket-url="ws://localhost/ws"' in page
    assert "new WebSocket(document.body.dataset.socketUrl)" in page


async def test_every_message_reaches_every_connection(chat):
    client = chat.app.test_client()
    async with client.websocket("/ws") as ada, client.websocket("/ws") as bob:
        assert await ada.receive_json() == {"online": 1}
        assert await ada.receive_json() == {"online": 2}
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
    assert len(chat.broker) == 0


async def test_leaving_unsubscribes_from_the_broker(chat):
    client = chat.app.test_client()
    for _ in range(20):
        async with client.websocket("/ws") as ws:
            assert await ws.receive_json() == {"online": 1}
    assert len(chat.broker) == 0


def test_a_slow_subscriber_misses_messages_instead_of_growing(chat):
    broker = chat.Broker(backlog=3)
    with broker.subscribe() as slow:
        for number in range(10):
            broker.publish(number)
        assert [slow.get_nowait() for _ in range(slow.qsize())] == [0, 1, 2]


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
