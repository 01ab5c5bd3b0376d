"""Sessions: a signed cookie by default, pluggable through SessionInterface.

A session interface's methods may be plain functions or coroutines; the app
awaits them when they are coroutines.
"""

from __future__ import annotations

import inspect
from typing import Any

from flask.sessions import NullSession, SecureCookieSession, SessionMixin
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
)


class SessionInterface(_FlaskSessionInterface):
    """The base for session backends: ``open_session(app, request)`` and
    ``save_session(app, session, response)``, sync or async."""


class SecureCookieSessionInterface(_FlaskSecureCookieSessionInterface, SessionInterface):
    """Keeps the session in a cookie signed with ``SECRET_KEY`` (and
    ``SECRET_KEY_FALLBACKS`` for rotation). A tampered or expired cookie
    yields an empty session."""


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class AppSessionMixin:
    """The app's side of sessions: open on first use (or at push for an async
    interface), save after the response is made."""

    _session_async: tuple[Any, bool] | None = None
    session_interface: Any
    config: Any

    @property
    def _session_needs_async_open(self) -> bool:
        """True if the session interface opens sessions with a coroutine."""
        interface = self.session_interface
        cached = self._session_async
        if cached is None or cached[0] is not interface:
            cached = self._session_async = (interface, is_coroutine_function(interface.open_session))
        return cached[1]

    async def open_session(self, request: Any) -> Any:
        """Open the session for ``request`` (a null session when it can't be)."""
        interface = self.session_interface
        session = await _maybe_await(interface.open_session(self, request))
        if session is None:
            session = await _maybe_await(interface.make_null_session(self))
        return session

    def _open_session_sync(self, request: Any) -> Any:
        interface = self.session_interface
        session = interface.open_session(self, request)
        if inspect.isawaitable(session):
            session.close()  # type: ignore[union-attr]
            raise RuntimeError("An async session interface's session is opened when the context is pushed.")
        if session is None:
            session = interface.make_null_session(self)
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
            await _maybe_await(interface.save_session(self, session, response))

    def _has_session_cookie(self, request: Any) -> bool:
        """True if the request sent a cookie named as the session cookie."""
        prefix = self.session_interface.get_cookie_name(self).encode("latin-1") + b"="
        for key, value in request.scope.get("headers", ()):
            if key == b"cookie" and prefix in value:
                if any(part.strip().startswith(prefix) for part in value.split(b";")):
                    return True
        return False
