"""Streaming both ways: request bodies read as they arrive, responses sent as
they are produced, through the test client and through a real server
(Uvicorn) with a real client (httpx): memory use of a large upload, chunk
timing, disconnects, RESPONSE_TIMEOUT and stream_with_context."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from quaver import Quaver, Response, request, stream_with_context

MiB = 1024 * 1024


@asynccontextmanager
async def uvicorn_serving(app: Quaver, port: int):
    """``app`` under Uvicorn in this event loop on 127.0.0.1:``port``; always stopped."""
    # log_config=None: Uvicorn's records reach the root logger, where ``caplog`` sees them.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert not task.done(), "Uvicorn stopped while starting"
            assert time.monotonic() < deadline, "Uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the server logged as errors (an exception escaping the app, say)."""
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def _tasks_settle(before: set[asyncio.Task], timeout: float = 5.0) -> set[asyncio.Task]:
    """Wait until every task started since ``before`` has finished; return those still running."""
    deadline = time.monotonic() + timeout
    while True:
        extra = {task for task in asyncio.all_tasks() - before if not task.done()}
        extra.discard(asyncio.current_task())
        if not extra or time.monotonic() > deadline:
            return extra
        await asyncio.sleep(0.02)


# --- request bodies ------------------------------------------------------------------


async def test_chunks_reach_the_view_while_the_upload_goes_on(app: Quaver, free_port: int) -> None:
    seen: list[bytes] = []
    first_seen = asyncio.Event()
    send_more = asyncio.Event()

    @app.post("/upload")
    async def upload():
        async for chunk in request.body:
            seen.append(chunk)
            first_seen.set()
        return {"total": sum(map(len, seen))}

    async def body():
        yield b"a" * 1000
        await send_more.wait()  # the rest only once the view has the first chunk
        yield b"b" * 1000

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        posting = asyncio.ensure_future(client.post(url + "/upload", content=body()))
        await asyncio.wait_for(first_seen.wait(), 5)
        assert b"".join(seen) == b"a" * 1000
        send_more.set()
        response = await asyncio.wait_for(posting, 5)
    assert response.json() == {"total": 2000}


