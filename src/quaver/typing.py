"""Type aliases shared across Quaver; imports nothing else from the package."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import Any, Union

from hypercorn.typing import HTTPScope, LifespanScope, WebsocketScope
from werkzeug.datastructures import Headers

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIReceive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]

ResponseBody = Union[str, bytes, dict, list, Iterable[Any], AsyncIterable[Any]]
StatusCode = int
HeadersValue = Union[Headers, Mapping[str, str], Iterable[tuple[str, str]]]
ResponseReturnValue = Any

RouteCallable = Callable[..., Any]
BeforeRequestCallable = Callable[[], Any]
AfterRequestCallable = Callable[[Any], Any]
TeardownCallable = Callable[[BaseException | None], Any]
ErrorHandlerCallable = Callable[[Any], Any]

ResponseTypes = Any
