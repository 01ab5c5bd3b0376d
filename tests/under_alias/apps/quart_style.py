"""An app as written for Quart: ``from quart import ...``."""

from _body import BODY
from quart import Quart as AppClass  # noqa: F401 - BODY, exec'd below, uses these names
from quart import abort, websocket  # noqa: F401

exec(BODY)
