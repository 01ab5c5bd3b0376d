"""The bad-input table (docs/bad-input.md): what a client sending bad input gets.

Every row goes through a real server (Hypercorn and Uvicorn, each serving
one app from a thread for the whole module) and a real client: httpx, or a
raw socket where httpx will not send the input. Where the test client can
express the input, the same row runs through ``app.test_client()`` too and
must give the same status.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner
from threaded_server import ThreadedServer

from quaver import Quaver, make_response, redirect, request, send_from_directory, session

KINDS = ("hypercorn", "uvicorn")
TARGETS = (*KINDS, "test_client")

MAX_CONTENT_LENGTH = 200_000
MAX_FORM_PARTS = 10
MAX_FORM_MEMORY_SIZE = 1_000
BODY_TIMEOUT = 0.5
SECRET_KEY = "the key this app signs with"
SECRET_FILE_TEXT = "the secret next to the public folder"


# --- the app ------------------------------------------------------------------
def make_app(public: Path) -> Quaver:
    app = Quaver(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        MAX_FORM_PARTS=MAX_FORM_PARTS,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_MEMORY_SIZE,
        BODY_TIMEOUT=BODY_TIMEOUT,
        SECRET_KEY=SECRET_KEY,
        TRUSTED_HOSTS=["127.0.0.1", "localhost"],
    )

    @app.post("/json")
    async def json_view():
        data = await request.get_json()
        return {"type": type(data).__name__}

    @app.post("/json/silent")
    async def json_silent():
        return {"data": await request.get_json(silent=True)}

    @app.post("/json/force")
    async def json_force():
        return {"data": await request.get_json(force=True)}

    @app.get("/args")
    async def args():
        return {"args": request.args.to_dict()}

    @app.post("/form")
    async def form():
        fields = await request.form
        files = await request.files
        return {"form": fields.to_dict(), "files": sorted(files)}

    @app.post("/data")
    async def data():
        return {"size": len(await request.get_data())}

    @app.post("/stream")
    async def stream():
        size = 0
        async for chunk in request.body:
            size += len(chunk)
        return {"size": size}

    @app.get("/files/<path:name>")
    async def files(name):
        return await send_from_directory(public, name)

    @app.get("/file")
    async def file():
        return await send_from_directory(public, request.args["name"])

    @app.get("/session")
    async def session_keys():
        return {"keys": sorted(session.keys())}

    @app.get("/redirect")
    async def go():
        return redirect(request.args["to"])

    @app.get("/cookie")
    async def cookie():
        response = await make_response("cookie set")
        options = request.args.to_dict()
        key = options.pop("key", "k")
        value = options.pop("value", "v")
        response.set_cookie(key, value, **options)
        return response

    @app.route("/resource", methods=["GET", "POST"])
    async def resource():
        return "resource"

    return app


@pytest.fixture(scope="module")
def public_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "secret.txt").write_text(SECRET_FILE_TEXT)
    public = root / "public"
    public.mkdir()
    (public / "hello.txt").write_text("hello")
    return public


@pytest.fixture(scope="module")
def bad_input_app(public_dir: Path) -> Quaver:
    return make_app(public_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def servers(bad_input_app: Quaver) -> Iterator[dict[str, ThreadedServer]]:
    """Hypercorn and Uvicorn serving the app, each started when first asked for."""
    started: dict[str, ThreadedServer] = {}

    class Lazy(dict):
        def __missing__(self, kind: str) -> ThreadedServer:
            server = ThreadedServer(kind, bad_input_app, _free_port())
            server.start()
            started[kind] = self[kind] = server
            return server

    try:
        yield Lazy()
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=KINDS)
def server(request: pytest.FixtureRequest, servers: dict[str, ThreadedServer]) -> ThreadedServer:
    return servers[request.param]


# --- talking to a server or to the test client ---------------------------------
@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def headers_named(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Target:
    """Sends a request through a real server with httpx, or through the test client."""

    kind: str
    app: Quaver
    server: ThreadedServer | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes = b"",
        chunked: bool = False,
    ) -> Answer:
        """``chunked`` sends ``content`` in pieces without a Content-Length."""
        headers = dict(headers or {})
        if self.server is not None:
            async def pieces() -> AsyncIterator[bytes]:
                for start in range(0, len(content), 16_384):
                    yield content[start : start + 16_384]

            async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as client:
                response = await client.request(
                    method, path, headers=headers, content=pieces() if chunked else (content or None)
                )
            if chunked:
                assert "content-length" not in response.request.headers
                assert response.request.headers["transfer-encoding"] == "chunked"
            return Answer(response.status_code, list(response.headers.multi_items()), response.content)
        client = self.app.test_client()
        if chunked:
            headers.setdefault("Transfer-Encoding", "chunked")
            async with client.request(path, method=method, headers=headers) as connection:
                for start in range(0, len(content), 16_384):
                    await connection.send(content[start : start + 16_384])
                await connection.send_complete()
            response = await connection.as_response()
        else:
            response = await client.open(path, method=method, headers=headers, data=content or None)
        return Answer(response.status_code, list(response.headers.items()), await response.get_data())


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, servers: dict[str, ThreadedServer], bad_input_app: Quaver) -> Target:
    if request.param == "test_client":
        return Target("test_client", bad_input_app)
    return Target(request.param, bad_input_app, servers[request.param])


def raw_exchange(server: ThreadedServer, data: bytes, timeout: float = 10) -> Answer:
    """Send ``data`` as it is on a fresh connection; read until the server closes it
    (or the response announced by Content-Length is complete)."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if match and len(body) >= int(match.group(1)):
                    break
    return parse_answer(received)


