"""The websocket object handlers talk through: ``await websocket.receive()``."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from werkzeug.datastructures import Headers

from ..utils import spec_version
from .base import BaseRequestWebsocket


class WebsocketDisconnected(Exception):
    """The connection is closed; ``receive`` and ``send`` raise this afterwards."""

    def __init__(self, code: int = 1000) -> None:
        super().__init__(code)
        self.code = code


class Websocket(BaseRequestWebsocket):
    """A websocket connection: the request data of its handshake (path, args,
    headers, cookies) plus messaging.

    The first ``send`` or ``receive`` accepts the connection if the handler
    has not called ``accept`` itself. Until it is accepted the handler may
    still refuse it with an HTTP response (``abort(401)``, returning one).

    The ASGI adapter makes these with ``from_scope`` and ``_bind_asgi``; the
    constructor takes Quart's arguments, with ``receive()`` returning the next
    message, ``send(data)``, ``accept(headers, subprotocol)`` and
    ``close(code, reason)`` as coroutine functions.
    """

    def __init__(
        self,
        path: str,
        query_string: bytes,
        scheme: str,
        headers: Headers,
        root_path: str,
        http_version: str,
        subprotocols: list[str],
        receive: Callable[[], Awaitable[str | bytes]],
        send: Callable[[str | bytes], Awaitable[None]],
        accept: Callable[[Headers, str | None], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
        scope: dict[str, Any] | None = None,
    ) -> None:
        scope = {**(scope or {}), "subprotocols": list(subprotocols or ())}
        super().__init__("GET", scheme, path, query_string, headers, root_path, http_version, scope)
        self._reset(receive, None)
        self._callbacks: tuple[Any, Any, Any] | None = (send, accept, close)

    def _bind_asgi(
        self, receive: Callable[[], Awaitable[str | bytes]], asgi_send: Callable[[Any], Awaitable[None]]
    ) -> None:
        """Connect to a server: ``receive()`` gives the next message's data,
        ``asgi_send`` takes ASGI messages."""
        self._reset(receive, asgi_send)
        self._callbacks = None

    def _reset(self, receive: Callable[[], Awaitable[str | bytes]], asgi_send: Any) -> None:
        self.method = "GET"
        self._receive = receive
        self._asgi_send = asgi_send
        #: True once the handshake is accepted.
        self.accepted = False
        #: True once either side closed the connection.
        self.closed = False
        #: The close code, once closed.
        self.close_code: int | None = None
        #: Set by the app once the handler has returned or raised: from then
        #: on (error handlers, after and teardown hooks) a client leaving no
        #: longer cancels anything.
        self._handler_finished = False
        self._sends = 0

    @property
    def requested_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols") or ())

    async def accept(self, headers: Any = None, subprotocol: str | None = None) -> None:
        """Accept the connection, with extra response ``headers`` and the
        ``subprotocol`` chosen from ``requested_subprotocols``. Only the first
        call does anything."""
        if self.accepted:
            return
        if self.closed:
            raise WebsocketDisconnected(self.close_code or 1000)
        if subprotocol is not None and subprotocol not in self.requested_subprotocols:
            raise ValueError(f"The client did not offer the subprotocol {subprotocol!r}")
        headers = Headers(headers) if headers is not None else Headers()
        self.accepted = True
        if self._callbacks is not None:
            await self._callbacks[1](headers, subprotocol)
            return
        encoded: list[tuple[bytes, bytes]] = []
        if spec_version(self.scope) > (2, 0):  # accept headers came with ASGI 2.1
            encoded = [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]
        elif headers:
            warnings.warn("The ASGI server does not support accept headers (ASGI 2.0): headers not sent", stacklevel=2)
        await self._asgi_send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": encoded})

    async def receive(self) -> str | bytes:
        """Wait for the next message from the client: str for text, bytes for binary."""
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebsocketDisconnected(self.close_code or 1000)
        return await self._receive()

    async def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message to the client."""
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebsocketDisconnected(self.close_code or 1000)
        # Every 16th send, let other tasks run, so that a handler sending in a
        # tight loop still notices the client leaving (the reader has to run
        # to see it): servers' send rarely waits. Not on every send: that
        # would double the event loop's work for a broadcast.
        self._sends += 1
        if not self._sends & 15:
            await asyncio.sleep(0)
        if self._callbacks is not None:
            await self._callbacks[0](data)
        elif isinstance(data, str):
            await self._asgi_send({"type": "websocket.send", "text": data})
        else:
            await self._asgi_send({"type": "websocket.send", "bytes": bytes(data)})

    async def receive_json(self) -> Any:
        """Receive a message and return it parsed as JSON."""
        return self.json_module.loads(await self.receive())

    async def send_json(self, *args: Any, **kwargs: Any) -> None:
        """Send one value as JSON text; several values go as a list, keywords as an object."""
        if args and kwargs:
            raise TypeError("send_json takes positional or keyword arguments, not both")
        value = args[0] if len(args) == 1 else (list(args) if args else kwargs)
        dumps = getattr(self.json_module, "dumps", json.dumps)
        await self.send(dumps(value))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason``. Before the
        handshake is accepted this refuses it (clients see HTTP 403)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        if self._callbacks is not None:
            await self._callbacks[2](code, reason)
            return
        await self._asgi_send(close_message(self.scope, code, reason))


class Inbox:
    """The messages a client sent that the handler has not received yet, in
    order: the ASGI adapter's reader ``put``s them, ``Websocket.receive``
    ``get``s them. Bounded: once ``size`` are waiting, ``put`` waits, so a
    client sending faster than the handler reads is held back by TCP.

    Lighter than ``asyncio.Queue`` (which holds three deques and an Event,
    about 3 KiB): an idle websocket holds one of these, an empty list and
    at most one waiting future.
    """

    __slots__ = ("_items", "_getter", "_putter", "_size")

    def __init__(self, size: int = 64) -> None:
        self._items: list[str | bytes] = []
        self._getter: asyncio.Future[str | bytes] | None = None
        self._putter: asyncio.Future[None] | None = None
        self._size = size

    async def put(self, data: str | bytes) -> None:
        """Hand ``data`` to the handler, waiting while ``size`` messages wait."""
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():  # a getter waits only while nothing is queued
                getter.set_result(data)
                return
        while len(self._items) >= self._size:
            putter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._putter = putter
            try:
                await putter
            finally:
                self._putter = None
        self._items.append(data)

    async def get(self) -> str | bytes:
        """The next message, waiting for one if none is queued."""
        items = self._items
        if items:
            data = items.pop(0)
            putter = self._putter
            if putter is not None and not putter.done():
                putter.set_result(None)
            return data
        getter: asyncio.Future[str | bytes] = asyncio.get_running_loop().create_future()
        self._getter = getter
        try:
            return await getter
        except asyncio.CancelledError:  # e.g. a wait_for timing out just as a message came: keep it
            if getter.done() and not getter.cancelled():
                items.insert(0, getter.result())
            raise
        finally:
            if self._getter is getter:  # cancelled while waiting
                self._getter = None


def close_message(scope: dict[str, Any], code: int, reason: str = "") -> dict[str, Any]:
    """The ``websocket.close`` message; its ``reason`` only to a server of ASGI 2.3 or later."""
    if spec_version(scope) >= (2, 3):
        return {"type": "websocket.close", "code": code, "reason": reason}
    return {"type": "websocket.close", "code": code}


__all__ = ("Inbox", "Websocket", "WebsocketDisconnected")
