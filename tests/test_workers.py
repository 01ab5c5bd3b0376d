"""``quaver run --workers 2`` (quaver/workers.py): two processes serve one
socket, and each keeps the shutdown ``app.run()`` has."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import time

import httpx
import pytest
import websockets
from server_process import ServerProcess

APP = '''
import asyncio, os
from quaver import Quaver, websocket

app = Quaver(__name__)
app.config["GRACEFUL_SHUTDOWN_TIMEOUT"] = float(os.environ.get("GRACE", "5"))

@app.get("/")
async def index():
    return str(os.getpid())

@app.get("/slow/<float:seconds>")
async def slow(seconds):
    await asyncio.sleep(seconds)
    return "finished"

@app.websocket("/ws")
async def ws():
    await websocket.accept()
    await websocket.send(str(os.getpid()))
    while True:
        await websocket.receive()

if os.environ.get("FAIL"):
    @app.before_serving
    async def connect():
        raise RuntimeError("the database is unreachable")
'''


@pytest.fixture
def workers(tmp_path, free_port):
    """``start(**env)``: ``quaver run --workers 2`` on a free port, serving."""
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    servers = []

    def start(wait: bool = True, **env: str) -> ServerProcess:
        server = ServerProcess(
            [sys.executable, "-m", "quaver", "--app", "app.py", "run", "--workers", "2", "--port", str(free_port)],
            cwd=tmp_path,
            env=env,
        )
        server.__enter__()
        servers.append(server)
        server.url = f"http://127.0.0.1:{free_port}/"
        if wait:
            server.wait_until_serving(server.url)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_two_workers_serve_one_port(workers):
    server = workers()
    pids = set()
    deadline = time.monotonic() + 20
    while len(pids) < 2:  # a new connection each time: the kernel hands them to either worker
        assert time.monotonic() < deadline, f"only {pids} answered"
        pids.add(httpx.get(server.url, timeout=5).text)
    assert server.process.pid not in {int(pid) for pid in pids}  # the supervisor only supervises
    assert server.stop(signal.SIGTERM) == 0


async def test_sigint_finishes_requests_and_closes_websockets_with_1001_in_every_worker(workers):
    server = workers()
    sockets = {}
    async with httpx.AsyncClient(timeout=10) as http:
        deadline = time.monotonic() + 20
        while len(sockets) < 2:  # one websocket on each worker
            assert time.monotonic() < deadline
            socket = await websockets.connect(server.url.replace("http", "ws") + "ws")
            pid = await socket.recv()
            if pid in sockets:
                await socket.close()
            else:
                sockets[pid] = socket
        slow = asyncio.create_task(http.get(server.url + "slow/1.5"))
        await asyncio.sleep(0.3)
        server.process.send_signal(signal.SIGINT)
        for socket in sockets.values():
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd.code == 1001
        assert (await slow).text == "finished"  # in flight: given its grace period
    code = await asyncio.to_thread(server.process.wait, 10)
    assert code == 0, server.stderr
    assert server.stdout.count(" * Stopping: finishing requests in flight") == 2


async def test_a_second_signal_quits_at_once(workers):
    server = workers(GRACE="60")
    async with httpx.AsyncClient(timeout=30) as http:
        slow = asyncio.create_task(http.get(server.url + "slow/30.0"))
        await asyncio.sleep(0.3)
        server.process.send_signal(signal.SIGINT)
        await asyncio.sleep(0.5)
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(server.process.wait, 10)
        assert time.monotonic() - started < 3
        assert code != 0
        with pytest.raises(httpx.HTTPError):
            await slow
    assert "again: quitting without waiting" in server.stdout


def test_a_failing_before_serving_exits_1_with_its_reason(workers):
    server = workers(wait=False, FAIL="1")
    assert server.process.wait(30) == 1
    assert " * The app failed in start-up: RuntimeError: the database is unreachable" in server.stderr
