"""The ASGI adapter's websocket half: one websocket connection served, from
the handshake to the close (``handle_websocket``, which :mod:`quaver.asgi`
exports with the HTTP and lifespan halves)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

from .signals import websocket_received, websocket_sent
from .wrappers.websocket import Inbox, WebsocketDisconnected, close_message

if TYPE_CHECKING:
    from .app import Quaver
    from .wrappers import Websocket

#: The context check() runs in (it needs none): saves copying the handler's for each message.
_NO_CONTEXT = contextvars.Context()
#: What ``_Connection.take`` gives for a message that carries no data.
_STOP: Any = object()  # the client left, or sent too much: the handler is being cancelled
_SKIP: Any = object()  # a message of a kind the handler never sees


async def handle_websocket(app: Quaver, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve one websocket: the handler runs in this task, and a client
    leaving (or sending a message over WEBSOCKET_MAX_MESSAGE_SIZE) cancels it
    wherever it waits, as a client leaving cancels an HTTP handler."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    websocket = app.websocket_class.from_scope(scope)
    websocket._config = app.config
    websocket.json_module = app.json
    connection = _Connection(app, websocket, receive, send)
    websocket._bind_asgi(connection.receive, connection.send)
    connection.schedule_check()
    task = connection.task
    try:
        try:
            response = await app.handle_websocket(websocket)
        except asyncio.CancelledError:
            if not connection.left or task.uncancel() > 0:  # the server is stopping
                raise
            response = None
        except Exception:  # only when propagating (testing, debug)
            if websocket.accepted:
                await websocket.close(1011)
            raise  # before the handshake, the server answers 500
        else:
            if connection.left:  # the handler caught the cancellation and returned anyway
                task.uncancel()
        reader = connection.stop()
        if reader is not None:
            await asyncio.wait((reader,))
            if not reader.cancelled() and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]
        if websocket.closed or connection.left:
            return
        if not websocket.accepted:
            await _reject_websocket(app, scope, send, response)
        else:
            code = 1011 if response is not None and response.status_code >= 500 else 1000
            await websocket.close(code)
    finally:
        connection.stop()
        # The connection is over: unbind the connection, which refers to the
        # websocket (a cycle), and to this task, whose CancelledError's
        # traceback refers to the websocket (another). Either would keep the
        # server's connection, compression buffers and all, until the next
        # full garbage collection.
        websocket._asgi_send = _connection_over
        websocket._receive = _nothing_to_receive


async def _connection_over(event: dict[str, Any]) -> None:
    raise WebsocketDisconnected(1006)


async def _nothing_to_receive() -> str | bytes:
    raise WebsocketDisconnected(1006)


class _Connection:
    """One websocket's traffic with the server, for the handler in ``task``.

    While the handler waits in ``websocket.receive()`` it awaits the
    server's ``receive`` itself: an echo or a chat input loop costs one task
    switch per message, as in Starlette. Once the handler waits anywhere
    else (a pub/sub subscription, a sleep, a tight send loop's every 16th
    send), a reader task starts and stays: it takes the client's messages
    into an ``Inbox`` for ``receive()`` to get, so that the client leaving
    is seen, and cancels the handler, wherever it waits.
    """

    __slots__ = ("app", "websocket", "raw_receive", "raw_send", "task", "max_size",
                 "inbox", "reader", "receiving", "checking", "left", "over")

    def __init__(self, app: Quaver, websocket: Websocket, receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        assert task is not None  # servers run each connection in a task
        self.app = app
        self.websocket = websocket
        self.raw_receive = receive
        self.raw_send = send
        self.task = task
        self.max_size: int | None = app.config["WEBSOCKET_MAX_MESSAGE_SIZE"]
        self.inbox: Inbox | None = None
        self.reader: asyncio.Task[None] | None = None
        self.receiving = False  # the handler awaits the server's receive itself
        self.checking = False  # a check() is scheduled
        self.left = False  # the client left: the handler was cancelled for it
        self.over = False  # the handler is done: nothing starts any more

    def leave(self) -> None:
        """The client is gone: cancel the handler, unless it has finished."""
        if not (self.left or self.over or self.websocket._handler_finished):
            self.left = True
            self.task.cancel()

    def schedule_check(self) -> None:
        if not (self.checking or self.reader is not None):
            self.checking = True
            asyncio.get_running_loop().call_soon(self.check, context=_NO_CONTEXT)

    def check(self) -> None:
        """Run once the handler has yielded: unless it is back in receive(),
        it waits elsewhere, and the reader must watch for the client leaving."""
        self.checking = False
        if self.reader is None and not (self.receiving or self.over):
            self.inbox = Inbox()  # a client sending faster than the handler reads waits
            self.reader = asyncio.get_running_loop().create_task(self.read())

    def stop(self) -> asyncio.Task[None] | None:
        """The handler is done: stop the reader (returned, to be awaited)."""
        self.over = True
        reader = self.reader
        if reader is not None and not reader.done():
            reader.cancel()
        return reader

    async def receive(self) -> str | bytes:
        """``websocket.receive()``'s next message."""
        if self.inbox is not None:
            return await self.inbox.get()
        self.receiving = True
        try:
            while True:
                data = await self.take(await self.raw_receive())
                if data is _STOP:
                    await asyncio.sleep(0)  # leave() cancelled the handler: it lands here
                    raise WebsocketDisconnected(self.websocket.close_code or 1000)  # after the handler finished
                if data is not _SKIP:
                    return data  # type: ignore[no-any-return]
        finally:
            self.receiving = False
            self.websocket._sends = 0
            self.schedule_check()

    async def read(self) -> None:
        """The reader task: move the client's messages to the inbox until it
        leaves (or sends too much, or the server fails), then ``leave()``."""
        inbox = self.inbox
        assert inbox is not None
        try:
            while True:
                data = await self.take(await self.raw_receive())
                if data is _STOP:
                    return
                if data is not _SKIP:
                    await inbox.put(data)
        finally:
            self.leave()

    async def take(self, message: dict[str, Any]) -> Any:
        """The data of one message from the server, or _STOP (the client
        left or sent too much, and ``leave()`` was called) or _SKIP."""
        kind = message["type"]
        websocket = self.websocket
        if kind == "websocket.receive":
            data = message.get("bytes")
            max_size = self.max_size
            if data is None:
                data = message.get("text") or ""
                size = len(data) if max_size is None or len(data) * 4 <= max_size else len(data.encode())
            else:
                size = len(data)
            if max_size is not None and size > max_size:
                await websocket.close(1009, "Message too big")
                self.leave()
                return _STOP
            if websocket_received.receivers:
                await websocket_received.send_async(data, _sync_wrapper=self.app.ensure_async)
            return data
        if kind == "websocket.disconnect":
            websocket.closed = True
            websocket.close_code = message.get("code", 1005)
            self.leave()
            return _STOP
        return _SKIP

    async def send(self, event: dict[str, Any]) -> None:
        """Send an ASGI message to the server (the websocket's ``_asgi_send``)."""
        if websocket_sent.receivers and event["type"] == "websocket.send":
            data = event.get("text") if event.get("bytes") is None else event["bytes"]
            await websocket_sent.send_async(data, _sync_wrapper=self.app.ensure_async)
        try:
            await self.raw_send(event)
        except OSError:  # the server found the client gone before the reader did (Uvicorn does)
            self.websocket.closed = True
            self.leave()
            await asyncio.sleep(0)  # where the handler itself sent, it is cancelled right here


async def _reject_websocket(app: Quaver, scope: dict[str, Any], send: Any, response: Any) -> None:
    """Refuse the handshake with ``response`` (403 if the handler gave none)
    where the server offers ``websocket.http.response``; elsewhere close it,
    which servers answer with 403."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send(close_message(scope, 1000))
        return
    if response is None:
        response = app.response_class("Forbidden", 403, mimetype="text/plain")
    headers = [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in response.headers.items()]
    await send({"type": "websocket.http.response.start", "status": response.status_code, "headers": headers})
    chunks = response.iter_body()
    try:
        async for chunk in chunks:
            if chunk:
                await send({"type": "websocket.http.response.body", "body": chunk, "more_body": True})
    finally:
        await chunks.aclose()
    await send({"type": "websocket.http.response.body", "body": b"", "more_body": False})



__all__ = ("handle_websocket",)
