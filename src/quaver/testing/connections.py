"""In-process connections to an app: a streaming HTTP request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

from werkzeug.datastructures import Headers

from ..utils import decode_headers


def build_response(app: Any, status: int, raw_headers: Any, body: bytes) -> Any:
    """The app's response class holding what came over the connection, headers as sent
    (``raw_headers`` as ASGI pairs of bytes, or Headers)."""
    response = app.response_class(body, status)
    response.headers = raw_headers if isinstance(raw_headers, Headers) else decode_headers(raw_headers or [])
    return response


_END = object()  # put on the chunk queue when the app has finished


class TestHTTPConnection:
    """A request whose body is sent, and whose response is read, in chunks.

    ``async with client.request("/upload", method="POST") as connection:``
    then ``await connection.send(b"...")``, ``await connection.send_complete()``,
    ``await connection.receive()`` (b"" once the response is over) or
    ``await connection.as_response()``. The app runs in its own task from
    the start of the block; leaving the block waits for it to finish (after
    telling it the client went away, if the block raised).
    """

    __test__ = False

    def __init__(
        self, app: Any, scope: dict[str, Any], on_headers: Callable[[Headers], None] | None = None
    ) -> None:
        self.app = app
        self.scope = scope
        self.status_code: int | None = None
        self.headers: Headers | None = None
        self.response_data = bytearray()
        self.push_promises: list[tuple[str, Headers]] = []
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._chunks: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._on_headers = on_headers

    async def __aenter__(self) -> TestHTTPConnection:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            await self.disconnect()
        await self._wait()

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._asgi_receive, self._asgi_send)
        except BaseException as error:
            self._error = error
            raise
        finally:
            self._chunks.put_nowait(_END)

    async def _wait(self) -> None:
        if self._task is None:
            raise RuntimeError("Use the connection as 'async with client.request(...) as connection:'")
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
        """The next chunk of the response body; b"" once it is complete.

        If the app raised before finishing its response, so does this.
        """
        while True:
            chunk = await self._chunks.get()
            if chunk is _END:
                self._chunks.put_nowait(_END)  # later calls see the end too
                if self._error is not None and not isinstance(self._error, asyncio.CancelledError):
                    raise self._error
                return b""
            if chunk:
                return chunk

    async def as_response(self) -> Any:
        """Wait for the app to finish and return its whole response."""
        await self._wait()
        return build_response(self.app, self.status_code or 500, self.headers or Headers(), bytes(self.response_data))

    async def _asgi_receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _asgi_send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status_code = message["status"]
            self.headers = decode_headers(message.get("headers", []))
            if self._on_headers is not None:
                self._on_headers(self.headers)
        elif kind == "http.response.body":
            body = message.get("body", b"")
            self.response_data.extend(body)
            self._chunks.put_nowait(body)
            if not message.get("more_body", False):
                self._chunks.put_nowait(_END)
        elif kind == "http.response.push":
            self.push_promises.append((message["path"], decode_headers(message.get("headers", []))))
