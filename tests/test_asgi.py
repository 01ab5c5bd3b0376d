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
from server_process import ServerProcess
from tls_server import free_port

from quaver import Quaver, request

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
        return [
            str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "leaveapp:app"
        ]
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


@pytest.mark.parametrize("served", ["hypercorn", "granian"], indirect=True)  # Uvicorn serves no HTTP/2
def test_a_client_leaving_an_http_2_request_cancels_the_waiting_handler(served: Served) -> None:
    """HTTP/2 gives no Content-Length for a GET: the watch takes the server's one
    (empty) body message and keeps it for the body's reader."""
    import h2.config
    import h2.connection

    token = served.token()
    with served.connect() as sock:  # prior knowledge: HTTP/2 from the first byte
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        connection.initiate_connection()
        connection.send_headers(
            1,
            [(":method", "GET"), (":path", f"/slow?token={token}"), (":scheme", "http"), (":authority", "test")],
            end_stream=True,
        )
        sock.sendall(connection.data_to_send())
        served.wait_for(token, "started")
    report = served.wait_for(token, "teardown")
    assert report["seen"] == ["started", "cancelled", "finally", "teardown CancelledError"]
    assert report["watchers"] == 0


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


async def test_a_test_client_disconnect_cancels_the_waiting_handler() -> None:
    app = Quaver(__name__)
    seen: list[str] = []

    @app.teardown_request
    async def teardown(error: BaseException | None) -> None:
        seen.append(f"teardown {type(error).__name__}")

    @app.post("/poll")
    async def poll() -> str:
        seen.append(f"read {len(await request.get_data())}")
        try:
            await asyncio.sleep(30)
        finally:
            seen.append("finally")
        return "too late"

    async with app.test_client().request("/poll", method="POST") as connection:
        await connection.send(b"abc")
        await connection.send_complete()
        while not seen:
            await asyncio.sleep(0.01)
        await connection.disconnect()
    assert seen == ["read 3", "finally", "teardown CancelledError"]
    assert connection.status_code is None  # nothing was sent
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


