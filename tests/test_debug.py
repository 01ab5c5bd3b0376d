"""The error page: a traceback in debug mode only, a plain 500 otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from quaver import Quaver
from quaver.debug import render_traceback, traceback_response

SECRET = "s3cr3t-key-value"


def broken_app() -> Quaver:
    app = Quaver("debug_test")
    app.secret_key = SECRET

    @app.route("/broken")
    async def broken() -> str:
        token = SECRET  # a local the page must not show outside debug
        raise ValueError(f"<script>alert(1)</script> failed with {token}")

    return app


@asynccontextmanager
async def served(app: Quaver, port: int) -> AsyncIterator[str]:
    """Serve ``app`` with Hypercorn on 127.0.0.1:``port``; stop it on exit."""
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
            else:
                writer.close()
                await writer.wait_closed()
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_debug_mode_shows_the_traceback_page(free_port: int) -> None:
    app = broken_app()
    app.debug = True
    async with served(app, free_port) as base, httpx.AsyncClient() as client:
        response = await client.get(f"{base}/broken")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert "ValueError" in body
    assert "test_debug.py" in body
    assert "raise ValueError" in body  # the source line of the frame
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


async def test_outside_debug_the_page_is_plain(free_port: int) -> None:
    app = broken_app()
    async with served(app, free_port) as base, httpx.AsyncClient() as client:
        response = await client.get(f"{base}/broken")
    assert response.status_code == 500
    body = response.text
    assert "Internal Server Error" in body
    for leak in ("Traceback", "ValueError", "test_debug.py", SECRET, "script"):
        assert leak not in body


async def test_outside_debug_the_test_client_gets_the_plain_page() -> None:
    app = broken_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = await app.test_client().get("/broken")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "Internal Server Error" in body
    assert "ValueError" not in body and SECRET not in body


async def test_an_app_500_handler_is_used_outside_debug(free_port: int) -> None:
    app = broken_app()

    @app.errorhandler(500)
    async def server_error(error: Exception) -> tuple[str, int]:
        return "Sorry, something broke.", 500

    async with served(app, free_port) as base, httpx.AsyncClient() as client:
        response = await client.get(f"{base}/broken")
    assert response.status_code == 500
    assert response.text == "Sorry, something broke."


def test_traceback_page_shows_the_chain_of_exceptions() -> None:
    try:
        try:
            {}["missing"]
        except KeyError as error:
            raise RuntimeError("while looking up") from error
    except RuntimeError as error:
        page = render_traceback(error)
    assert page.index("<h2>KeyError") < page.index("<h2>RuntimeError: while looking up")
    assert "{}[&#34;missing&#34;]" in page or "{}[&quot;missing&quot;]" in page


async def test_traceback_response_is_awaited_for_a_500_html_page(app: Quaver) -> None:
    async with app.app_context():
        response = await traceback_response(ValueError("a one-off message"))
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert b"a one-off message" in await response.get_data()


@pytest.mark.parametrize("debug", [False, True])
def test_debug_is_off_unless_asked(debug: bool) -> None:
    app = Quaver("debug_flag")
    if debug:
        app.debug = True
    assert app.debug is debug
