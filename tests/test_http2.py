"""HTTP/2 through ``app.run`` (Hypercorn) over TLS: ALPN, and server push
seen by a real h2 client; push skipped on HTTP/1.1."""

from __future__ import annotations

import signal
import ssl
from collections.abc import Iterator

import httpx
import pytest
from h2_client import h2_get
from server_process import ServerProcess
from tls_server import serve_over_tls

APP = """\
from quaver import Quaver, make_push_promise, make_response, request

app = Quaver(__name__)

@app.get("/")
async def index():
    return {
        "http_version": request.http_version,
        "scheme": request.scheme,
        "push": "http.response.push" in request.extensions,
    }

@app.get("/page")
async def page():
    await make_push_promise("/style.css")
    return "<link rel=stylesheet href=/style.css> page"

@app.get("/page-with-promises")
async def page_with_promises():
    response = await make_response("<script src=/app.js></script> page")
    response.push_promises.add("/app.js")
    return response

@app.get("/style.css")
async def style():
    return "body { color: teal }", {"Content-Type": "text/css"}

@app.get("/app.js")
async def script():
    return "console.log('pushed')", {"Content-Type": "text/javascript"}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int, ssl.SSLContext]]:
    with serve_over_tls(tmp_path_factory.mktemp("http2"), APP) as running:
        yield running
        code = running[0].stop(signal.SIGINT, timeout=10)
        assert code == 0, running[0].stderr
        assert "Traceback" not in running[0].stderr, running[0].stderr


def test_httpx_negotiates_http_2_and_the_app_sees_it(server) -> None:
    _, port, context = server
    with httpx.Client(http2=True, verify=context, timeout=5) as http:
        response = http.get(f"https://127.0.0.1:{port}/")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"http_version": "2", "scheme": "https", "push": True}


def test_make_push_promise_sends_push_promise_and_the_pushed_body(server) -> None:
    _, port, context = server
    streams = h2_get(port, context, "/page")
    assert streams[1].headers[":status"] == "200"
    assert streams[1].body == b"<link rel=stylesheet href=/style.css> page"
    pushed = [stream for stream_id, stream in streams.items() if stream_id != 1]
    assert len(pushed) == 1
    assert pushed[0].request_headers[":path"] == "/style.css"
    assert pushed[0].request_headers[":method"] == "GET"
    assert pushed[0].headers[":status"] == "200"
    assert pushed[0].headers["content-type"].startswith("text/css")
    assert pushed[0].body == b"body { color: teal }"


def test_response_push_promises_are_pushed(server) -> None:
    _, port, context = server
    streams = h2_get(port, context, "/page-with-promises")
    pushed = {stream.request_headers[":path"]: stream.body for stream_id, stream in streams.items() if stream_id != 1}
    assert pushed == {"/app.js": b"console.log('pushed')"}
    assert streams[1].body == b"<script src=/app.js></script> page"


def test_a_client_refusing_push_still_gets_the_page(server) -> None:
    _, port, context = server
    streams = h2_get(port, context, "/page", enable_push=False)
    assert list(streams) == [1]
    assert streams[1].body == b"<link rel=stylesheet href=/style.css> page"


def test_on_http_1_1_push_is_skipped_silently(server) -> None:
    process, port, context = server
    with httpx.Client(verify=context, timeout=5) as http:
        index = http.get(f"https://127.0.0.1:{port}/")
        page = http.get(f"https://127.0.0.1:{port}/page")
        promised = http.get(f"https://127.0.0.1:{port}/page-with-promises")
    assert index.http_version == "HTTP/1.1"
    assert index.json() == {"http_version": "1.1", "scheme": "https", "push": False}
    assert (page.status_code, page.text) == (200, "<link rel=stylesheet href=/style.css> page")
    assert promised.status_code == 200
    assert "Traceback" not in process.stderr


def test_run_says_which_protocols_are_on(server) -> None:
    process, port, _ = server
    assert " * Protocols: HTTP/1.1, HTTP/2 (TLS, ALPN)" in process.stdout
