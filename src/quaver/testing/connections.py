"""In-process connections to an app: a streaming HTTP request."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from werkzeug.datastructures import Headers


def _decode_headers(raw: Any) -> Headers:
    return Headers([(key.decode("latin-1").title(), value.decode("latin-1")) for key, value in raw])


def build_response(app: Any, status: int, raw_headers: Any, body: bytes) -> Any:
    """The app's response class holding what came over the connection, headers as sent."""
    headers = _decode_headers(raw_headers or [])
    response = app.response_class(body, status)
    response.headers = headers
    return response


class TestHTTPConnection:
    """A request whose body is sent, and whose response is read, in chunks.

    ``async with client.request("/upload", method="POST") as connection:``
    then ``await connection.send(b"...")``, ``await connection.send_complete()``,
    ``await connection.receive()`` (b"" once the response is over) or
    ``await connection.as_response()``.
    """

    __test__ = False

    def __init__(self, app: Any, scope: dict[str, Any], cookie_sink: Any = None) -> None:
        self.app = app
        self.scope = scope
        self.status_code: int | None = None
        self.headers: Headers | None = None
        self.response_data = bytearray()
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None
        self._finished = asyncio.Event()
        self._cookie_sink = cookie_sink

    async def __aenter__(self) -> TestHTTPConnection:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._asgi_receive, self._asgi_send)
        finally:
            self._finished.set()
            await self._chunks.put(None)

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            await self.disconnect()
        assert self._task is not None
        await self._task

    async def send(self, data: bytes) -> None:
        """Send a chunk of the request body."""
        await self._to_app.put({"type": "http.request", "body": data, "more_body": True})

    async def send_complete(self) -> None:
        """Say the request body is complete."""
        await self._to_app.put({"type": "http.request", "body": b"", "more_body": False})

    async def disconnect(self) -> None:
        """Act as a client that went away."""
        await self._to_app.put({"type": "http.disconnect"})

    async def receive(self) -> bytes:
        """The next chunk of the response body, or b"" once it is complete."""
        while True:
            chunk = await self._chunks.get()
            if chunk is None:
                await self._chunks.put(None)
                if self._task is not None and self._task.done() and self._task.exception() is not None:
                    raise self._task.exception()  # type: ignore[misc]
                return b""
            if chunk:
                return chunk

    async def as_response(self) -> Any:
        """Wait for the whole response and return it."""
        assert self._task is not None
        await self._task
        return build_response(self.app, self.status_code or 500, self._raw_headers, bytes(self.response_data))

    async def _asgi_receive(self) -> dict[str, Any]:
        if self._finished.is_set() and self._to_app.empty():
            return {"type": "http.disconnect"}
        return await self._to_app.get()

    _raw_headers: Any = None

    async def _asgi_send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status_code = message["status"]
            self._raw_headers = message.get("headers", [])
            self.headers = _decode_headers(self._raw_headers)
            if self._cookie_sink is not None:
                self._cookie_sink(self.headers)
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            self.response_data.extend(body)
            await self._chunks.put(body)
            if not message.get("more_body", False):
                await self._chunks.put(None)
