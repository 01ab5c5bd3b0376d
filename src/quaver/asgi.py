"""The ASGI adapter: from scope/receive/send to the app and back.

One coroutine per connection and no extra task for a plain request: the
body is pulled from ``receive`` only when the view asks for it.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import ClientDisconnected
from werkzeug.urls import iri_to_uri

from .asgi_websocket import handle_websocket
from .ctx import RequestContext
from .debug import traceback_response
from .utils import CLIENT_LEFT
from .wrappers.response import FileBody

if TYPE_CHECKING:
    from .app import Quaver
    from .wrappers import Response


async def handle_http(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve one HTTP request."""
    request = app.request_class.from_scope(scope)
    request._receive = receive
    request._config = app.config
    request.json_module = app.json
    extensions = scope.get("extensions") or ()
    if "http.response.push" in extensions:
        request._send_push_promise = _push_sender(send)
    if "http.response.early_hint" in extensions:
        request._send_early_hints = _early_hint_sender(send)
    ctx = RequestContext(app, request)
    await ctx.push()
    error: BaseException | None = None
    try:
        try:
            handler = app.full_dispatch_request(ctx)
            if handler.__class__ is not CoroutineType:  # an override returning some other awaitable
                response = await handler
            else:
                try:
                    waiting = handler.send(None)
                except StopIteration as done:  # done without waiting: the common case, and no task
                    response = done.value
                else:
                    response = await _finish_watching(request, handler, waiting)
        except Exception as exc:
            error = exc
            response = await app.handle_exception(exc)
    except BaseException as exc:
        error = exc
        await ctx.pop(exc)
        if isinstance(exc, Exception):
            if app.debug:
                await send_response(app, request, await traceback_response(exc, app.response_class), send)
            else:
                await _send_plain_500(send)
        raise
    left = response is _CLIENT_LEFT
    if left:
        error = asyncio.CancelledError()  # what the handler saw, for the teardown functions
    preserved = scope.get("_quaver_preserve")  # the test client's list, while it keeps contexts
    if preserved is None:
        await ctx.pop(error)
    else:
        preserved.append((ctx, error))
    error = None  # its traceback holds this frame: no cycle keeping the request
    if left:
        return  # nobody to answer
    if request._body is not None and response.status_code == 413:
        await request._body._drain(_DRAIN_BYTES, _DRAIN_SECONDS)
    await send_response(app, request, response, send)
    if request._files:
        await request.close()


_CLIENT_LEFT: Any = object()
#: What is read and dropped of a body still arriving before its 413 is sent (see Body._drain).
_DRAIN_BYTES = 1024 * 1024
_DRAIN_SECONDS = 1.0


async def _finish_watching(request: Any, handler: Any, waiting: Any) -> Any:
    """Finish a handler that had to wait (``waiting`` is what it first
    yielded), cancelling it if the client leaves meanwhile: it then sees
    CancelledError where it waits, its ``finally`` blocks run, and this
    returns ``_CLIENT_LEFT``. Otherwise returns the handler's response.

    The watch (a task waiting on ``receive()`` for ``http.disconnect``)
    starts only once no part of the request body is left to arrive, so it
    never takes the body from the handler; until then a disconnect shows
    at the handler's next body read.
    """
    watch = _Watch(request)
    try:
        response = await _Steps(handler, waiting, watch)
    except asyncio.CancelledError:
        if watch.left and watch.task.uncancel() == 0:
            return _CLIENT_LEFT
        raise
    finally:
        await watch.stop()
    if watch.left:  # the handler caught the cancellation and answered anyway
        watch.task.uncancel()
        return _CLIENT_LEFT
    return response


class _Watch:
    """Watches for the client leaving while a handler waits; see ``_finish_watching``."""

    __slots__ = ("request", "task", "watcher", "left", "over", "peeked")

    def __init__(self, request: Any) -> None:
        task = asyncio.current_task()
        assert task is not None  # servers run each request in a task
        self.request = request
        self.task = task
        self.watcher: asyncio.Task[Any] | None = None
        self.left = False
        self.over = False
        self.peeked = False

    def start_once_body_is_whole(self) -> None:
        request = self.request
        whole = _body_is_whole(request)
        if whole:
            watching = request._wait_for_disconnect()
        elif whole is None and not self.peeked:
            self.peeked = True
            watching = _Handoff(request).watch()
        else:
            return
        self.watcher = asyncio.get_running_loop().create_task(watching)
        self.watcher.add_done_callback(self._returned)

    def _returned(self, watcher: asyncio.Task[Any]) -> None:
        if self.over or watcher.cancelled() or watcher.exception() is not None:
            return
        if watcher.result() is False:  # it stopped at a body still arriving: watch again once it is whole
            self.watcher = None
            return
        self.left = True
        self.task.cancel(CLIENT_LEFT)

    async def stop(self) -> None:
        self.over = True
        watcher = self.watcher
        if watcher is not None and not watcher.done():
            watcher.cancel()
            await asyncio.wait((watcher,))  # its receive() is over before anything else calls one