async def test_streamed_upload_over_max_content_length_gets_413(app: Quaver, free_port: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 5000
    read: list[int] = []

    @app.post("/upload")
    async def upload():
        async for chunk in request.body:
            read.append(len(chunk))
        return "unreachable"

    async def body():
        for _ in range(10):
            yield b"z" * 1000

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        response = await client.post(url + "/upload", content=body())
    assert response.status_code == 413
    assert sum(read) <= 5000


async def test_slow_reader_holds_back_the_sender(app: Quaver, free_port: int) -> None:
    total = 64 * MiB
    sent = 0
    read = 0
    first_read = asyncio.Event()
    read_on = asyncio.Event()

    @app.post("/slow")
    async def slow():
        nonlocal read
        async for chunk in request.body:
            read += len(chunk)
            first_read.set()
            if not read_on.is_set():
                await read_on.wait()  # a reader that stops for a while
        return {"read": read}

    async def body():
        nonlocal sent
        block = b"b" * (64 * 1024)
        while sent < total:
            sent += len(block)
            yield block

    app.config["MAX_CONTENT_LENGTH"] = None
    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient(timeout=30) as client:
        posting = asyncio.ensure_future(client.post(url + "/slow", content=body()))
        await asyncio.wait_for(first_read.wait(), 5)
        await asyncio.sleep(1.0)  # the sender would push everything by now if nothing held it back
        held_at = sent
        read_on.set()
        response = await asyncio.wait_for(posting, 30)
    print(f"backpressure: the client got {held_at / MiB:.1f} MiB out while the view held one chunk")
    assert response.json() == {"read": total}
    assert held_at < total // 4, f"the client got {held_at} bytes out while the view read one chunk"


async def test_streamed_upload_that_stalls_gets_408(app: Quaver, free_port: int) -> None:
    app.config["BODY_TIMEOUT"] = 0.3
    read: list[int] = []

    @app.post("/upload")
    async def upload():
        async for chunk in request.body:
            read.append(len(chunk))
        return "unreachable"

    async with uvicorn_serving(app, free_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", free_port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"p" * 100)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
    assert status_line.split()[1] == b"408"
    assert sum(read) == 100


_UPLOAD_SERVER = textwrap.dedent(
    """
    import asyncio, hashlib, sys
    import uvicorn
    from quaver import Quaver, request

    app = Quaver(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None

    @app.post("/raw")
    async def raw():
        digest, size = hashlib.sha256(), 0
        async for chunk in request.body:
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest()}

    @app.post("/form")
    async def form():
        upload = (await request.files)["upload"]
        await upload.save(sys.argv[2])
        digest = hashlib.sha256()
        with open(sys.argv[2], "rb") as saved:
            for block in iter(lambda: saved.read(1 << 20), b""):
                digest.update(block)
        return {"name": (await request.form)["name"], "filename": upload.filename, "sha256": digest.hexdigest()}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
    """
)


def _block(number: int) -> bytes:
    return hashlib.sha256(str(number).encode()).digest() * 2048  # 64 KiB that differ block to block


def _vm(pid: int, field: str) -> int:
    """A memory figure of process ``pid`` from /proc, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def upload_server(tmp_path: Path, free_port: int):
    """A Quaver app under Uvicorn in its own process (to measure its memory); always stopped."""
    script = tmp_path / "upload_server.py"
    script.write_text(_UPLOAD_SERVER)
    spool = tmp_path / "spool"
    spool.mkdir()
    saved = tmp_path / "saved.bin"
    env = {**os.environ, "TMPDIR": str(spool)}
    server = subprocess.Popen(
        [sys.executable, str(script), str(free_port), str(saved)],
        env=env,
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
                assert time.monotonic() < deadline, "the upload server did not start"
                time.sleep(0.05)
        yield server.pid, f"http://127.0.0.1:{free_port}", saved, spool
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        server.stdout.close()


def test_100_mib_upload_streamed_to_a_view_grows_server_memory_by_less_than_50_mib(upload_server) -> None:
    pid, url, _, _ = upload_server
    blocks = 100 * MiB // len(_block(0))
    expected = hashlib.sha256()
    for number in range(blocks):
        expected.update(_block(number))
    with httpx.Client(timeout=120) as client:
        warm = client.post(url + "/raw", content=b"warm-up")
        assert warm.json()["size"] == 7
        baseline = _vm(pid, "VmRSS")
        response = client.post(url + "/raw", content=(_block(number) for number in range(blocks)))
        peak = _vm(pid, "VmHWM")
    assert response.json() == {"size": 100 * MiB, "sha256": expected.hexdigest()}
    growth = peak - baseline
    print(
        f"raw upload: baseline RSS {baseline / MiB:.1f} MiB, peak {peak / MiB:.1f} MiB, growth {growth / MiB:.1f} MiB"
    )
    assert growth < 50 * MiB


def test_100_mib_file_in_a_multipart_form_spools_to_disk_not_memory(upload_server) -> None:
    pid, url, saved, _ = upload_server
    boundary = "quaver-test-boundary"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbig one\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"big.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    blocks = 100 * MiB // len(_block(0))
    expected = hashlib.sha256()
    for number in range(blocks):
        expected.update(_block(number))

    def body():
        yield head
        for number in range(blocks):
            yield _block(number)
        yield tail

    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + 100 * MiB + len(tail)),
    }
    with httpx.Client(timeout=120) as client:
        warm = client.post(url + "/form", files={"upload": ("w.bin", b"warm")}, data={"name": "w"})
        assert warm.status_code == 200
        baseline = _vm(pid, "VmRSS")
        response = client.post(url + "/form", content=body(), headers=headers)
        peak = _vm(pid, "VmHWM")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "big one", "filename": "big.bin", "sha256": expected.hexdigest()}
    assert saved.stat().st_size == 100 * MiB
    growth = peak - baseline
    print(
        f"form upload: baseline RSS {baseline / MiB:.1f} MiB, peak {peak / MiB:.1f} MiB, growth {growth / MiB:.1f} MiB"
    )
    assert growth < 50 * MiB


# --- streamed responses ----------------------------------------------------------------


async def test_first_chunk_arrives_before_the_last_is_produced(app: Quaver, free_port: int) -> None:
    produce_last = asyncio.Event()

    @app.get("/stream")
    async def stream():
        async def generate():
            yield b"first"
            await produce_last.wait()
            yield b"last"

        return generate(), {"Content-Type": "text/plain"}

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        async with client.stream("GET", url + "/stream") as response:
            chunks = response.aiter_raw()
            first = await asyncio.wait_for(chunks.__anext__(), 5)
            assert first == b"first"
            assert not produce_last.is_set()
            produce_last.set()
            rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"last"
    assert response.headers.get("transfer-encoding") == "chunked"


async def test_sync_generator_streams_each_chunk_as_it_is_made(app: Quaver, free_port: int) -> None:
    produce_last = threading.Event()

    @app.get("/stream")
    def stream():
        def generate():
            yield "first"
            produce_last.wait(10)
            yield "last"

        return generate()

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        async with client.stream("GET", url + "/stream") as response:
            chunks = response.aiter_raw()
            assert await asyncio.wait_for(chunks.__anext__(), 5) == b"first"
            produce_last.set()
            assert b"".join([chunk async for chunk in chunks]) == b"last"


async def test_client_leaving_mid_stream_closes_the_generator_and_leaves_no_task(
    app: Quaver, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    closed = asyncio.Event()
    streaming_tasks: list[asyncio.Task] = []

    @app.get("/forever")
    async def forever():
        async def generate():
            streaming_tasks.append(asyncio.current_task())
            try:
                while True:
                    yield b"tick\n"
                    await asyncio.sleep(0.01)
            finally:
                closed.set()

        return generate()

    async with uvicorn_serving(app, free_port) as url:
        before = asyncio.all_tasks()
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", url + "/forever") as response:
                async for chunk in response.aiter_raw():
                    assert chunk.startswith(b"tick")
                    break  # leave: closing the response closes the connection
        await asyncio.wait_for(closed.wait(), 5)
        assert await _tasks_settle(before) == set()
        assert streaming_tasks and streaming_tasks[0].done()
    assert server_errors(caplog) == []


async def test_client_leaving_cancels_a_stream_that_waits_forever(
    app: Quaver, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = asyncio.Event()
    finished = asyncio.Event()

    @app.get("/wait")
    async def wait():
        async def generate():
            try:
                yield b"waiting\n"
                await asyncio.Event().wait()  # nothing will ever set it: only cancellation ends this
                yield b"never"
            except asyncio.CancelledError:
                cancelled.set()
                raise
            finally:
                finished.set()

        return generate()

    async with uvicorn_serving(app, free_port) as url:
        before = asyncio.all_tasks()
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", url + "/wait") as response:
                async for chunk in response.aiter_raw():
                    assert chunk == b"waiting\n"
                    break
        await asyncio.wait_for(finished.wait(), 5)
        assert cancelled.is_set()
        assert await _tasks_settle(before) == set()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("view_kind", ["sync view", "async view"])
async def test_client_leaving_closes_a_sync_generator(
    app: Quaver, free_port: int, caplog: pytest.LogCaptureFixture, view_kind: str
) -> None:
    closed = threading.Event()

    def generate():
        try:
            while True:
                yield b"tick\n"
                time.sleep(0.01)
        finally:
            closed.set()

    if view_kind == "sync view":
        app.get("/forever")(lambda: generate())
    else:

        @app.get("/forever")
        async def forever():
            return Response(generate())

    async with uvicorn_serving(app, free_port) as url:
        before = asyncio.all_tasks()
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", url + "/forever") as response:
                async for _ in response.aiter_raw():
                    break
        assert await asyncio.to_thread(closed.wait, 5)
        assert await _tasks_settle(before) == set()
    assert server_errors(caplog) == []


async def test_streamed_echo_reads_the_request_body_while_it_responds(app: Quaver, free_port: int) -> None:
    @app.post("/echo")
    async def echo():
        @stream_with_context
        async def generate():
            async for chunk in request.body:
                yield chunk.upper()

        return generate()

    async def body():
        for word in (b"one ", b"two ", b"three"):
            yield word

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        response = await client.post(url + "/echo", content=body())
    assert response.content == b"ONE TWO THREE"


async def test_stream_longer_than_response_timeout_is_cut_off(app: Quaver, free_port: int) -> None:
    closed = asyncio.Event()

    @app.get("/slow")
    async def slow():
        async def generate():
            try:
                while True:
                    yield b"."
                    await asyncio.sleep(0.02)
            finally:
                closed.set()

        response = Response(generate())
        response.timeout = 0.3
        return response

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):  # the body ends without its last chunk
            await client.get(url + "/slow")
        assert time.monotonic() - started < 5
        await asyncio.wait_for(closed.wait(), 5)


async def test_response_timeout_none_lets_a_stream_outlast_the_config(app: Quaver, client) -> None:
    app.config["RESPONSE_TIMEOUT"] = 0.05

    @app.get("/slow")
    async def slow():
        async def generate():
            for _ in range(5):
                await asyncio.sleep(0.03)
                yield b"."

        response = Response(generate())
        response.timeout = None
        return response

    response = await client.get("/slow")
    assert await response.get_data() == b"....."


async def test_response_timeout_from_config_applies_by_default(app: Quaver, client) -> None:
    app.config["RESPONSE_TIMEOUT"] = 0.1

    @app.get("/slow")
    async def slow():
        async def generate():
            yield b"start"
            await asyncio.sleep(5)
            yield b"never"

        return generate()

    started = time.monotonic()
    response = await client.get("/slow")
    assert time.monotonic() - started < 2
    assert await response.get_data() == b"start"


async def test_any_iterable_body_streams(app: Quaver, client) -> None:
    class Countdown:
        def __init__(self, start: int) -> None:
            self.number = start

        def __aiter__(self):
            return self

        async def __anext__(self) -> str:
            if self.number == 0:
                raise StopAsyncIteration
            self.number -= 1
            return f"{self.number + 1} "

    @app.get("/async-iterable")
    async def async_iterable():
        return Response(Countdown(3))

    @app.get("/iterator")
    async def iterator():
        return Response(iter([b"a", "b", bytearray(b"c")]))

    @app.get("/generator-expression")
    async def generator_expression():
        return Response(str(n) for n in range(4))

    assert await (await client.get("/async-iterable")).get_data() == b"3 2 1 "
    assert await (await client.get("/iterator")).get_data() == b"abc"
    assert await (await client.get("/generator-expression")).get_data() == b"0123"


async def test_head_of_a_streamed_response_closes_the_generator_unread(app: Quaver, client) -> None:
    steps: list[str] = []

    @app.get("/stream")
    async def stream():
        async def generate():
            steps.append("started")
            yield b"body"

        return generate()

    response = await client.head("/stream")
    assert response.status_code == 200
    assert await response.get_data() == b""
    assert steps == []


# --- stream_with_context -----------------------------------------------------------------


async def test_stream_with_context_keeps_request_in_an_async_generator(app: Quaver, client) -> None:
    @app.get("/hello")
    async def hello():
        @stream_with_context
        async def generate():
            yield "Hello "
            yield request.args["name"]

        return generate()

    response = await client.get("/hello?name=Ada")
    assert await response.get_data() == b"Hello Ada"


async def test_stream_with_context_on_a_sync_generator_object(app: Quaver, client) -> None:
    @app.get("/hello")
    def hello():
        def generate():
            yield "path="
            yield request.path

        return stream_with_context(generate())

    response = await client.get("/hello")
    assert await response.get_data() == b"path=/hello"


async def test_without_stream_with_context_request_is_gone_in_the_generator(app: Quaver, client) -> None:
    seen: list[str] = []

    @app.get("/")
    async def index():
        async def generate():
            try:
                _ = request.path  # reading it is what raises
            except RuntimeError:
                seen.append("no request")
            yield b"done"

        return generate()

    response = await client.get("/")
    assert await response.get_data() == b"done"
    assert seen == ["no request"]


async def test_stream_with_context_outside_a_request_raises() -> None:
    async def generate():
        yield b""

    with pytest.raises(RuntimeError):
        stream_with_context(generate())


async def test_closing_a_stream_with_context_closes_the_inner_generator(app: Quaver) -> None:
    closed: list[bool] = []

    async def inner():
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    async with app.test_request_context("/"):
        outer = stream_with_context(inner())
    assert await outer.__anext__() == b"a"
    await outer.aclose()
    assert closed == [True]


# --- through the test client's streaming connection ----------------------------------------


async def test_disconnect_from_the_test_client_closes_the_stream(app: Quaver, client) -> None:
    closed = asyncio.Event()

    @app.get("/forever")
    async def forever():
        async def generate():
            try:
                while True:
                    yield b"x"
                    await asyncio.sleep(0.01)
            finally:
                closed.set()

        return generate()

    async with client.request("/forever") as connection:
        await connection.send_complete()
        assert await asyncio.wait_for(connection.receive(), 5) == b"x"
        await connection.disconnect()
        await asyncio.wait_for(closed.wait(), 5)


async def test_server_reporting_the_client_gone_ends_the_stream_quietly(app: Quaver) -> None:
    closed = asyncio.Event()

    @app.get("/forever")
    async def forever():
        async def generate():
            try:
                while True:
                    yield b"x"
                    await asyncio.sleep(0)
            finally:
                closed.set()

        return generate()

    sent: list[dict] = []

    async def receive():
        await asyncio.Event().wait()  # this server never says 'disconnect': its send raises instead

    async def send(message):
        if len(sent) == 3:
            raise OSError("client disconnected")  # as an ASGI 2.4 server may
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/forever", "query_string": b"", "headers": [(b"host", b"x")]}
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert closed.is_set()
    assert [message["type"] for message in sent] == ["http.response.start"] + ["http.response.body"] * 2
