"""In-process connections to an app: a streaming HTTP request
(``client.request``) and a websocket (``client.websocket``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers

from ..utils import decode_headers

if TYPE_CHECKING:
    from ..app import Quaver
    from ..wrappers import Response


def build_response(app: Quaver, status: int, raw_headers: Any, body: bytes) -> Response:
    """The app's response class holding what came over the connection, headers as sent
    (``raw_headers`` as ASGI pairs of bytes, or Headers); ``get_json`` reads it with the app's provider."""
    response = app.response_class(body, status)
    response.json_module = app.json
    response.headers = raw_headers if isinstance(raw_headers, Headers) else decode_headers(raw_headers or [])
    return response


_END = object()  # put on a connection's queue when the app has finished


class HTTPDisconnectError(Exception):
    """The app ended the HTTP connection (it sent ``http.disconnect``)
    before its response was complete; ``receive`` raises it."""


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
        self, app: Quaver, scope: dict[str, Any], on_headers: Callable[[Headers], None] | None = None
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
            if isinstance(chunk, HTTPDisconnectError):
                raise chunk
            if chunk:
                return bytes(chunk)

    async def as_response(self) -> Response:
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
        elif kind == "http.disconnect":
            self._chunks.put_nowait(HTTPDisconnectError())


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


#: Turns of the event loop a websocket leaving its block gives the app to answer the handshake.
_ANSWER_TURNS = 50


class TestWebsocketConnection:
    """A websocket to the app: ``async with client.websocket("/ws") as ws:``
    then ``await ws.send(...)`` and ``await ws.receive()``.

    Entering the block starts the app's handler and does not wait for it to
    accept, so a handler may wait for something the test does first. Once the
    app has closed the connection, ``receive`` raises WebsocketDisconnectError;
    if it refused the handshake, ``receive`` (or leaving the block) raises
    WebsocketResponseError; an error the app let propagate (as it does when
    testing) is raised the same way.
    """

    __test__ = False

    def __init__(self, app: Quaver, scope: dict[str, Any]) -> None:
        self.app = app
        self.scope = scope
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None
        self._end: BaseException | None = None  # what receive raises once the messages run out
        self._end_seen = False
        #: Set once the app accepts: the chosen subprotocol and the extra headers.
        self.accepted = False
        self.subprotocol: str | None = None
        self.accept_headers: Headers | None = None
        #: Set once the app closes the connection.
        self.close_code: int | None = None
        self.close_reason: str | None = None
        #: Set if the app refused the handshake with an HTTP response.
        self.response: Any = None
        self._status = 500
        self._raw_headers: Any = []
        self._body = bytearray()

    async def __aenter__(self) -> TestWebsocketConnection:
        await self._to_app.put({"type": "websocket.connect"})
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._task is not None
        if exc is None:
            await self._let_the_app_answer()
        await self.disconnect()
        try:
            await self._task
        except Exception as error:
            if exc is None and not (self._end_seen and self._end is error):
                raise  # the app's own error (it propagates when testing), not yet seen by receive
            return
        if exc is None and self.response is not None and not self._end_seen:
            self._end_seen = True
            raise WebsocketResponseError(self.response)

    async def _let_the_app_answer(self) -> None:
        """Before leaving, give the app a few turns of the loop to answer the
        handshake, so that a refusal it makes at once (a route that is not a
        websocket's, an abort in a before_websocket hook) is raised on leaving,
        as in Quart, rather than lost to the disconnect. A handler still
        waiting for something after that is disconnected as before."""
        assert self._task is not None
        for _ in range(_ANSWER_TURNS):
            if self.accepted or self.response is not None or self._task.done():
                return
            await asyncio.sleep(0)

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._asgi_receive, self._asgi_send)
        except asyncio.CancelledError:
            self._finish(WebsocketDisconnectError(1006, "The app was cancelled"))
            raise
        except BaseException as error:
            self._finish(error, overrides=True)
            raise
        else:
            self._finish(WebsocketDisconnectError(self.close_code or 1006, self.close_reason or ""))

    def _finish(self, error: BaseException, overrides: bool = False) -> None:
        """Record how the connection ended; ``receive`` raises it once the
        messages before it are read. The app's own error (``overrides``)
        replaces a close it sent on its way out, if that was not read yet."""
        if self._end is None:
            self._end = error
            self._from_app.put_nowait(_END)
        elif overrides and not self._end_seen:
            self._end = error

    async def _asgi_receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _asgi_send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            data = message.get("bytes")
            self._from_app.put_nowait(data if data is not None else message.get("text"))
        elif kind == "websocket.accept":
            self.accepted = True
            self.subprotocol = message.get("subprotocol")
            raw_headers = message.get("headers") or ()
            self.accept_headers = Headers(
                [(key.decode("latin-1").title(), value.decode("latin-1")) for key, value in raw_headers]
            )
        elif kind == "websocket.close":
            self.close_code = message.get("code", 1000)
            self.close_reason = message.get("reason") or ""
            if self.accepted:
                self._finish(WebsocketDisconnectError(self.close_code, self.close_reason))
            else:  # a close before accepting is how servers without the extension refuse: 403
                self._reject(build_response(self.app, 403, [], b""))
        elif kind == "websocket.http.response.start":
            self._status = message["status"]
            self._raw_headers = message.get("headers") or []
        elif kind == "websocket.http.response.body":
            self._body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                self._reject(build_response(self.app, self._status, self._raw_headers, bytes(self._body)))

    # Quart's names for the refusal's parts, None (empty) until the app refuses.
    @property
    def status_code(self) -> int | None:
        """The status of the response refusing the handshake."""
        return self.response.status_code if self.response is not None else None

    @property
    def headers(self) -> Headers | None:
        """The headers of the response refusing the handshake."""
        return self.response.headers if self.response is not None else None

    @property
    def response_data(self) -> bytearray:
        """The body of the response refusing the handshake, as it arrives."""
        return self._body

    def _reject(self, response: Any) -> None:
        self.response = response
        self._finish(WebsocketResponseError(response))

    async def receive(self) -> str | bytes:
        """The next message from the app: str for text, bytes for binary."""
        item = await self._from_app.get()
        if item is _END:
            self._from_app.put_nowait(_END)  # it stays the answer to every later receive
            self._end_seen = True
            raise self._end  # type: ignore[misc]
        received: str | bytes = item
        return received

    async def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message to the app."""
        if isinstance(data, str):
            await self._to_app.put({"type": "websocket.receive", "text": data})
        else:
            await self._to_app.put({"type": "websocket.receive", "bytes": bytes(data)})

    async def receive_json(self) -> Any:
        """Receive a message and parse it as JSON."""
        return self.app.json.loads(await self.receive())

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as JSON text."""
        await self.send(self.app.json.dumps(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client's side, with ``code``."""
        await self._to_app.put({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def disconnect(self) -> None:
        """Go away, as a client whose connection dropped."""
        await self._to_app.put({"type": "websocket.disconnect", "code": 1006})