class _Server:
    """A scripted server side: ``receive`` gives the queued messages, then waits."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for message in messages:
            self.queue.put_nowait(message)
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return await self.queue.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("http_version", ["2", "3"])
async def test_an_http_2_body_in_parts_reaches_a_handler_that_waited_first(http_version: str) -> None:
    app = Quaver(__name__)

    @app.post("/")
    async def upload() -> bytes:
        await asyncio.sleep(0.05)  # the watch takes the first part meanwhile
        return await request.get_data()

    server = _Server(
        {"type": "http.request", "body": b"one,", "more_body": True},
        {"type": "http.request", "body": b"two,", "more_body": True},
    )
    scope = _scope("/", method="POST", http_version=http_version)
    serving = asyncio.create_task(app(scope, server.receive, server.send))
    await asyncio.sleep(0.1)
    server.queue.put_nowait({"type": "http.request", "body": b"three", "more_body": False})
    await asyncio.wait_for(serving, 2)
    assert server.sent[0]["status"] == 200
    assert server.body() == b"one,two,three"
    assert len(asyncio.all_tasks()) == 1


async def test_an_http_2_get_that_waited_still_reads_its_empty_body_and_streams() -> None:
    app = Quaver(__name__)

    @app.get("/")
    async def index() -> Any:
        await asyncio.sleep(0.05)
        data = await request.get_data()

        async def chunks() -> Any:
            yield b"body=" + data
            yield b";more"

        return chunks()

    server = _Server({"type": "http.request", "body": b"", "more_body": False})
    await asyncio.wait_for(app(_scope("/", http_version="2"), server.receive, server.send), 2)
    assert server.sent[0]["status"] == 200
    assert server.body() == b"body=;more"
    assert len(asyncio.all_tasks()) == 1


async def test_an_http_2_client_leaving_cancels_a_handler_that_has_not_read_its_body() -> None:
    app = Quaver(__name__)
    seen: list[str] = []

    @app.get("/")
    async def index() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "too late"

    server = _Server({"type": "http.request", "body": b"", "more_body": False})
    serving = asyncio.create_task(app(_scope("/", http_version="2"), server.receive, server.send))
    await asyncio.sleep(0.05)
    server.queue.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(serving, 2)
    assert seen == ["cancelled"]
    assert server.sent == []


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


async def _call(app: Quaver, scope: dict[str, Any], body: bytes = b"") -> list[dict[str, Any]]:
    """Serve one HTTP scope in process; return what the app sent."""
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 2)
    return sent


def _where_app() -> Quaver:
    app = Quaver(__name__)

    @app.route("/", defaults={"rest": ""})
    @app.route("/<path:rest>")
    async def where(rest: str) -> dict[str, Any]:
        return {
            "host": request.host,
            "host_header": request.headers.get("Host"),
            "path": request.path,
            "url": request.url,
            "script_root": request.script_root,
        }

    return app


async def _where(app: Quaver, scope: dict[str, Any]) -> tuple[int, Any]:
    import json

    sent = await _call(app, scope)
    return sent[0]["status"], json.loads(sent[1]["body"]) if sent[0]["status"] == 200 else None


# --- what reaches the request from the scope -------------------------------


async def test_an_http_1_0_request_without_host_takes_it_from_the_server() -> None:
    app = _where_app()
    status, seen = await _where(app, _scope("/", http_version="1.0", headers=[]))
    assert status == 200
    assert seen["host"] == seen["host_header"] == "127.0.0.1:8000"
    assert seen["url"] == "http://127.0.0.1:8000/"


async def test_an_http_1_0_request_without_host_or_server_has_an_empty_host() -> None:
    app = _where_app()
    status, seen = await _where(app, _scope("/", http_version="1.0", headers=[], server=None))
    assert (status, seen["host"], seen["host_header"]) == (200, "", "")


async def test_an_http_1_0_request_without_host_is_named_by_server_name() -> None:
    app = _where_app()
    app.config["SERVER_NAME"] = "quaver.example"
    status, seen = await _where(app, _scope("/", http_version="1.0", headers=[]))
    assert (status, seen["host"], seen["host_header"]) == (200, "quaver.example", "quaver.example")


async def test_an_http_1_0_request_keeps_the_host_it_sent() -> None:
    status, seen = await _where(_where_app(), _scope("/", http_version="1.0"))
    assert seen["host"] == seen["host_header"] == "example.com"


@pytest.mark.parametrize("target", ["http://quaver/path", "https://quaver:8443/path"])
async def test_an_absolute_form_target_gives_its_path_and_the_host_header(target: str) -> None:
    status, seen = await _where(_where_app(), _scope(target))
    assert status == 200
    assert seen["path"] == "/path"
    assert seen["host"] == "example.com"  # as in Quart, the Host header still names the host


@pytest.mark.parametrize(
    "path, expected",
    [("/app/", "/"), ("/app/2", "/2"), ("/app/a/b", "/a/b"), ("/app", "/ "), ("/", "/ "), ("/apple", "/ ")],
)
def test_the_path_under_a_root_path(path: str, expected: str) -> None:
    request_ = Quaver(__name__).request_class.from_scope(_scope(path, root_path="/app"))
    assert request_.path == expected
    assert request_.script_root == "/app"


@pytest.mark.parametrize("root_path", ["", "/"])
def test_an_empty_or_slash_root_path_leaves_the_path_alone(root_path: str) -> None:
    request_ = Quaver(__name__).request_class.from_scope(_scope("/a/b", root_path=root_path))
    assert (request_.path, request_.script_root) == ("/a/b", "")


async def test_a_root_path_gives_url_and_script_root_and_routes_under_it() -> None:
    app = Quaver(__name__)

    @app.get("/page")
    async def page() -> dict[str, str]:
        return {"path": request.path, "url": request.url, "script_root": request.script_root}

    sent = await _call(app, _scope("/mounted/page", root_path="/mounted"))
    assert sent[0]["status"] == 200
    import json

    assert json.loads(sent[1]["body"]) == {
        "path": "/page", "url": "http://example.com/mounted/page", "script_root": "/mounted",
    }
    # Not under the root path (or the root itself): nothing of this app, 404 as in Quart.
    assert (await _call(app, _scope("/page", root_path="/mounted")))[0]["status"] == 404
    assert (await _call(app, _scope("/mounted", root_path="/mounted")))[0]["status"] == 404


async def test_a_body_message_without_a_body_key_is_an_empty_body() -> None:
    app = Quaver(__name__)

    @app.post("/")
    async def echo() -> str:
        return repr(await request.get_data())

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(_scope("/", method="POST"), receive, send), 2)
    assert sent[1]["body"] == b"b''"


def test_the_request_keeps_the_whole_scope() -> None:
    scope = _scope("/", test_result="PASSED")
    assert Quaver(__name__).request_class.from_scope(scope).scope["test_result"] == "PASSED"


# --- websockets and the ASGI spec version ----------------------------------


def _ws_scope(
    spec: str | None, extensions: dict[str, Any] | None = None, path: str = "/ws", **extra: Any
) -> dict[str, Any]:
    scope = _scope(path, **extra)
    scope.update(type="websocket", scheme="ws", subprotocols=["chat", "v2"], extensions=extensions or {})
    del scope["method"]
    scope["asgi"] = {"version": "3.0"} if spec is None else {"version": "3.0", "spec_version": spec}
    return scope


async def _ws_call(app: Quaver, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(10)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 2)
    return sent


def _ws_app() -> Quaver:
    from quaver import websocket

    app = Quaver(__name__)

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept(headers={"X-Room": "lobby"}, subprotocol="v2")
        await websocket.close(4000, "done")

    @app.websocket("/denied")
    async def denied() -> Any:
        return "No entry", 401

    return app


@pytest.mark.parametrize("spec", ["2.1", "2.1.1", "2.3", "2.4"])
async def test_accept_sends_headers_and_subprotocol_from_asgi_2_1(spec: str) -> None:
    sent = await _ws_call(_ws_app(), _ws_scope(spec))
    assert sent[0] == {"type": "websocket.accept", "subprotocol": "v2", "headers": [(b"x-room", b"lobby")]}


@pytest.mark.parametrize("spec", [None, "2.0"])
async def test_accept_headers_are_not_sent_to_an_asgi_2_0_server_and_that_warns(spec: str | None) -> None:
    with pytest.warns(UserWarning, match="accept headers"):
        sent = await _ws_call(_ws_app(), _ws_scope(spec))
    assert sent[0] == {"type": "websocket.accept", "subprotocol": "v2", "headers": []}


async def test_accept_without_headers_does_not_warn_on_asgi_2_0() -> None:
    import warnings

    from quaver import websocket

    app = Quaver(__name__)

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept(subprotocol="chat")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sent = await _ws_call(app, _ws_scope("2.0"))
    assert sent[0] == {"type": "websocket.accept", "subprotocol": "chat", "headers": []}


@pytest.mark.parametrize(
    "spec, close",
    [
        ("2.1", {"type": "websocket.close", "code": 4000}),
        ("2.3", {"type": "websocket.close", "code": 4000, "reason": "done"}),
        ("2.4", {"type": "websocket.close", "code": 4000, "reason": "done"}),
    ],
)
async def test_the_close_reason_goes_only_to_an_asgi_2_3_server(spec: str, close: dict[str, Any]) -> None:
    sent = await _ws_call(_ws_app(), _ws_scope(spec))
    assert sent[-1] == close
    assert [m["type"] for m in sent].count("websocket.close") == 1


async def test_a_refusal_is_an_http_response_where_the_server_offers_it() -> None:
    sent = await _ws_call(_ws_app(), _ws_scope("2.4", {"websocket.http.response": {}}, path="/denied"))
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 401
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"No entry"
    assert sent[-1] == {"type": "websocket.http.response.body", "body": b"", "more_body": False}


@pytest.mark.parametrize("spec, close", [
    ("2.1", {"type": "websocket.close", "code": 1000}),
    ("2.3", {"type": "websocket.close", "code": 1000, "reason": ""}),
])
async def test_a_refusal_is_a_close_where_the_server_offers_no_http_response(spec: str, close: dict[str, Any]) -> None:
    sent = await _ws_call(_ws_app(), _ws_scope(spec, path="/denied"))
    assert sent == [close]  # the server answers the handshake with 403


# --- an exception escaping the app -----------------------------------------


def _failing_app(**config: Any) -> Quaver:
    app = Quaver(__name__)
    app.config.update(config)

    @app.get("/")
    async def index() -> str:
        raise ValueError("broken")

    return app


async def test_an_error_in_production_is_a_logged_500_and_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    sent = await _call(_failing_app(), _scope("/"))
    assert sent[0]["status"] == 500
    assert b"Traceback" not in sent[1]["body"]
    assert any("Exception on / [GET]" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("config", [{"TESTING": True}, {"PROPAGATE_EXCEPTIONS": True}])
async def test_a_propagated_error_sends_a_plain_500_and_is_raised_to_the_server(config: dict[str, Any]) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="broken"):
        await _failing_app(**config)(_scope("/"), receive, send)
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


async def test_a_propagated_error_in_debug_sends_the_traceback_page_and_is_raised() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="broken"):
        await _failing_app(DEBUG=True)(_scope("/"), receive, send)
    assert sent[0]["status"] == 500
    assert b"broken" in b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_websocket_to_no_route_is_refused_with_404_and_the_call_returns() -> None:
    sent = await _ws_call(Quaver(__name__), _ws_scope("2.4", {"websocket.http.response": {}}, path="/nowhere"))
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 404
    assert sent[-1]["more_body"] is False
