"""The ASGI adapter: from scope/receive/send to the app and back.

One coroutine per connection and no extra task for a plain request: the
body is pulled from ``receive`` only when the view asks for it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException

from .ctx import RequestContext

if TYPE_CHECKING:
    from .app import Quaver
    from .wrappers import Response


async def handle_http(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve one HTTP request."""
    request = app.request_class.from_scope(scope)
    request._receive = receive
    request._config = app.config
    request.json_module = app.json
    if "http.response.push" in (scope.get("extensions") or ()):
        request._send_push_promise = _push_sender(send)
    ctx = RequestContext(app, request)
    await ctx.push()
    error: BaseException | None = None
    try:
        try:
            response = await app.full_dispatch_request(ctx)
        except Exception as exc:
            error = exc
            response = await app.handle_exception(exc)
    except BaseException as exc:
        error = exc
        await ctx.pop(exc)
        if isinstance(exc, Exception):
            await _send_plain_500(send)
        raise
    await ctx.pop(error)
    await send_response(app, request, response, send)
    if request._files:
        await request.close()


def _push_sender(send: Any) -> Any:
    async def push(path: str, headers: Any) -> None:
        await send({"type": "http.response.push", "path": path, "headers": [
            (key.lower().encode("latin-1"), value.encode("latin-1"))
            for key, value in headers.items()
            if key.lower() in _PUSH_HEADERS
        ]})

    return push


_PUSH_HEADERS = {"accept", "accept-encoding", "accept-language", "cache-control", "user-agent"}


async def _send_plain_500(send: Any) -> None:
    try:
        await send({
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")],
        })
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
    except Exception:
        pass


_ENCODED_NAMES: dict[str, bytes] = {}


async def send_response(app: Quaver, request: Any, response: Response, send: Any) -> None:
    """Send ``response`` to the server: the start message, then the body."""
    names = _ENCODED_NAMES
    headers = []
    for key, value in response.headers:
        name = names.get(key)
        if name is None:
            name = key.lower().encode("latin-1")
            if len(names) < 512:
                names[key] = name
        headers.append((name, value.encode("latin-1")))
    promises = response.__dict__.get("push_promises")
    if promises and request.__dict__.get("_send_push_promise") is not None:
        for path in promises:
            await request.send_push_promise(path)
    body = response.response
    start = {"type": "http.response.start", "status": response.status_code, "headers": headers}
    if body.__class__ is bytes:
        await send(start)
        await send({"type": "http.response.body", "body": body if request.method != "HEAD" else b""})
        return
    await send(start)
    if request.method == "HEAD":
        close = getattr(body, "aclose", None) or getattr(body, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        await send({"type": "http.response.body", "body": b""})
        return
    timeout = response.timeout if response.timeout is not None else app.config["RESPONSE_TIMEOUT"]
    chunks = response.iter_body()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except TimeoutError:
        app.logger.warning("Response streaming exceeded RESPONSE_TIMEOUT; closing it")
    finally:
        await chunks.aclose()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def handle_lifespan(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Run start-up and shutdown when the server says so."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except Exception as error:
                await send({"type": "lifespan.startup.failed", "message": f"{type(error).__name__}: {error}"})
                app.logger.exception("Start-up failed")
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await app.shutdown()
            except Exception as error:
                await send({"type": "lifespan.shutdown.failed", "message": f"{type(error).__name__}: {error}"})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return


async def handle_websocket(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve one websocket connection."""
    from .websocket_handler import serve_websocket

    await serve_websocket(app, scope, receive, send)


__all__ = ("HTTPException", "handle_http", "handle_lifespan", "handle_websocket", "send_response")