def _body_is_whole(request: Any) -> bool | None:
    """True if no part of the request body is left to come from the server:
    read whole, or declared empty (no Content-Length nor Transfer-Encoding
    in HTTP/1, or Content-Length: 0), which then counts as read. None for a
    body nobody has touched that may be empty or not (HTTP/2 and 3 without
    Content-Length: a GET, mostly). False otherwise."""
    body = request._body
    if body is not None:
        complete: bool = body._complete
        return complete
    known = request.__dict__
    if "content_length" not in known:
        request._scan_entity_headers()
    length = known["content_length"]
    if length == 0:
        request._body = request.body_class(None, data=b"")  # the server's one empty body message is left to the watch
        return True
    if length is None and request._header("Transfer-Encoding") is None:
        if request.http_version in ("1.0", "1.1"):
            request._body = request.body_class(None, data=b"")
            return True
        return None
    return False


class _Handoff:
    """The request's ``receive`` while a watch takes messages from the server's
    for a body that may be empty: what the watch took goes to the body's
    reader, in order, then the server's own ``receive`` again."""

    __slots__ = ("raw", "messages", "taking", "waiter")

    def __init__(self, request: Any) -> None:
        self.raw: Callable[[], Awaitable[dict[str, Any]]] = request._receive
        self.messages: deque[dict[str, Any]] = deque()
        self.taking = True
        self.waiter: asyncio.Future[None] | None = None
        request._receive = self.receive

    async def watch(self) -> bool | None:
        """Take messages until the client leaves (None) or the body turns out to
        have more than one message (False: its reader takes the rest)."""
        try:
            while True:
                message = await self.raw()
                self._give(message)
                if message["type"] == "http.disconnect":
                    return None
                if message.get("more_body", False):
                    return False
        finally:
            self.taking = False
            self._wake()

    def _give(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self) -> dict[str, Any]:
        while True:
            if self.messages:
                return self.messages.popleft()
            if not self.taking:
                return await self.raw()
            waiter = self.waiter = asyncio.get_running_loop().create_future()
            await waiter


class _Steps:
    """Awaitable that carries on a handler already started with ``send(None)``,
    starting the watch at the first step where the body is whole."""

    __slots__ = ("handler", "first", "watch")

    def __init__(self, handler: Any, first: Any, watch: _Watch) -> None:
        self.handler = handler
        self.first = first
        self.watch = watch

    def __await__(self) -> Any:
        handler, value, watch = self.handler, self.first, self.watch
        while True:
            if watch.watcher is None:
                watch.start_once_body_is_whole()
            try:
                sent = yield value
            except BaseException as error:  # a cancellation goes on to the handler, where it waits
                try:
                    value = handler.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = handler.send(sent)
                except StopIteration as done:
                    return done.value


def _push_sender(send: Any) -> Any:
    async def push(path: str, headers: Any) -> None:
        await send({"type": "http.response.push", "path": path, "headers": [
            (key.lower().encode("latin-1"), value.encode("latin-1"))
            for key, value in headers.items()
            if key.lower() in _PUSH_HEADERS
        ]})

    return push


def _early_hint_sender(send: Any) -> Any:
    async def early_hints(links: list[str]) -> None:
        await send({"type": "http.response.early_hint", "links": [link.encode("latin-1") for link in links]})

    return early_hints


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
_NOT_URI_SAFE = re.compile(r"[^\x21-\x7e]")


