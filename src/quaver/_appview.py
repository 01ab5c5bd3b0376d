"""The app as its mixins see it, for the type checker only.

``Quaver`` is assembled from mixins (serving, error handling, HTTP and
websocket dispatch) that call one another through ``self``. Each derives from
``AppView``: when type checking, a class that is Flask's ``App`` plus the
declarations of what Quaver and its mixins add, so mypy checks every such
call, and every definition against its declaration, by one signature; at run
time, ``object``, adding nothing to the app's classes or to a request's path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["AppView"]

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
    from types import TracebackType
    from typing import Any, NoReturn, ParamSpec, TypeVar, overload

    from flask.sansio.app import App
    from werkzeug.exceptions import HTTPException

    from .ctx import AppContext, RequestContext, WebsocketContext
    from .dispatch import _Plan
    from .routing import QuaverMap
    from .scaffold import QuaverScaffoldMixin
    from .sessions import AppSessionMixin, SessionInterface
    from .typing import ResponseReturnValue, ResponseTypes
    from .wrappers import Request, Response, Websocket
    from .wrappers.base import BaseRequestWebsocket

    P = ParamSpec("P")
    R = TypeVar("R")

    # static_folder is a Path here (Quart's), a str in Flask's Scaffold.
    class AppView(QuaverScaffoldMixin, AppSessionMixin, App):  # type: ignore[misc]
        # Quaver's classes where Flask's App names Flask's.
        request_class: type[Request]
        response_class: type[Response]
        websocket_class: type[Websocket]
        url_map: QuaverMap
        session_interface: SessionInterface

        # Set in Quaver.__init__.
        before_serving_funcs: list[Callable[..., Any]]
        after_serving_funcs: list[Callable[..., Any]]
        while_serving_gens: list[Callable[..., AsyncGenerator[Any, None]]]
        _serving_gens: list[AsyncGenerator[Any, None]]
        background_tasks: set[asyncio.Task[Any]]
        shutdown_event: asyncio.Event
        _plans: dict[tuple[str | None, bool], _Plan]

        @overload
        def ensure_async(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...
        @overload
        def ensure_async(self, func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]: ...
        def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Any]: ...
        def app_context(self) -> AppContext: ...
        async def make_response(self, rv: ResponseReturnValue | HTTPException) -> ResponseTypes: ...
        def _sendable(self, response: ResponseTypes) -> Response: ...
        def _exception_response(self, error: HTTPException) -> Response: ...

        def _match(self, request: BaseRequestWebsocket, ctx: RequestContext | WebsocketContext) -> None: ...
        def _plan(self, endpoint: str | None, websocket: bool = False) -> _Plan: ...
        def _plan_of(self, ctx: RequestContext | WebsocketContext, websocket: bool = False) -> _Plan: ...
        def raise_routing_exception(self, request: BaseRequestWebsocket) -> NoReturn: ...
        async def finalize_request(
            self,
            result: ResponseReturnValue | HTTPException,
            request_context: RequestContext | None = None,
            from_error_handler: bool = False,
        ) -> Response: ...

        async def handle_user_exception(self, error: Exception) -> HTTPException | ResponseReturnValue: ...
        async def handle_exception(self, error: Exception) -> Response: ...
        def _propagate_exceptions(self) -> bool: ...
        def log_exception(
            self, exc_info: tuple[type, BaseException, TracebackType | None] | tuple[None, None, None]
        ) -> None: ...
        def _teardown_failed(self, error: Exception) -> None: ...

else:
    AppView = object
