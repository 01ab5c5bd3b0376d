"""One small app on real servers (Hypercorn and Uvicorn), talked to by httpx over the network."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from threaded_server import ThreadedServer

from quaver import Quaver, request

LIMIT = 256 * 1024  # MAX_CONTENT_LENGTH


def make_app() -> Quaver:
    app = Quaver(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    app.release_stream = threading.Event()  # set by the test, from its own thread
    app.started = False

    @app.before_serving
    async def start() -> None:
        app.started = True

    @app.get("/hello")
    async def hello():
        return {"hello": "world", "started": app.started}

    @app.get("/users/<int:user_id>")
    async def user(user_id: int):
        return {"id": user_id, "type": type(user_id).__name__}

    @app.post("/echo")
    async def echo():
        return {"received": await request.get_json()}

    @app.get("/only-get")
    async def only_get():
        return "got it"

    @app.get("/stream")
    async def stream():
        async def generate() -> AsyncIterator[bytes]:
            yield b"first\n"
            deadline = time.monotonic() + 10
            while not app.release_stream.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            yield b"released\n" if app.release_stream.is_set() else b"timed out\n"
            yield b"last\n"

        return generate(), {"Content-Type": "text/plain"}

    @app.post("/upload")
    async def upload():
        digest = hashlib.sha256()
        size = chunks = 0
        async for chunk in request.body:
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
        return {"bytes": size, "chunks": chunks, "sha256": digest.hexdigest()}

    return app


@pytest.fixture(params=["hypercorn", "uvicorn"])
def server(
    request: pytest.FixtureRequest, free_port: int, caplog: pytest.LogCaptureFixture
) -> Iterator[ThreadedServer]:
    caplog.set_level(logging.ERROR)
    running = ThreadedServer(request.param, make_app(), free_port)
    try:
        running.start()
        yield running
    finally:
        running.app.release_stream.set()
        running.stop()
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], errors


@pytest.fixture
async def http(server: ThreadedServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


async def test_json_get_after_startup(http: httpx.AsyncClient) -> None:
    response = await http.get("/hello")
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "world", "started": True}


async def test_path_parameter_is_converted(http: httpx.AsyncClient) -> None:
    response = await http.get("/users/42")
    assert response.json() == {"id": 42, "type": "int"}
    assert (await http.get("/users/forty-two")).status_code == 404


async def test_post_json_is_echoed(http: httpx.AsyncClient) -> None:
    sent = {"name": "Quaver", "tags": ["fast", "async"], "nested": {"n": 1.5, "none": None}}
    response = await http.post("/echo", json=sent)
    assert response.status_code == 200
    assert response.json() == {"received": sent}


async def test_unknown_path_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/no/such/page")
    assert response.status_code == 404


async def test_wrong_method_is_405_with_allow(http: httpx.AsyncClient) -> None:
    response = await http.post("/only-get", content=b"x")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


async def test_head_has_the_headers_of_get_and_no_body(http: httpx.AsyncClient) -> None:
    got = await http.get("/hello")
    head = await http.head("/hello")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))


async def test_a_streamed_response_arrives_chunk_by_chunk(server: ThreadedServer, http: httpx.AsyncClient) -> None:
    async with http.stream("GET", "/stream") as response:
        assert response.status_code == 200
        chunks = response.aiter_raw()
        received = b""
        while not received.endswith(b"first\n"):
            received += await asyncio.wait_for(chunks.__anext__(), 5)
        # The first chunk is here while the generator still waits to produce the rest.
        assert received == b"first\n"
        server.app.release_stream.set()
        async for chunk in chunks:
            received += chunk
    assert received == b"first\nreleased\nlast\n"


async def test_a_streamed_upload_is_read_in_chunks(http: httpx.AsyncClient) -> None:
    payload = os.urandom(200 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 8192):
            yield payload[start : start + 8192]
            await asyncio.sleep(0)

    response = await http.post("/upload", content=body())  # chunked: no Content-Length
    assert response.status_code == 200
    result = response.json()
    assert result["bytes"] == len(payload)
    assert result["sha256"] == hashlib.sha256(payload).hexdigest()
    assert result["chunks"] > 1


async def test_an_upload_with_content_length_is_read_whole(http: httpx.AsyncClient) -> None:
    payload = os.urandom(100 * 1024)
    response = await http.post("/upload", content=payload)
    assert response.json()["bytes"] == len(payload)
    assert response.json()["sha256"] == hashlib.sha256(payload).hexdigest()


async def test_a_declared_body_over_max_content_length_gets_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/upload", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413


async def test_a_streamed_body_over_max_content_length_gets_413(http: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(LIMIT // 8192 + 2):
            yield b"y" * 8192

    response = await http.post("/upload", content=body())
    assert response.status_code == 413


async def test_after_a_413_the_rest_of_the_body_is_read_so_the_connection_serves_on(
    http: httpx.AsyncClient,
) -> None:
    # The server reads (and drops) what the client still sends after the
    # limit, a bounded amount, before answering: the client reads its 413
    # rather than a reset, and the connection stays open for the next request.
    async def body() -> AsyncIterator[bytes]:
        for _ in range(LIMIT // 8192 + 8):
            yield b"y" * 8192

    refused = await http.post("/upload", content=body())
    assert refused.status_code == 413
    refused_port = refused.extensions["network_stream"].get_extra_info("client_addr")[1]
    following = await http.get("/hello")
    assert following.status_code == 200
    assert following.extensions["network_stream"].get_extra_info("client_addr")[1] == refused_port


async def test_json_over_max_content_length_gets_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/echo", json={"big": "z" * LIMIT})
    assert response.status_code == 413


async def test_the_connection_is_reused_across_requests(http: httpx.AsyncClient) -> None:
    ports = set()
    for _ in range(5):
        response = await http.get("/hello")
        assert response.status_code == 200
        stream = response.extensions["network_stream"]
        ports.add(stream.get_extra_info("client_addr")[1])
    assert len(ports) == 1
