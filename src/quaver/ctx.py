"""The app, request and websocket contexts, on contextvars."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from blinker import Signal

from .globals import _cv_app, _cv_request, _cv_websocket
from .signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_tearing_down,
    websocket_tearing_down,
)

if TYPE_CHECKING:
    from .app import Quaver

_sentinel = object()


class _AppCtxGlobals:
    """The ``g`` object: a namespace for one app context's data."""

    if TYPE_CHECKING:  # any attribute may be set on g, and read back
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...
        def __delattr__(self, name: str) -> None: ...

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Any:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<quaver.g of '{ctx.app.name}'>"
        return object.__repr__(self)


class AppContext:
    """Binds an app (``current_app``) and its ``g`` to the running task."""

    _url_adapter: Any = _sentinel

    def __init__(self, app: Quaver) -> None:
        self.app = app
        self.g = app.app_ctx_globals_class()
        self._tokens: list[Any] = []

    @property
    def url_adapter(self) -> Any:
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter

    def copy(self) -> AppContext:
        """A new app context for the same app sharing this one's ``g`` (to push in another task)."""
        copied = self.__class__(self.app)
        copied.g = self.g
        return copied

    async def push(self) -> None:
        self._tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            await appcontext_pushed.send_async(self.app, _sync_wrapper=self.app.ensure_async)

    async def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        try:
            if len(self._tokens) == 1 and (self.app.teardown_appcontext_funcs or appcontext_tearing_down.receivers):
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                await self.app.do_teardown_appcontext(exc)
        finally:
            _cv_app.reset(self._tokens.pop())
        if appcontext_popped.receivers:
            await appcontext_popped.send_async(self.app, _sync_wrapper=self.app.ensure_async)

    async def __aenter__(self) -> AppContext:
        await self.push()
        return self

    async def __aexit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        await self.pop(exc_value)


class _RequestWebsocketContext:
    """What request and websocket contexts share: the app context they
    push, the session, flashes and the URL adapter."""

    _cv: Any = None
    #: Sent as the context is torn down (request_tearing_down or websocket_tearing_down).
    _teardown_signal: Signal
    #: True once ``auto_pop`` kept the context pushed (Quart's name).
    preserved = False

    # Defaults until set: one context is made per request, so __init__ sets only what each needs.
    flashes: list[Any] | None = None
    _url_adapter: Any = _sentinel
    #: after_this_request's functions: an empty tuple until the first is added.
    _after_request_functions: list[Callable[..., Any]] | tuple[()] = ()
    #: What the app computed for this request's endpoint (hooks in order).
    _plan: Any = None

    def __init__(self, app: Quaver, request_websocket: Any, session: Any = None) -> None:
        self.app = app
        self.request_websocket = request_websocket
        self._session = session
        self._tokens: list[tuple[Any, AppContext | None]] = []

    @property
    def url_adapter(self) -> Any:
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(self.request_websocket)
        return self._url_adapter

    @url_adapter.setter
    def url_adapter(self, value: Any) -> None:
        self._url_adapter = value

    @property
    def session(self) -> Any:
        """The session, opened from the request's cookie on first use."""
        session = self._session
        if session is None:
            session = self._session = self.app._open_session_sync(self.request_websocket)
        session.accessed = True  # read or written: the response varies by cookie
        return session

    @session.setter
    def session(self, value: Any) -> None:
        self._session = value

    def copy(self) -> Any:
        """A new context of the same kind for the same request and session (to push in another task)."""
        return self.__class__(self.app, self.request_websocket, self._session)

    async def auto_pop(self, exc: BaseException | None) -> None:
        """Pop the context, unless it is to be kept for the test that made the
        request (``async with client:``) or, after an error, by
        PRESERVE_CONTEXT_ON_EXCEPTION: then mark it ``preserved`` and leave it
        pushed (the client pops what it kept when its block ends)."""
        kept = self.request_websocket.scope.get("_quaver_preserve")
        if kept is not None or (exc is not None and self.app.config["PRESERVE_CONTEXT_ON_EXCEPTION"]):
            self.preserved = True
            if kept is not None:
                kept.append((self, exc))
        else:
            await self.pop(exc)

    def match_request(self) -> None:
        """Match the request's URL to a rule; errors are kept for dispatch."""
        self.app._match(self.request_websocket, self)  # type: ignore[arg-type]  # only the subclasses are made

    async def push(self) -> None:
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = AppContext(self.app)
            app_ctx._tokens.append(_cv_app.set(app_ctx))
            if appcontext_pushed.receivers:
                await appcontext_pushed.send_async(self.app, _sync_wrapper=self.app.ensure_async)
        else:
            app_ctx = None
        self._tokens.append((self._cv.set(self), app_ctx))
        if self._session is None and self.app._session_needs_async_open:
            self._session = await self.app.open_session(self.request_websocket)
        request_websocket = self.request_websocket
        if request_websocket.url_rule is None and request_websocket.routing_exception is None:
            self.match_request()  # as Flask: url_rule and view_args are known once pushed

    async def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        clear_request = len(self._tokens) == 1
        try:
            plan = self._plan
            if clear_request and (plan is None or plan.teardown or self._teardown_signal.receivers):
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                await self._teardown(exc)
        finally:
            token, app_ctx = self._tokens.pop()
            self._cv.reset(token)
            if app_ctx is not None:
                await app_ctx.pop(exc)

    async def _teardown(self, exc: BaseException | None) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Any:
        await self.push()
        return self

    async def __aexit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        await self.pop(exc_value)


