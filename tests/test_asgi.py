"""The ASGI adapter (``quaver/asgi.py``): what reaches the app from a scope,
and what the app sends back.

A client that goes away while a plain handler still waits cancels the
handler, on each real server; the scope's parts (HTTP/1.0 without a Host,
absolute-form targets, ``root_path``, the spec version) give the request and
the messages Quart gives for them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from quaver import Quaver, request
from server_process import ServerProcess
from tls_server import free_port

# --- a client leaving while the handler waits, on real servers ------------

APP = """\
import asyncio
import hashlib
import time

from quaver import Quaver, request

app = Quaver(__name__)
seen = {}  # token -> what happened to its request, in order


def note(what):
    seen.setdefault(request.args.get("token", ""), []).append(what)


def recording(asgi_app):
    async def app_(scope, receive, send):
        token = scope.get("query_string", b"").decode().partition("token=")[2]

        async def send_(message):
            if message["type"].startswith("http.response"):
                seen.setdefault(token, []).append("sent " + message["type"])
            await send(message)

        await asgi_app(scope, receive, send_)

    return app_


app.asgi_app = recording(app.asgi_app)


@app.teardown_request
async def teardown(error):
    if request.args.get("token"):
        note("teardown " + type(error).__name__)


@app.get("/slow")
async def slow():
    note("started")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        note("cancelled")
        raise
    finally:
        note("finally")
    return "too late"


@app.post("/read-then-slow")
async def read_then_slow():
    data = await request.get_data()
    note(f"read {len(data)}")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        note("cancelled")
        raise
    return "too late"


@app.post("/wait-then-read")
async def wait_then_read():
    await asyncio.sleep(0.2)  # the body is still arriving: nothing watches yet
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.body:
        digest.update(chunk)
        size += len(chunk)
    await asyncio.sleep(0.05)  # now the body is whole: watched
    return {"bytes": size, "sha256": digest.hexdigest()}


@app.get("/sync-slow")
def sync_slow():
    note("started")
    time.sleep(1)
    note("finished")
    return "too late"


@app.get("/report")
async def report():
    watchers = [
        task for task in asyncio.all_tasks() if "_wait_for_disconnect" in repr(task.get_coro())
    ]
    return {"seen": seen.get(request.args["of"], []), "watchers": len(watchers)}
"""

BIN = Path(sys.executable).parent


def command(kind: str, port: int) -> list[str]:
    if kind == "hypercorn":
        return [str(BIN / "hypercorn"), "--bind", f"127.0.0.1:{port}", "leaveapp:app"]
    if kind == "uvicorn":
        return [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "leaveapp:app"]
    return [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "leaveapp:app"]


class Served:
    def __init__(self, kind: str, process: ServerProcess, port: int) -> None:
        self.kind = kind
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.tokens = 0

    def token(self) -> str:
        self.tokens += 1
        return f"t{self.tokens}"

    def report(self, token: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/report", params={"of": token}, timeout=5)
        assert response.status_code == 200
        return response.json()

    def wait_for(self, token: str, what: str, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            report = self.report(token)
            if any(event.startswith(what) for event in report["seen"]):
                return report
            if time.monotonic() > deadline:
                raise AssertionError(f"{what!r} not seen on {self.kind} within {timeout}s: {report}")
            time.sleep(0.05)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


@pytest.fixture(scope="module", params=["hypercorn", "uvicorn", "granian"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp(request.param)
    (directory / "leaveapp.py").write_text(APP)
    port = free_port()
    env = {"PYTHONPATH": os.pathsep.join([str(directory), os.environ.get("PYTHONPATH", "")])}
    with ServerProcess(command(request.param, port), cwd=directory, env=env) as process:
        process.wait_until_serving(f"http://127.0.0.1:{port}/report?of=none")
        yield Served(request.param, process, port)
        process.stop(signal.SIGINT, timeout=10)
        assert "Traceback" not in process.stderr, process.stderr


def test_a_client_leaving_cancels_the_waiting_handler(served: Served) -> None:
    token = served.token()
    with served.connect() as sock:
        sock.sendall(f"GET /slow?token={token} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        served.wait_for(token, "started")
    report = served.wait_for(token, "teardown")
    assert report["seen"] == ["started", "cancelled", "finally", "teardown CancelledError"]
    assert report["watchers"] == 0  # no task left behind
    response = httpx.get(f"{served.url}/report", params={"of": token}, timeout=5)
    assert response.status_code == 200  # and the server goes on serving


def test_a_client_leaving_after_its_body_was_read_cancels_the_handler(served: Served) -> None:
    token = served.token()
    body = b"x" * 5000
    with served.connect() as sock:
        sock.sendall(
            f"POST /read-then-slow?token={token} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        served.wait_for(token, "read")
    report = served.wait_for(token, "teardown")
    assert report["seen"] == ["read 5000", "cancelled", "teardown CancelledError"]
    assert report["watchers"] == 0


def test_a_body_still_arriving_is_not_taken_from_a_waiting_handler(served: Served) -> None:
    import hashlib

    token = served.token()
    first, second = os.urandom(3000), os.urandom(4000)
    with served.connect() as sock:
        sock.sendall(
            f"POST /wait-then-read?token={token} HTTP/1.1\r\nHost: test\r\n"
            f"Content-Length: {len(first) + len(second)}\r\nConnection: close\r\n\r\n".encode()
            + first
        )
        time.sleep(0.5)  # the handler waits meanwhile, then reads what there is
        sock.sendall(second)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert httpx.Response(200, content=payload).json() == {
        "bytes": len(first) + len(second),
        "sha256": hashlib.sha256(first + second).hexdigest(),
    }
    assert served.report(token)["seen"] == [
        "sent http.response.start", "sent http.response.body", "teardown NoneType",
    ] or served.report(token)["seen"] == [
        "teardown NoneType", "sent http.response.start", "sent http.response.body",
    ]


def test_a_sync_view_runs_to_its_end_and_then_nothing_is_sent(served: Served) -> None:
    token = served.token()
    with served.connect() as sock:
        sock.sendall(f"GET /sync-slow?token={token} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        served.wait_for(token, "started")
    report = served.wait_for(token, "teardown")
    # The thread could not be stopped: teardown waited for it, and nothing went out.
    assert report["seen"] == ["started", "finished", "teardown CancelledError"]
    assert report["watchers"] == 0


# --- in process: no task for a handler that does not wait ------------------


async def test_a_handler_that_does_not_wait_runs_without_a_task() -> None:
    app = Quaver(__name__)

    @app.get("/now")
    async def now() -> dict[str, int]:
        return {"tasks": len(asyncio.all_tasks())}

    @app.get("/later")
    async def later() -> dict[str, int]:
        await asyncio.sleep(0)
        return {"tasks": len(asyncio.all_tasks())}

    client = app.test_client()
    assert (await (await client.get("/now")).get_json())["tasks"] == 1  # the test's own
    assert (await (await client.get("/later")).get_json())["tasks"] == 2  # the watch, once it waited
    assert len(asyncio.all_tasks()) == 1


async def test_a_handler_that_swallows_the_cancellation_still_sends_nothing() -> None:
    app = Quaver(__name__)
    release = asyncio.Event()

    @app.get("/")
    async def index() -> str:
        try:
            await release.wait()
        except asyncio.CancelledError:
            return "caught"
        return "released"

    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    serving = asyncio.create_task(app(_scope("/"), receive, send))
    await asyncio.sleep(0.01)
    gone.set()
    await asyncio.wait_for(serving, 2)
    assert sent == []
    assert not serving.cancelled()


def _scope(path: str, **extra: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    scope.update(extra)
    return scope
