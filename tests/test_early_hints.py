"""103 Early Hints: ``send_early_hints`` through the ASGI extension where the
server offers it (seen at the ASGI level and by an h2 client against
Hypercorn), and a no-op returning False where it does not."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
from h2_client import h2_get
from tls_server import serve_over_tls
from werkzeug.datastructures import Headers

from quaver import Quaver, send_early_hints
from quaver.testing.utils import make_test_scope

STYLE = "</style.css>; rel=preload; as=style"
SCRIPT = "</app.js>; rel=preload; as=script"


def make_app() -> Quaver:
    app = Quaver(__name__)

    @app.get("/hinted")
    async def hinted():
        sent = await send_early_hints(STYLE, SCRIPT)
        return {"hints_sent": sent}

    return app


async def call(app: Quaver, extensions: dict[str, Any]) -> list[dict[str, Any]]:
    """Serve GET /hinted with a scope offering ``extensions``; return the messages sent."""
    scope = make_test_scope("http", "/hinted", "GET", Headers(), b"", scope_base={"extensions": extensions})
    messages: list[dict[str, Any]] = []
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages


async def test_early_hints_go_before_the_response_where_the_server_offers_them() -> None:
    messages = await call(make_app(), {"http.response.early_hint": {}})
    assert [message["type"] for message in messages] == [
        "http.response.early_hint", "http.response.start", "http.response.body",
    ]
    assert messages[0]["links"] == [STYLE.encode(), SCRIPT.encode()]
    assert messages[1]["status"] == 200
    assert messages[2]["body"] == b'{"hints_sent":true}\n'


async def test_without_the_extension_nothing_is_sent_and_the_view_is_told() -> None:
    messages = await call(make_app(), {})
    assert [message["type"] for message in messages] == ["http.response.start", "http.response.body"]
    assert messages[1]["body"] == b'{"hints_sent":false}\n'


async def test_the_test_client_serves_a_view_sending_hints() -> None:
    response = await make_app().test_client().get("/hinted", http_version="2")
    assert response.status_code == 200
    assert await response.get_json() == {"hints_sent": False}


APP = f"""\
from quaver import Quaver, send_early_hints

app = Quaver(__name__)

@app.get("/hinted")
async def hinted():
    sent = await send_early_hints({STYLE!r}, {SCRIPT!r})
    return {{"hints_sent": sent}}
"""


def test_hypercorn_sends_103_over_http_2_and_skips_it_on_http_1_1(tmp_path: Path) -> None:
    with serve_over_tls(tmp_path, APP) as (server, port, context):
        streams = h2_get(port, context, "/hinted")
        assert len(streams[1].informational) == 1
        hint = streams[1].informational[0]
        assert hint[0] == (":status", "103")
        assert [value for name, value in hint if name == "link"] == [STYLE, SCRIPT]
        assert streams[1].headers[":status"] == "200"
        assert streams[1].body == b'{"hints_sent":true}\n'
        with httpx.Client(verify=context, timeout=5) as http:
            response = http.get(f"https://127.0.0.1:{port}/hinted")
        assert response.http_version == "HTTP/1.1"
        assert response.json() == {"hints_sent": False}
        assert server.stop(signal.SIGINT, timeout=10) == 0
