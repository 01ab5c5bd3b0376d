"""The same app, unchanged, on Hypercorn, Uvicorn and Granian, each run from
its command line in a child process: a JSON route, a streamed response, a
streamed upload and a WebSocket echo."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from server_process import ServerProcess
from tls_server import free_port

APP = """\
import asyncio
import hashlib

from quaver import Quaver, request, websocket

app = Quaver(__name__)
app.release = None

@app.before_serving
async def start():
    app.release = asyncio.Event()

@app.get("/json")
async def json_route():
    return {"message": "hello", "numbers": [1, 2, 3]}

@app.get("/stream")
async def stream():
    async def generate():
        yield b"first;"
        await asyncio.wait_for(app.release.wait(), 10)
        app.release.clear()
        yield b"second;"
        yield b"last"
    return generate(), {"Content-Type": "text/plain"}

@app.post("/release")
async def release():
    app.release.set()
    return "", 204

@app.post("/upload")
async def upload():
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.body:
        digest.update(chunk)
        size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}

@app.websocket("/echo")
async def echo():
    while True:
        message = await websocket.receive()
        await websocket.send(message)
"""

BIN = Path(sys.executable).parent


def command(kind: str, port: int) -> list[str]:
    if kind == "hypercorn":
        return [str(BIN / "hypercorn"), "--bind", f"127.0.0.1:{port}", "smokeapp:app"]
    if kind == "uvicorn":
        return [
            str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "smokeapp:app"
        ]
    return [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "smokeapp:app"]


class Running:
    def __init__(self, kind: str, process: ServerProcess, port: int) -> None:
        self.kind = kind
        self.process = process
        self.address = f"127.0.0.1:{port}"
        self._seen = 0

    def assert_no_new_error(self) -> None:
        """Fail if the server logged a traceback since the last check."""
        stderr = self.process.stderr
        new, self._seen = stderr[self._seen :], len(stderr)
        assert "Traceback" not in new, new


@pytest.fixture(scope="module", params=["hypercorn", "uvicorn", "granian"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    directory = tmp_path_factory.mktemp(request.param)
    (directory / "smokeapp.py").write_text(APP)
    port = free_port()
    env = {"PYTHONPATH": os.pathsep.join([str(directory), os.environ.get("PYTHONPATH", "")])}
    with ServerProcess(command(request.param, port), cwd=directory, env=env) as process:
        process.wait_until_serving(f"http://127.0.0.1:{port}/json")
        yield Running(request.param, process, port)
        process.stop(signal.SIGINT, timeout=10)


@pytest.fixture
async def http(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=10) as client:
        yield client
    server.assert_no_new_error()


async def test_json_route(http: httpx.AsyncClient) -> None:
    response = await http.get("/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "hello", "numbers": [1, 2, 3]}


async def test_a_streamed_response_sends_its_first_chunk_before_the_rest_exists(http: httpx.AsyncClient) -> None:
    async with http.stream("GET", "/stream") as response:
        assert response.status_code == 200
        chunks = response.aiter_raw()
        received = await asyncio.wait_for(chunks.__anext__(), 5)
        assert received == b"first;"  # the generator is parked until /release: this came on its own
        assert (await http.post("/release")).status_code == 204
        async for chunk in chunks:
            received += chunk
    assert received == b"first;second;last"


async def test_a_streamed_upload_arrives_whole(server: Running, http: httpx.AsyncClient) -> None:
    # On Granian, receive() returns an awaitable whose iterator has only __next__ (no send).
    piece = os.urandom(64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(16):
            yield piece
            await asyncio.sleep(0)

    response = await http.post("/upload", content=body())  # no length: chunked
    assert response.status_code == 200
    assert response.json() == {"bytes": 16 * len(piece), "sha256": hashlib.sha256(piece * 16).hexdigest()}
    server.assert_no_new_error()


async def test_websocket_echo(server: Running) -> None:
    async with websockets.connect(f"ws://{server.address}/echo", open_timeout=5, close_timeout=2) as ws:
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), 5) == "hello"
        await ws.send(b"\x00\x01binary")
        assert await asyncio.wait_for(ws.recv(), 5) == b"\x00\x01binary"
    server.assert_no_new_error()
