"""Sessions: a signed cookie by default, pluggable through SessionInterface.

A session interface's methods may be plain functions or coroutines; the app
awaits them when they are coroutines.
"""

from __future__ import annotations

import inspect
from typing import Any

from flask.sessions import (
    NullSession,
    SecureCookieSession,
    SessionMixin,
    session_json_serializer,  # the signed cookie's tagged JSON
)
from flask.sessions import SecureCookieSessionInterface as _FlaskSecureCookieSessionInterface
from flask.sessions import SessionInterface as _FlaskSessionInterface

from .utils import is_coroutine_function

__all__ = (
    "AppSessionMixin",
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "session_json_serializer",
)


class SessionInterface(_FlaskSessionInterface):
    """The base for session backends: ``open_session(app, request)`` and
    ``save_session(app, session, response)``, sync or async.

    As in Quart, the base's ``open_session``, ``save_session`` and
    ``make_null_session`` are coroutines, so a subclass may ``await
    super()...``; the app calls a sync override as it is.
    """

    async def make_null_session(self, app: Any) -> NullSession:  # type: ignore[override]
        """The session given when a real one can't be opened (no secret key):
        reading it works, writing to it raises."""
        return self.null_session_class()

    async def open_session(self, app: Any, request: Any) -> SessionMixin | None:  # type: ignore[override]
        """The session for ``request``, or None to use a null session."""
        raise NotImplementedError()

    async def save_session(self, app: Any, session: Any, response: Any) -> None:  # type: ignore[override]
        """Store ``session`` after ``response`` was made (a cookie on it, or a backend's store)."""
        raise NotImplementedError()


class SecureCookieSessionInterface(_FlaskSecureCookieSessionInterface, SessionInterface):
    """Keeps the session in a cookie signed with ``SECRET_KEY`` (and
    ``SECRET_KEY_FALLBACKS`` for rotation). A tampered or expired cookie
    yields an empty session.

    ``open_session`` and ``save_session`` are coroutines, as in Quart
    (``await super().open_session(app, request)`` in a subclass). The app
    does not pay for that: while they are not overridden it calls the
    signing code directly, and opens the session only when it is used.
    """

    async def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:  # type: ignore[override]
        """The session signed into ``request``'s cookie (empty if none or invalid);
        None without a secret key."""
        return _FlaskSecureCookieSessionInterface.open_session(self, app, request)

    async def save_session(self, app: Any, session: Any, response: Any) -> None:  # type: ignore[override]
        """Sign ``session`` into a cookie on ``response`` (or delete the cookie)."""
        _FlaskSecureCookieSessionInterface.save_session(self, app, session, response)


def _sync_methods(interface: Any) -> tuple[Any, Any]:
    """Plain callables opening and saving sessions for ``interface`` (each None
    where it has to be awaited)."""
    methods = []
    for name in ("open_session", "save_session"):
        method = getattr(interface, name)
        builtin = getattr(SecureCookieSessionInterface, name)
        if getattr(type(interface), name, None) is builtin and name not in vars(interface):
            method = getattr(_FlaskSecureCookieSessionInterface, name).__get__(interface)
        elif is_coroutine_function(method):
            method = None
        methods.append(method)
    return methods[0], methods[1]


def _finished(value: Any) -> Any:
    """``value``, or what the coroutine ``value`` returns when it finishes
    without waiting (as the base ``make_null_session`` does)."""
    if not inspect.iscoroutine(value):
        return value
    try:
        value.send(None)
    except StopIteration as done:
        return done.value
    value.close()
    raise RuntimeError("A make_null_session that waits needs an async open_session too.")


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class AppSessionMixin:
    """The app's side of sessions: open on first use (or at push for an async
    interface), save after the response is made."""

    _session_methods: tuple[Any, Any, Any] | None = None
    session_interface: Any
    config: Any

    def _session_sync_methods(self) -> tuple[Any, Any]:
        """The interface's open and save as plain callables (None: await it)."""
        interface = self.session_interface
        cached = self._session_methods
        if cached is None or cached[0] is not interface:
            cached = self._session_methods = (interface, *_sync_methods(interface))
        return cached[1], cached[2]

    @property
    def _session_needs_async_open(self) -> bool:
        """True if the session interface opens sessions with a coroutine."""
        cached = self._session_methods
        if cached is None or cached[0] is not self.session_interface:
            return self._session_sync_methods()[0] is None
        return cached[1] is None

    async def open_session(self, request: Any) -> Any:
        """Open the session for ``request`` (a null session when it can't be)."""
        interface = self.session_interface
        session = await _maybe_await(interface.open_session(self, request))
        if session is None:
            session = await _maybe_await(interface.make_null_session(self))
        return session

    def _open_session_sync(self, request: Any) -> Any:
        interface = self.session_interface
        opener = self._session_sync_methods()[0]
        session = (opener or interface.open_session)(self, request)
        if inspect.iscoroutine(session):
            # A plain method handing on ``super().open_session(...)``: the
            # cookie interface's coroutine finishes without waiting, so it is
            # run to its end here; one that waits cannot be.
            try:
                session.send(None)
            except StopIteration as done:
                session = done.value
            else:
                session.close()
                raise RuntimeError("An async session interface's session is opened when the context is pushed.")
        elif inspect.isawaitable(session):
            raise RuntimeError("An async session interface's session is opened when the context is pushed.")
        if session is None:
            session = _finished(interface.make_null_session(self))
        return session

    async def _save_session(self, ctx: Any, response: Any) -> None:
        session = ctx._session
        interface = self.session_interface
        if session is None:
            # Never touched: a cookie that came in may still need refreshing.
            if not self.config["SESSION_REFRESH_EACH_REQUEST"] or not self._has_session_cookie(ctx.request_websocket):
                return
            session = ctx._session = await self.open_session(ctx.request_websocket)
        if not interface.is_null_session(session):
            saver = self._session_sync_methods()[1]
            result = (saver or interface.save_session)(self, session, response)
            if result is not None:
                await _maybe_await(result)

    def _has_session_cookie(self, request: Any) -> bool:
        """True if the request sent a cookie named as the session cookie."""
        prefix = self.session_interface.get_cookie_name(self).encode("latin-1") + b"="
        for key, value in request.scope.get("headers", ()):
            if key == b"cookie" and prefix in value:
                if any(part.strip().startswith(prefix) for part in value.split(b";")):
                    return True
        return False