class RequestContext(_RequestWebsocketContext):
    """Binds ``request`` (and ``session``) to the running task."""

    _cv = _cv_request

    @property
    def request(self) -> Any:
        return self.request_websocket

    @request.setter
    def request(self, value: Any) -> None:
        self.request_websocket = value

    _teardown_signal = request_tearing_down

    async def _teardown(self, exc: BaseException | None) -> None:
        await self.app.do_teardown_request(exc)


class WebsocketContext(_RequestWebsocketContext):
    """Binds ``websocket`` (and ``session``) to the running task."""

    _cv = _cv_websocket
    _teardown_signal = websocket_tearing_down

    @property
    def websocket(self) -> Any:
        return self.request_websocket

    async def _teardown(self, exc: BaseException | None) -> None:
        await self.app.do_teardown_websocket(exc)


def has_app_context() -> bool:
    """True inside an app context (a request, a websocket or ``app.app_context()``)."""
    return _cv_app.get(None) is not None


def has_request_context() -> bool:
    """True while handling a request."""
    return _cv_request.get(None) is not None


def has_websocket_context() -> bool:
    """True while handling a websocket."""
    return _cv_websocket.get(None) is not None


def _add_after(ctx: Any, func: Callable[..., Any]) -> None:
    functions = ctx._after_request_functions
    if functions.__class__ is tuple:
        functions = ctx._after_request_functions = []
    functions.append(func)


def after_this_request(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func(response)`` after this request's view, before the app's after_request hooks."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("'after_this_request' can only be used during a request.")
    _add_after(ctx, func)
    return func


def after_this_websocket(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func(response)`` after this websocket's handler."""
    ctx = _cv_websocket.get(None)
    if ctx is None:
        raise RuntimeError("'after_this_websocket' can only be used in a websocket.")
    _add_after(ctx, func)
    return func


def _copy_context(cv: Any, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    ctx = cv.get(None)
    if ctx is None:
        raise RuntimeError(f"'copy_current_{name}_context' needs an active {name} context.")
    app = ctx.app if name != "app" else ctx.app
    ensure = app.ensure_async(func)

    @wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name == "app":
            async with AppContext(app) as new_ctx:
                new_ctx.g = ctx.g
                return await ensure(*args, **kwargs)
        copied = type(ctx)(app, ctx.request_websocket, ctx._session)
        copied.flashes = ctx.flashes
        async with copied:
            return await ensure(*args, **kwargs)

    return wrapper


def copy_current_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func`` wrapped to run in a copy of the current app context (sharing ``g``)."""
    return _copy_context(_cv_app, "app", func)


def copy_current_request_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func`` wrapped to run in a copy of the current request context."""
    return _copy_context(_cv_request, "request", func)


def copy_current_websocket_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func`` wrapped to run in a copy of the current websocket context."""
    return _copy_context(_cv_websocket, "websocket", func)
