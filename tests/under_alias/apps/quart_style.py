"""An app as written for Quart: ``from quart import ...``."""

from quart import Quart as AppClass
from quart import abort, websocket

from _body import BODY

exec(BODY)
