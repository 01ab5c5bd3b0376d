"""The app's configuration: Flask's Config with Quaver's defaults."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.config import Config as _FlaskConfig
from flask.config import ConfigAttribute

__all__ = ("Config", "ConfigAttribute", "DEFAULT_CONFIG", "ENV_PREFIX")

#: The prefix of the environment variables Quaver reads (``QUAVER_APP``,
#: ``.quaverenv``, ``from_prefixed_env()``); ``quaver.as_quart`` makes it ``QUART``.
ENV_PREFIX = "QUAVER"

DEFAULT_CONFIG: dict[str, Any] = {
    "APPLICATION_ROOT": "/",
    "BACKGROUND_TASK_SHUTDOWN_TIMEOUT": 5,  # seconds
    # seconds the loop may be held before a warning; None: 0.1 in debug, else off; 0: off
    "BLOCKING_WARNING_THRESHOLD": None,
    "BODY_TIMEOUT": 60,  # seconds to receive a whole request body
    "DEBUG": None,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "GRACEFUL_SHUTDOWN_TIMEOUT": 5,  # seconds for requests in flight to finish on a signal (app.run)
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_COOKIE_SIZE": 4093,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "PREFER_SECURE_URLS": False,
    "PREFERRED_URL_SCHEME": "http",
    "PROPAGATE_EXCEPTIONS": None,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    "RESPONSE_TIMEOUT": 60,  # seconds to send a streamed response
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "SEND_FILE_MAX_AGE_DEFAULT": timedelta(hours=12),  # Quart's default, not Flask's None
    "SERVER_NAME": None,
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_SAMESITE": "Lax",  # a safer default than Flask's None
    "SESSION_COOKIE_SECURE": False,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "TEMPLATES_AUTO_RELOAD": None,
    "TESTING": False,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "TRUSTED_HOSTS": None,
    "USE_X_SENDFILE": False,
    "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
}


class Config(_FlaskConfig):
    """A dict of settings with Flask's loaders (``from_object``, ``from_pyfile``,
    ``from_file``, ``from_mapping``, ``from_envvar``, ``get_namespace``).

    ``from_prefixed_env`` reads ``QUAVER_*`` variables by default
    (``QUART_*`` under ``quaver.as_quart``).
    """

    def from_prefixed_env(self, prefix: str | None = None, *, loads: Callable[[str], Any] = json.loads) -> bool:
        """Load every ``{prefix}_*`` environment variable, without the prefix.

        Values go through ``loads`` (JSON by default; a value it cannot parse
        stays a string), and ``__`` in a name sets a key of a nested dict:
        ``QUAVER_DB__HOST`` sets ``config["DB"]["HOST"]``. Always True.
        """
        return super().from_prefixed_env(ENV_PREFIX if prefix is None else prefix, loads=loads)
