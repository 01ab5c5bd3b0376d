"""Sessions: a signed cookie by default, pluggable through SessionInterface.

A session interface's methods may be plain functions or coroutines; the app
awaits them when they are coroutines.
"""

from __future__ import annotations

from flask.sessions import NullSession, SecureCookieSession, SessionMixin
from flask.sessions import SecureCookieSessionInterface as _FlaskSecureCookieSessionInterface
from flask.sessions import SessionInterface as _FlaskSessionInterface

__all__ = (
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