async def send_response(app: Quaver, request: Any, response: Response, send: Any) -> None:
    """Send ``response`` to the server: the start message, then the body.

    A body in memory goes in one message. A streamed body is sent chunk by
    chunk within RESPONSE_TIMEOUT (``response.timeout`` overrides it), the
    status and headers with its first chunk (as WSGI servers do: a body that
    fails before it gets a 500, see ``_stream_failed``), while
    a watcher task waits for the client to disconnect: if it does, the
    streaming is cancelled wherever it waits and the body's iterator closed.
    A whole file given by path goes as ``http.response.pathsend`` where the
    server offers that extension.
    """
    names = _ENCODED_NAMES
    headers = []
    for key, value in response.headers:
        name = names.get(key)
        if name is None:
            name = key.lower().encode("latin-1")
            if len(names) < 512:
                names[key] = name
        if name == b"location" and _NOT_URI_SAFE.search(value):
            value = iri_to_uri(value)  # as Werkzeug does for Flask: no raw spaces, NUL or non-ASCII
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
    if request.method == "HEAD":
        await send(start)
        await response._discard_body()
        await send({"type": "http.response.body", "body": b""})
        return
    if body.__class__ is FileBody:
        extensions = request.scope.get("extensions") or ()
        if body.path is not None and body.is_whole and "http.response.pathsend" in extensions:
            await send(start)
            await send({"type": "http.response.pathsend", "path": body.path})
            return
        if body.length is not None and body.length <= body.chunk_size:  # one read: nothing to watch
            data = b"".join([chunk async for chunk in body])
            await send(start)
            await send({"type": "http.response.body", "body": data})
            return
    timeout = response.timeout
    if timeout is Ellipsis:
        timeout = app.config["RESPONSE_TIMEOUT"]
    task = asyncio.current_task()
    assert task is not None
    left = [False, False]  # [the stream is over, the client disconnected]

    def on_disconnect(watch: asyncio.Task[None]) -> None:
        if not left[0] and not watch.cancelled() and watch.exception() is None:
            left[1] = True
            task.cancel()

    watcher = None
    if request._receive is not None:
        watcher = asyncio.get_running_loop().create_task(request._wait_for_disconnect())
        watcher.add_done_callback(on_disconnect)
    chunks = response.iter_body()
    started = gone = False
    if response.send_headers_at_once:
        started = True
        await send(start)
    try:
        try:
            async with asyncio.timeout(timeout):
                async for chunk in chunks:
                    try:
                        if not started:  # as WSGI servers do: the status waits for the first chunk
                            started = True
                            await send(start)
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    except OSError:  # the server says the client is gone (ASGI 2.4)
                        gone = True
                        break
        finally:
            left[0] = True
            if watcher is not None:
                watcher.cancel()
            await chunks.aclose()
            if watcher is not None:
                await asyncio.wait((watcher,))
    except asyncio.CancelledError:
        if left[1] and task.uncancel() == 0:
            return  # the client left: nothing more to send, and nobody to tell
        raise
    except TimeoutError:
        # Left unfinished on purpose: the server closes the connection, so the
        # client sees a cut-off body rather than a complete-looking short one.
        app.logger.warning("Response streaming exceeded RESPONSE_TIMEOUT; closing it")
        if not started:
            await _send_plain_500(send)
        return
    except ClientDisconnected:
        return  # the stream read the request body and found the client gone
    except Exception as error:
        await _stream_failed(app, request, error, started, send)
        return
    if not gone:
        if not started:
            await send(start)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _stream_failed(app: Quaver, request: Any, error: Exception, started: bool, send: Any) -> None:
    """A streamed body raised. Before its first chunk the client gets 500 (the
    traceback page in debug mode); after it the response is left unfinished,
    so the server closes the connection and the client sees a cut-off body.
    The error is logged, or raised on when propagating (testing, debug)."""
    if not started:
        if app.debug:
            await send_response(app, request, await traceback_response(error, app.response_class), send)
        else:
            await _send_plain_500(send)
    if app._propagate_exceptions():
        raise error
    app.logger.error(
        f"Exception on {request.path} [{request.method}] while streaming the response",
        exc_info=(type(error), error, error.__traceback__),
    )


async def handle_lifespan(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Run start-up and shutdown when the server says so."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                # startup() logged the traceback; this line says what it stopped.
                # Logged first: Hypercorn raises from send on this message.
                app.logger.error(f"Start-up failed: {reason}")
                await send({"type": "lifespan.startup.failed", "message": reason})
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


__all__ = ("handle_http", "handle_lifespan", "handle_websocket", "send_response")