def parse_answer(received: bytes) -> Answer:
    assert received, "the server closed the connection without answering"
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Answer(status, headers, body)  # type: ignore[arg-type]


def request_bytes(method: str, target_path: bytes, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [method.encode() + b" " + target_path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    for key, value in (headers or {}).items():
        lines.append(f"{key}: {value}".encode("latin-1"))
    if body and not any(key.lower() in ("content-length", "transfer-encoding") for key in headers or {}):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def multipart(*parts: tuple[str, bytes], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, value in parts:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


JSON = {"Content-Type": "application/json"}
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


def multipart_type(boundary: str = "b0undary") -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# --- JSON ----------------------------------------------------------------------
async def test_valid_json_is_parsed(target: Target) -> None:
    answer = await target.request("POST", "/json", headers=JSON, content=b'{"a": 1}')
    assert answer.status == 200
    assert answer.json() == {"type": "dict"}


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"a": }', b"[1, 2", b"\xff\xfe{", b""],
    ids=["unclosed", "missing-value", "unclosed-list", "invalid-utf8", "empty"],
)
async def test_malformed_json_gets_400(target: Target, body: bytes) -> None:
    answer = await target.request("POST", "/json", headers=JSON, content=body)
    assert answer.status == 400
    assert b"Bad Request" in answer.body


async def test_deeply_nested_json_gets_400(target: Target) -> None:
    answer = await target.request("POST", "/json", headers=JSON, content=b"[" * 100_000 + b"]" * 100_000)
    assert answer.status == 400
    assert b"Bad Request" in answer.body


async def test_json_number_too_long_to_convert_gets_400(target: Target) -> None:
    answer = await target.request("POST", "/json", headers=JSON, content=b"1" + b"0" * 10_000)
    assert answer.status == 400
    assert b"Bad Request" in answer.body


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_json_with_wrong_content_type_gets_415(target: Target, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await target.request("POST", "/json", headers=headers, content=b'{"a": 1}')
    assert answer.status == 415
    assert b"Unsupported Media Type" in answer.body


async def test_json_silent_gives_none_for_wrong_type_and_malformed_body(target: Target) -> None:
    wrong_type = await target.request("POST", "/json/silent", headers={"Content-Type": "text/plain"}, content=b"[1]")
    malformed = await target.request("POST", "/json/silent", headers=JSON, content=b"[1")
    good = await target.request("POST", "/json/silent", headers=JSON, content=b"[1]")
    assert (wrong_type.status, wrong_type.json()) == (200, {"data": None})
    assert (malformed.status, malformed.json()) == (200, {"data": None})
    assert (good.status, good.json()) == (200, {"data": [1]})


async def test_json_force_parses_any_content_type(target: Target) -> None:
    forced = await target.request("POST", "/json/force", headers={"Content-Type": "text/plain"}, content=b'{"a": 1}')
    broken = await target.request("POST", "/json/force", headers={"Content-Type": "text/plain"}, content=b"{")
    assert (forced.status, forced.json()) == (200, {"data": {"a": 1}})
    assert broken.status == 400


# --- invalid UTF-8 -------------------------------------------------------------
async def test_invalid_utf8_in_urlencoded_form_stays_percent_encoded(target: Target) -> None:
    body = b"a=%FF%FE&b=\xff&n%FF=1&ok=caf%C3%A9+au+lait"
    answer = await target.request("POST", "/form", headers=URLENCODED, content=body)
    assert answer.status == 200
    assert answer.json()["form"] == {"a": "%FF%FE", "b": "%FF", "n%FF": "1", "ok": "café au lait"}


async def test_invalid_utf8_in_multipart_field_becomes_replacement_characters(target: Target) -> None:
    body = multipart(("a", b"\xff\xfe"), ("ok", "café".encode()))
    answer = await target.request("POST", "/form", headers=multipart_type(), content=body)
    assert answer.status == 200
    assert answer.json()["form"] == {"a": "\ufffd\ufffd", "ok": "café"}


async def test_percent_encoded_invalid_utf8_in_query_stays_percent_encoded(target: Target) -> None:
    answer = await target.request("GET", "/args?a=%FF%FE&ok=caf%C3%A9")
    assert answer.status == 200
    assert answer.json() == {"args": {"a": "%FF%FE", "ok": "café"}}


async def test_raw_invalid_utf8_in_query_is_refused_by_the_server(server: ThreadedServer) -> None:
    answer = raw_exchange(server, request_bytes("GET", b"/args?a=\xff\xfe&ok=1"))
    # Both servers refuse bytes outside ASCII in the request line themselves.
    assert answer.status == 400


async def test_raw_invalid_utf8_in_query_through_test_client(bad_input_app: Quaver) -> None:
    response = await bad_input_app.test_client().get("/args", query_string=b"a=\xff\xfe&ok=1")
    assert response.status_code == 200
    assert await response.get_json() == {"args": {"a": "%FF%FE", "ok": "1"}}


# --- malformed multipart -------------------------------------------------------
async def test_multipart_without_boundary_parameter_gets_400(target: Target) -> None:
    body = multipart(("a", b"1"))
    answer = await target.request("POST", "/form", headers={"Content-Type": "multipart/form-data"}, content=body)
    assert answer.status == 400
    assert b"boundary" in answer.body


async def test_multipart_with_other_boundary_than_declared_gets_400(target: Target) -> None:
    body = multipart(("a", b"1"), boundary="not-the-declared-one")
    answer = await target.request("POST", "/form", headers=multipart_type("b0undary"), content=body)
    assert answer.status == 400


@pytest.mark.parametrize("cut", [10, 60, -5], ids=["in-first-delimiter", "in-part", "before-end"])
async def test_truncated_multipart_gets_400(target: Target, cut: int) -> None:
    body = multipart(("a", b"x" * 40), ("b", b"2"))[:cut]
    answer = await target.request("POST", "/form", headers=multipart_type(), content=body)
    assert answer.status == 400


async def test_multipart_with_broken_part_headers_gets_400(target: Target) -> None:
    body = b"--b0undary\r\nno colon in this header line\r\n\r\n1\r\n--b0undary--\r\n"
    answer = await target.request("POST", "/form", headers=multipart_type(), content=body)
    assert answer.status == 400


async def test_wellformed_multipart_is_parsed(target: Target) -> None:
    answer = await target.request("POST", "/form", headers=multipart_type(), content=multipart(("a", b"1")))
    assert answer.status == 200
    assert answer.json()["form"] == {"a": "1"}


# --- sizes ---------------------------------------------------------------------
BIG = b"x" * (MAX_CONTENT_LENGTH + 10_000)
BIG_UPLOAD = (
    b'--b0undary\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n'
    + BIG
    + b"\r\n--b0undary--\r\n"
)


@pytest.mark.parametrize("path", ["/data", "/stream", "/form"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_max_content_length_gets_413(target: Target, path: str, chunked: bool) -> None:
    # The form is a file upload: files are not bound by MAX_FORM_MEMORY_SIZE, only by MAX_CONTENT_LENGTH.
    body = BIG_UPLOAD if path == "/form" else BIG
    headers = multipart_type() if path == "/form" else URLENCODED
    answer = await target.request("POST", path, headers=headers, content=body, chunked=chunked)
    assert answer.status == 413
    assert b"Request Entity Too Large" in answer.body


@pytest.mark.parametrize("path", ["/data", "/stream", "/form"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_at_max_content_length_is_read(target: Target, path: str, chunked: bool) -> None:
    body = b"a=" + b"x" * (MAX_CONTENT_LENGTH - 2)
    if path == "/form":
        body = b"&".join([b"a=" + b"x" * 500] * 5)
    answer = await target.request("POST", path, headers=URLENCODED, content=body, chunked=chunked)
    assert answer.status == 200


@pytest.mark.parametrize("kind", ["urlencoded", "multipart"])
async def test_too_many_form_parts_gets_413(target: Target, kind: str) -> None:
    count = MAX_FORM_PARTS + 1
    if kind == "urlencoded":
        headers, body = URLENCODED, b"&".join(b"f%d=1" % i for i in range(count))
    else:
        headers, body = multipart_type(), multipart(*((f"f{i}", b"1") for i in range(count)))
    answer = await target.request("POST", "/form", headers=headers, content=body)
    assert answer.status == 413
    if kind == "urlencoded":
        fewer = body.rpartition(b"&")[0]
    else:
        fewer = multipart(*((f"f{i}", b"1") for i in range(count - 1)))
    assert (await target.request("POST", "/form", headers=headers, content=fewer)).status == 200


@pytest.mark.parametrize("kind", ["urlencoded", "multipart"])
async def test_form_field_over_max_form_memory_size_gets_413(target: Target, kind: str) -> None:
    value = b"v" * (MAX_FORM_MEMORY_SIZE + 1)
    if kind == "urlencoded":
        headers, body = URLENCODED, b"a=" + value
    else:
        headers, body = multipart_type(), multipart(("a", value))
    answer = await target.request("POST", "/form", headers=headers, content=body)
    assert answer.status == 413


# --- a body that stalls -----------------------------------------------------------
@pytest.mark.parametrize("path", ["/data", "/stream", "/form"])
async def test_body_that_stalls_gets_408(server: ThreadedServer, path: str) -> None:
    head = request_bytes("POST", path.encode(), {**URLENCODED, "Content-Length": "1000"}, b"a=" + b"1" * 98)
    started = time.monotonic()
    answer = raw_exchange(server, head, timeout=10)
    assert answer.status == 408
    assert time.monotonic() - started >= BODY_TIMEOUT


async def test_body_that_stalls_gets_408_through_test_client(bad_input_app: Quaver) -> None:
    client = bad_input_app.test_client()
    async with client.request("/data", method="POST", headers={"Content-Length": "1000"}) as connection:
        await connection.send(b"x" * 100)  # and nothing more
    response = await connection.as_response()
    assert response.status_code == 408


# --- paths that escape send_from_directory ----------------------------------------
async def test_file_inside_the_directory_is_served(target: Target) -> None:
    by_path = await target.request("GET", "/files/hello.txt")
    by_arg = await target.request("GET", "/file?name=hello.txt")
    assert (by_path.status, by_path.body) == (200, b"hello")
    assert (by_arg.status, by_arg.body) == (200, b"hello")


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/files/../secret.txt",
        b"/files/%2e%2e/secret.txt",
        b"/files/%2E%2E%2Fsecret.txt",
        b"/files/..%5Csecret.txt",
        b"/files/hello.txt%00",
        b"/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
async def test_path_escaping_send_from_directory_in_url_gets_404(server: ThreadedServer, raw_path: bytes) -> None:
    answer = raw_exchange(server, request_bytes("GET", raw_path))
    assert answer.status == 404
    assert SECRET_FILE_TEXT.encode() not in answer.body
    assert b"root:" not in answer.body


@pytest.mark.parametrize("raw_path", [b"/files//etc/passwd", b"/files/%2Fetc%2Fpasswd"])
async def test_absolute_path_in_url_is_redirected_inside_the_directory(server: ThreadedServer, raw_path: bytes) -> None:
    # Werkzeug's routing merges the slashes (308), as in Flask; what it points to is inside the directory.
    answer = raw_exchange(server, request_bytes("GET", raw_path))
    assert answer.status == 308
    assert (answer.header("Location") or "").endswith("/files/etc/passwd")
    assert raw_exchange(server, request_bytes("GET", b"/files/etc/passwd")).status == 404


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt", "%2e%2e/secret.txt", "/etc/passwd", "..\\secret.txt", "hello.txt\x00", "sub/../../secret.txt",
        "..",
    ],
)
async def test_path_escaping_send_from_directory_as_argument_gets_404(target: Target, name: str) -> None:
    answer = await target.request("GET", "/file?" + str(httpx.QueryParams({"name": name})))
    assert answer.status == 404
    assert SECRET_FILE_TEXT.encode() not in answer.body
    assert b"root:" not in answer.body


async def test_dot_dot_path_through_test_client_gets_404(bad_input_app: Quaver) -> None:
    response = await bad_input_app.test_client().get("/files/../secret.txt")
    assert response.status_code == 404


# --- session cookies --------------------------------------------------------------
def signed_session(app: Quaver, data: dict[str, Any], secret_key: str = SECRET_KEY, age: float = 0) -> str:
    """A session cookie value as the app would set it, signed with ``secret_key``
    and dated ``age`` seconds ago."""

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    other = Quaver("other")
    other.config["SECRET_KEY"] = secret_key
    serializer = app.session_interface.get_signing_serializer(other)
    serializer.signer = Dated
    return serializer.dumps(data)


def tampered(value: str) -> str:
    payload, _, rest = value.partition(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return flipped + "." + rest


async def test_valid_session_cookie_is_read(target: Target) -> None:
    cookie = signed_session(target.app, {"user": "admin"})
    answer = await target.request("GET", "/session", headers={"Cookie": f"session={cookie}"})
    assert answer.status == 200
    assert answer.json() == {"keys": ["user"]}


@pytest.mark.parametrize("kind", ["tampered", "expired", "foreign-key", "garbage", "empty"])
async def test_bad_session_cookie_gives_empty_session(target: Target, kind: str) -> None:
    lifetime = target.app.permanent_session_lifetime.total_seconds()
    cookie = {
        "tampered": lambda: tampered(signed_session(target.app, {"user": "admin"})),
        "expired": lambda: signed_session(target.app, {"user": "admin"}, age=lifetime + 60),
        "foreign-key": lambda: signed_session(target.app, {"user": "admin"}, secret_key="someone else's key"),
        "garbage": lambda: "not.a.signed%20value\\",
        "empty": lambda: "",
    }[kind]()
    answer = await target.request("GET", "/session", headers={"Cookie": f"session={cookie}"})
    assert answer.status == 200
    assert answer.json() == {"keys": []}
    assert answer.headers_named("Set-Cookie") == []


# --- hosts, methods, paths ---------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil:80"])
async def test_host_not_in_trusted_hosts_gets_400(target: Target, host: str) -> None:
    answer = await target.request("GET", "/resource", headers={"Host": host})
    assert answer.status == 400
    assert (await target.request("GET", "/resource")).status == 200


@pytest.mark.parametrize("method", ["BREW", "PROPFIND", "DELETE"])
async def test_unknown_method_gets_405_with_allow(target: Target, method: str) -> None:
    answer = await target.request(method, "/resource")
    if target.kind == "uvicorn" and method == "BREW":
        # httptools knows a fixed list of methods and refuses the others itself.
        assert (answer.status, answer.body) == (400, b"Invalid HTTP request received.")
        return
    assert answer.status == 405
    allowed = {part.strip() for part in (answer.header("Allow") or "").split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS", "POST"}


@pytest.mark.parametrize("raw_path", [b"/resource%zz", b"/resource%", b"/files/%", b"/files/%G1.txt", b"/%%%"])
async def test_invalid_percent_encoding_in_path_gets_404(server: ThreadedServer, raw_path: bytes) -> None:
    answer = raw_exchange(server, request_bytes("GET", raw_path))
    assert answer.status == 404


@pytest.mark.parametrize("raw_path", ["/resource%zz", "/files/%G1.txt"])
async def test_invalid_percent_encoding_in_path_through_test_client(bad_input_app: Quaver, raw_path: str) -> None:
    response = await bad_input_app.test_client().get(raw_path)
    assert response.status_code == 404


def head_bytes(*lines: bytes, body: bytes = b"") -> bytes:
    return b"\r\n".join((*lines, b"Connection: close")) + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    "data",
    [
        head_bytes(b"POST /data HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: abc"),
        head_bytes(b"POST /data HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: -1"),
        head_bytes(b"POST /data HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 1", b"Content-Length: 2", body=b"ab"),
        head_bytes(
            b"POST /data HTTP/1.1", b"Host: 127.0.0.1", b"Transfer-Encoding: chunked", body=b"zz\r\nab\r\n0\r\n\r\n"
        ),
        head_bytes(b"GET /resource HTTP/1.1", b"Host: 127.0.0.1", b"X-Value: a\x00b"),
        head_bytes(b"GET /res ource HTTP/1.1", b"Host: 127.0.0.1"),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
    ],
    ids=[
        "length-not-a-number", "negative-length", "two-lengths", "bad-chunk-size", "nul-in-header", "space-in-target",
        "tls-to-http",
    ],
)
async def test_malformed_framing_is_refused_by_the_server(server: ThreadedServer, data: bytes) -> None:
    answer = raw_exchange(server, data)
    assert answer.status == 400


async def test_content_length_with_chunked_encoding(server: ThreadedServer) -> None:
    data = head_bytes(
        b"POST /data HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 3", b"Transfer-Encoding: chunked",
        body=b"2\r\nab\r\n0\r\n\r\n",
    )
    answer = raw_exchange(server, data)
    # Hypercorn follows RFC 9112 (chunked wins, the length is ignored); Uvicorn refuses the request.
    if server.kind == "hypercorn":
        assert (answer.status, answer.json()) == (200, {"size": 2})
    else:
        assert (answer.status, answer.body) == (400, b"Invalid HTTP request received.")


@pytest.mark.parametrize("first", ["127.0.0.1", "evil.example"])
async def test_two_host_headers(server: ThreadedServer, first: str) -> None:
    second = "evil.example" if first == "127.0.0.1" else "127.0.0.1"
    data = head_bytes(b"GET /resource HTTP/1.1", f"Host: {first}".encode(), f"Host: {second}".encode())
    answer = raw_exchange(server, data)
    # Hypercorn refuses them; Uvicorn passes both on and the app goes by the
    # first, which TRUSTED_HOSTS then checks.
    if server.kind == "hypercorn" or first == "evil.example":
        assert answer.status == 400
    else:
        assert (answer.status, answer.body) == (200, b"resource")


OVER_LONG = 200_000


async def test_over_long_url_is_refused_by_the_server(server: ThreadedServer) -> None:
    answer = raw_exchange(server, request_bytes("GET", b"/args?a=" + b"x" * OVER_LONG))
    # Hypercorn (h11) refuses a request head over 16 KiB with 431; Uvicorn
    # (httptools) refuses a URL it cannot hold with 400. The app never sees it.
    if server.kind == "hypercorn":
        assert answer.status == 431
    else:
        assert (answer.status, answer.body) == (400, b"Invalid HTTP request received.")


async def test_over_long_header_is_refused_by_the_server(server: ThreadedServer) -> None:
    answer = raw_exchange(server, request_bytes("GET", b"/resource", {"X-Long": "x" * OVER_LONG}))
    # Hypercorn: 431 past 16 KiB of head; Uvicorn has no limit of its own on a header's size.
    if server.kind == "hypercorn":
        assert answer.status == 431
    else:
        assert (answer.status, answer.body) == (200, b"resource")


# --- header injection through the response -------------------------------------------
@pytest.mark.parametrize(
    "location", ["/a\r\nX-Injected: 1", "http://example.com/\nSet-Cookie: injected=1", "/a\rX-Injected: 1"]
)
async def test_redirect_to_location_with_newline_gets_500_and_injects_nothing(target: Target, location: str) -> None:
    answer = await target.request("GET", "/redirect?" + str(httpx.QueryParams({"to": location})))
    assert answer.status == 500
    assert answer.header("Location") is None
    assert answer.header("X-Injected") is None
    assert answer.headers_named("Set-Cookie") == []


@pytest.mark.parametrize(
    ("location", "sent"),
    [
        ("/a b\x00c\tX: 1", "/a%20b%00cX:%201"),
        ("/café/€?q=é", "/caf%C3%A9/%E2%82%AC?q=%C3%A9"),
        ("http://例え.jp/", "http://xn--r8jz45g.jp/"),
        ("/plain?a=%FF&b=1", "/plain?a=%FF&b=1"),
    ],
)
async def test_redirect_location_is_percent_encoded(target: Target, location: str, sent: str) -> None:
    answer = await target.request("GET", "/redirect?" + str(httpx.QueryParams({"to": location})))
    assert answer.status == 302
    assert answer.header("Location") == sent


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("a\r\nX-Injected: 1", '"a\\015\\012X-Injected: 1"'),
        ("a; Domain=evil.example", '"a\\073 Domain=evil.example"'),
        ('a"b', '"a\\"b"'),
    ],
)
async def test_cookie_value_with_newline_or_semicolon_is_quoted(target: Target, value: str, sent: str) -> None:
    answer = await target.request("GET", "/cookie?" + str(httpx.QueryParams({"value": value})))
    assert answer.status == 200
    assert answer.headers_named("Set-Cookie") == [f"k={sent}; Path=/"]
    assert answer.header("X-Injected") is None


async def test_cookie_path_with_newline_or_semicolon_is_percent_encoded(target: Target) -> None:
    query = httpx.QueryParams({"path": "/a;Domain=evil\r\nX-Injected: 1"})
    answer = await target.request("GET", "/cookie?" + str(query))
    assert answer.status == 200
    assert answer.headers_named("Set-Cookie") == ["k=v; Path=/a%3BDomain=evil%0D%0AX-Injected:%201"]
    assert answer.header("X-Injected") is None


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("key", "k\r\nX-Injected: 1"),
        ("key", "k; Domain=evil.example"),
        ("key", "k=v"),
        ("key", "k v"),
        ("key", ""),
        ("domain", "example.com\r\nX-Injected: 1"),
        ("domain", "example.com; Secure"),
        ("domain", "example.com,evil.example"),
        ("samesite", "Lax; Domain=evil.example"),
    ],
)
async def test_cookie_name_or_domain_with_separators_gets_500_and_injects_nothing(
    target: Target, option: str, value: str
) -> None:
    answer = await target.request("GET", "/cookie?" + str(httpx.QueryParams({option: value})))
    assert answer.status == 500
    assert answer.headers_named("Set-Cookie") == []
    assert answer.header("X-Injected") is None


async def test_plain_cookie_is_set(target: Target) -> None:
    query = httpx.QueryParams({"key": "theme", "value": "dark", "domain": "example.com"})
    answer = await target.request("GET", "/cookie?" + str(query))
    assert answer.status == 200
    assert answer.headers_named("Set-Cookie") == ["theme=dark; Domain=example.com; Path=/"]
