"""The websocket object handlers talk through: ``await websocket.receive()``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from werkzeug.datastructures import Headers

from .base import BaseRequestWebsocket


class WebsocketDisconnected(Exception):
    """The client went away; raised by ``receive`` and ``send`` afterwards."""

    def __init__(self, code: int = 1000) -> None:
        super().__init__(code)
        self.code = code


class Websocket(BaseRequestWebsocket):
    """A websocket connection: scope data as on a request, plus messaging.

    The first ``send`` or ``receive`` accepts the connection if the handler
    has not called ``accept`` itself.
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
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
        accept: Callable[..., Awaitable[None]] | None = None,
        close: Callable[..., Awaitable[None]] | None = None,
        scope: dict[str, Any] | None = None,
    ) -> None:
        scope = dict(scope or {}, subprotocols=subprotocols)
        super().__init__("GET", scheme, path, query_string, headers, root_path, http_version, scope)
        self._setup(scope, receive, send)

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> Any:
        self = super().from_scope(scope)
        self.method = "GET"
        return self

    def _setup(self, scope: dict[str, Any], receive: Any, send: Any, max_size: int | None = None) -> None:
        self._receive_message = receive  # returns the next data message (str or bytes)
        self._send_message = send  # sends an ASGI message
        self.accepted = False
        self.closed = False
        self.close_code: int | None = None
        self.max_message_size = max_size

    @property
    def requested_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols") or [])

    async def accept(self, headers: Any = None, subprotocol: str | None = None) -> None:
        """Accept the connection, optionally with extra headers and a chosen subprotocol."""
        if self.accepted:
            return
        if subprotocol is not None and subprotocol not in self.requested_subprotocols:
            raise ValueError(f"Subprotocol {subprotocol!r} was not requested by the client")
        raw_headers = []
        if headers:
            items = headers.items() if hasattr(headers, "items") else headers
            raw_headers = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in items]
        self.accepted = True
        await self._send_message({"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw_headers})

    async def receive(self) -> str | bytes:
        """Wait for the next message from the client."""
        await self.accept()
        return await self._receive_message()

    async def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message to the client."""
        await self.accept()
        if self.closed:
            raise WebsocketDisconnected(self.close_code or 1000)
        if isinstance(data, str):
            await self._send_message({"type": "websocket.send", "text": data})
        else:
            await self._send_message({"type": "websocket.send", "bytes": bytes(data)})

    async def receive_json(self) -> Any:
        """Receive a message and parse it as JSON."""
        data = await self.receive()
        return self.json_module.loads(data)

    async def send_json(self, *args: Any, **kwargs: Any) -> None:
        """Send JSON text of one value, several values as a list, or keywords as an object."""
        if args and kwargs:
            raise TypeError("send_json takes either positional or keyword arguments, not both")
        value = args[0] if len(args) == 1 else (list(args) if args else kwargs)
        dumps = getattr(self.json_module, "dumps", json.dumps)
        await self.send(dumps(value))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code`` (before accept: refuse it, 403)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        await self._send_message({"type": "websocket.close", "code": code, "reason": reason})


__all__ = ("Websocket", "WebsocketDisconnected")
