"""Type aliases and protocols for typing Quaver apps, the names Quart's
``quart.typing`` offers. Imports nothing from the rest of the package at
run time: the classes they mention are named under ``TYPE_CHECKING``."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Union

from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPScope,
    LifespanScope,
    WebsocketScope,
)

if TYPE_CHECKING:
    from werkzeug.datastructures import Authorization, Headers
    from werkzeug.wrappers import Response as WerkzeugResponse

    from .app import Quaver
    from .datastructures import FileStorage
    from .sessions import SessionMixin
    from .testing.cookies import CookieJar
    from .wrappers.response import Response

# The raw ASGI contract, as the adapter and the test clients see it.
Scope = dict[str, Any]
Message = dict[str, Any]
ASGIReceive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]

# A path on disk, as ``send_file`` and ``open_resource`` take it.
FilePath = Union[bytes, str, "os.PathLike[Any]"]

# What a view may return as the body of its response.
ResponseValue = Union[
    "Response",
    "WerkzeugResponse",
    bytes,
    str,
    Mapping[str, Any],  # made JSON
    list[Any],  # made JSON
    Iterator[bytes],  # streamed
    Iterator[str],
]
# Bodies Response() itself takes (the async iterables are streamed).
ResponseBody = str | bytes | dict[str, Any] | list[Any] | Iterable[Any] | AsyncIterable[Any]
StatusCode = int

HeaderName = str
HeaderValue = str | list[str] | tuple[str, ...]
HeadersValue = Union[
    "Headers",
    Mapping[HeaderName, HeaderValue],
    Sequence[tuple[HeaderName, HeaderValue]],
]

# A view's return value: a body, optionally with a status and/or headers.
ResponseReturnValue = (
    ResponseValue
    | tuple[ResponseValue, HeadersValue]
    | tuple[ResponseValue, StatusCode]
    | tuple[ResponseValue, StatusCode, HeadersValue]
)

# The response objects the after-request hooks are given and give back.
ResponseTypes = Union["Response", "WerkzeugResponse"]

# The key of the app's registrations (None) or of a blueprint's (its name).
AppOrBlueprintKey = str | None

# Views and hooks: each may be a plain function or a coroutine function.
RouteCallable = Callable[..., ResponseReturnValue] | Callable[..., Awaitable[ResponseReturnValue]]
WebsocketCallable = (
    Callable[..., ResponseReturnValue | None]
    | Callable[..., Awaitable[ResponseReturnValue | None]]
)
BeforeRequestCallable = (
    Callable[[], ResponseReturnValue | None]
    | Callable[[], Awaitable[ResponseReturnValue | None]]
)
BeforeWebsocketCallable = BeforeRequestCallable
AfterRequestCallable = (
    Callable[[ResponseTypes], ResponseTypes]
    | Callable[[ResponseTypes], Awaitable[ResponseTypes]]
)
AfterWebsocketCallable = (
    Callable[[ResponseTypes | None], ResponseTypes | None]
    | Callable[[ResponseTypes | None], Awaitable[ResponseTypes | None]]
)
TeardownCallable = (
    Callable[[BaseException | None], None]
    | Callable[[BaseException | None], Awaitable[None]]
)
ErrorHandlerCallable = (
    Callable[[Any], ResponseReturnValue]
    | Callable[[Any], Awaitable[ResponseReturnValue]]
)
BeforeServingCallable = Callable[[], None] | Callable[[], Awaitable[None]]
AfterServingCallable = BeforeServingCallable
WhileServingCallable = Callable[[], AsyncGenerator[None, None]]
ShellContextProcessorCallable = Callable[[], dict[str, Any]]
TemplateContextProcessorCallable = (
    Callable[[], dict[str, Any]]
    | Callable[[], Awaitable[dict[str, Any]]]
)
TemplateFilterCallable = Callable[[Any], Any]
TemplateGlobalCallable = Callable[[Any], Any]
TemplateTestCallable = Callable[[Any], bool]
URLDefaultCallable = Callable[[str, dict[str, Any]], None]
URLValuePreprocessorCallable = Callable[[str | None, dict[str, Any] | None], None]


class ASGIHTTPProtocol(Protocol):
    """Handles one HTTP request of ``app``: built with its scope, called
    with the ASGI ``receive`` and ``send``."""

    def __init__(self, app: Quaver, scope: HTTPScope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


class ASGIWebsocketProtocol(Protocol):
    """Handles one websocket of ``app``, as ``ASGIHTTPProtocol`` a request."""

    def __init__(self, app: Quaver, scope: WebsocketScope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


class ASGILifespanProtocol(Protocol):
    """Runs ``app``'s start-up and shutdown for an ASGI server."""

    def __init__(self, app: Quaver, scope: LifespanScope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


class TestHTTPConnectionProtocol(Protocol):
    """An open test request (``client.request(...)``): send the body in
    parts, read the response as it streams."""

    push_promises: list[tuple[str, Headers]]

    def __init__(self, app: Quaver, scope: HTTPScope, _preserve_context: bool = False) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def send_complete(self) -> None: ...

    async def receive(self) -> bytes: ...

    async def disconnect(self) -> None: ...

    async def __aenter__(self) -> TestHTTPConnectionProtocol: ...

    async def __aexit__(self, exc_type: type, exc_value: BaseException, tb: TracebackType) -> None: ...

    async def as_response(self) -> Response: ...


class TestWebsocketConnectionProtocol(Protocol):
    """An open test websocket (``client.websocket(...)``)."""

    def __init__(self, app: Quaver, scope: WebsocketScope) -> None: ...

    async def __aenter__(self) -> TestWebsocketConnectionProtocol: ...

    async def __aexit__(self, exc_type: type, exc_value: BaseException, tb: TracebackType) -> None: ...

    async def receive(self) -> str | bytes: ...

    async def send(self, data: str | bytes) -> None: ...

    async def receive_json(self) -> Any: ...

    async def send_json(self, data: Any) -> None: ...

    async def close(self, code: int) -> None: ...

    async def disconnect(self) -> None: ...


class TestClientProtocol(Protocol):
    """What ``app.test_client()`` gives: requests and websockets sent to
    the app in-process, with a cookie jar."""

    app: Quaver
    cookie_jar: CookieJar | None
    push_promises: list[tuple[str, Headers]]

    # Read-only here, so that a client's own connection classes (Quaver's
    # take a cookie callback where Quart's take _preserve_context) fit.
    @property
    def http_connection_class(self) -> type[TestHTTPConnectionProtocol]: ...

    @property
    def websocket_connection_class(self) -> type[TestWebsocketConnectionProtocol]: ...

    def __init__(self, app: Quaver, use_cookies: bool = True) -> None: ...

    async def open(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, Any] | Headers | None = None,
        data: str | bytes | None = None,
        form: dict[str, Any] | None = None,
        files: dict[str, FileStorage] | None = None,
        query_string: dict[str, Any] | None = None,
        json: Any,
        scheme: str = "http",
        follow_redirects: bool = False,
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Authorization | tuple[str, str] | None = None,
        subdomain: str | None = None,
    ) -> Response: ...

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, Any] | Headers | None = None,
        query_string: dict[str, Any] | None = None,
        scheme: str = "http",
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Authorization | tuple[str, str] | None = None,
        subdomain: str | None = None,
    ) -> TestHTTPConnectionProtocol: ...

    def websocket(
        self,
        path: str,
        *,
        headers: dict[str, Any] | Headers | None = None,
        query_string: dict[str, Any] | None = None,
        scheme: str = "ws",
        subprotocols: list[str] | None = None,
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Authorization | tuple[str, str] | None = None,
        subdomain: str | None = None,
    ) -> TestWebsocketConnectionProtocol: ...

    async def delete(self, *args: Any, **kwargs: Any) -> Response: ...

    async def get(self, *args: Any, **kwargs: Any) -> Response: ...

    async def head(self, *args: Any, **kwargs: Any) -> Response: ...

    async def options(self, *args: Any, **kwargs: Any) -> Response: ...

    async def patch(self, *args: Any, **kwargs: Any) -> Response: ...

    async def post(self, *args: Any, **kwargs: Any) -> Response: ...

    async def put(self, *args: Any, **kwargs: Any) -> Response: ...

    async def trace(self, *args: Any, **kwargs: Any) -> Response: ...

    def set_cookie(
        self,
        server_name: str,
        key: str,
        value: str = "",
        max_age: int | timedelta | None = None,
        expires: int | float | datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        charset: str = "utf-8",
    ) -> None: ...

    def delete_cookie(self, server_name: str, key: str, path: str = "/", domain: str | None = None) -> None: ...

    def session_transaction(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        headers: dict[str, Any] | Headers | None = None,
        query_string: dict[str, Any] | None = None,
        scheme: str = "http",
        data: str | bytes | None = None,
        form: dict[str, Any] | None = None,
        json: Any = None,
        root_path: str = "",
        http_version: str = "1.1",
    ) -> AbstractAsyncContextManager[SessionMixin]: ...

    async def __aenter__(self) -> TestClientProtocol: ...

    async def __aexit__(self, exc_type: type, exc_value: BaseException, tb: TracebackType) -> None: ...


class TestAppProtocol(Protocol):
    """What ``app.test_app()`` gives: the app started up for a test, and
    shut down at the end of ``async with``."""

    def __init__(self, app: Quaver) -> None: ...

    def test_client(self) -> TestClientProtocol: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def __aenter__(self) -> TestAppProtocol: ...

    async def __aexit__(self, exc_type: type, exc_value: BaseException, tb: TracebackType) -> None: ...


class Event(Protocol):
    """A flag that can be set and tested (``asyncio.Event``, ``threading.Event``)."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...
