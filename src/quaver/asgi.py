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
    """Serve one websocket: the handler in its own task, this coroutine reading
    from the client so that a disconnect cancels the handler wherever it is."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    websocket = app.websocket_class.from_scope(scope)
    websocket._config = app.config
    websocket.json_module = app.json
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=64)
    max_size = app.config["WEBSOCKET_MAX_MESSAGE_SIZE"]
    websocket._setup(scope, queue.get, send, max_size)
    loop = asyncio.get_running_loop()
    handler = loop.create_task(app.handle_websocket(websocket))
    reader = loop.create_task(_read_websocket(websocket, receive, queue, max_size))
    try:
        await asyncio.wait((handler, reader), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        handler.cancel()
        reader.cancel()
        raise
    if not handler.done():  # the client left, or sent a message over the size limit
        handler.cancel()
        try:
            await handler
        except asyncio.CancelledError:
            pass
        except Exception:
            app.logger.exception("Error in a websocket handler cancelled by the client leaving")
        return
    reader.cancel()
    error = handler.exception()
    if error is not None:
        if not websocket.accepted:
            await _reject_websocket(app, scope, send, None, 500)
        elif not websocket.closed:
            await websocket.close(1011)
        raise error
    response = handler.result()
    if not websocket.accepted:
        await _reject_websocket(app, scope, send, response, 403)
    elif not websocket.closed:
        await websocket.close(1000)


async def _read_websocket(websocket: Any, receive: Any, queue: asyncio.Queue[Any], max_size: int | None) -> None:
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            data = message.get("bytes")
            if data is None:
                data = message.get("text") or ""
            if max_size is not None and len(data) > max_size:
                await websocket.close(1009, "Message too big")
                return
            await queue.put(data)
        elif kind == "websocket.disconnect":
            websocket.closed = True
            websocket.close_code = message.get("code", 1005)
            return


async def _reject_websocket(app: Quaver, scope: dict[str, Any], send: Any, response: Any, status: int) -> None:
    """Refuse the handshake: with the handler's HTTP response where the server
    supports ``websocket.http.response``, else with a plain close (403)."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        if response is None:
            response = app.response_class(
                "Internal Server Error" if status == 500 else "Forbidden", status, mimetype="text/plain"
            )
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        body = await response.get_data()
        await send({"type": "websocket.http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1000})


__all__ = ("HTTPException", "handle_http", "handle_lifespan", "handle_websocket", "send_response")
