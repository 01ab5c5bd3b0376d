"""In-process websocket connections for tests."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from werkzeug.datastructures import Headers


class WebsocketResponseError(Exception):
    """The app refused the handshake; ``.response`` is the HTTP response it sent."""

    def __init__(self, response: Any) -> None:
        super().__init__(response)
        self.response = response


class WebsocketDisconnectError(Exception):
    """The app closed the websocket; ``.code`` and ``.reason`` say how."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class TestWebsocketConnection:
    """``async with client.websocket("/ws") as ws:`` then ``send``/``receive``."""

    __test__ = False

    def __init__(self, app: Any, scope: dict[str, Any]) -> None:
        self.app = app
        self.scope = scope
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None
        self.accepted = False
        self.subprotocol: str | None = None
        self.accept_headers: Headers | None = None
        self.close_code: int | None = None
        self._response_status: int | None = None
        self._response_headers: Any = None
        self._response_body = bytearray()

    async def __aenter__(self) -> TestWebsocketConnection:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._to_app.put({"type": "websocket.connect"})
        first = await self._from_app.get()
        if isinstance(first, BaseException):
            raise first
        return self

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._asgi_receive, self._asgi_send)
        except BaseException as error:
            await self._from_app.put(error)
            raise
        finally:
            await self._from_app.put(WebsocketDisconnectError(self.close_code or 1000))

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()
        if self._task is not None:
            try:
                await self._task
            except WebsocketResponseError:
                pass

    async def _asgi_receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _asgi_send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
            self.subprotocol = message.get("subprotocol")
            self.accept_headers = Headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            )
            await self._from_app.put(None)
        elif kind == "websocket.send":
            data = message.get("bytes")
            await self._from_app.put(data if data is not None else message.get("text"))
        elif kind == "websocket.close":
            self.close_code = message.get("code", 1000)
            error = WebsocketDisconnectError(self.close_code, message.get("reason") or "")
            if not self.accepted:
                from .connections import build_response

                response = build_response(self.app, 403, [], b"")
                await self._from_app.put(WebsocketResponseError(response))
            else:
                await self._from_app.put(error)
        elif kind == "websocket.http.response.start":
            self._response_status = message["status"]
            self._response_headers = message.get("headers", [])
        elif kind == "websocket.http.response.body":
            self._response_body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                from .connections import build_response

                response = build_response(
                    self.app, self._response_status or 500, self._response_headers, bytes(self._response_body)
                )
                await self._from_app.put(WebsocketResponseError(response))

    async def receive(self) -> str | bytes:
        """The next message the app sent; raises WebsocketDisconnectError once it closed."""
        item = await self._from_app.get()
        if isinstance(item, BaseException):
            await self._from_app.put(item)
            raise item
        return item

    async def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            await self._to_app.put({"type": "websocket.receive", "text": data})
        else:
            await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def receive_json(self) -> Any:
        return json.loads(await self.receive())

    async def send_json(self, data: Any) -> None:
        await self.send(json.dumps(data))

    async def close(self, code: int = 1000) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": code})

    async def disconnect(self) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
