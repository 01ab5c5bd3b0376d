"""``app.logger``: a logger named after the app, as in Flask.

The first time ``app.logger`` is used, the logger gets the level DEBUG if
the app is in debug mode (and no level was set), and ``default_handler``
if nothing would otherwise show its records: no handler of the record's
level on it or on its ancestors. So ``logging.basicConfig`` or
``dictConfig`` called before the app logs replaces the default, and
``app.logger.removeHandler(default_handler)`` removes it afterwards.

The logger comes from ``flask.sansio.App``, on which the app is built; this
module names its parts where Quaver (and Quart) code looks for them. The
default handler writes to ``sys.stderr`` as it is when a record is written
(so pytest's capture sees it) in the format
``[time] LEVEL in module: message``.
"""

from __future__ import annotations

import logging
from logging.handlers import QueueHandler

from flask.logging import create_logger as _create_logger
from flask.logging import default_handler, has_level_handler

__all__ = ("LocalQueueHandler", "create_logger", "default_handler", "has_level_handler")


def create_logger(app: object) -> logging.Logger:
    """The logger ``app.logger`` returns: named ``app.name``, with
    ``default_handler`` attached unless something else will show records."""
    return _create_logger(app)  # type: ignore[arg-type]


class LocalQueueHandler(QueueHandler):
    """A ``QueueHandler`` for a queue in this process: records go on it as
    they are (no formatting into strings first), for a ``QueueListener``
    to hand to the real handlers off the event loop."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record
