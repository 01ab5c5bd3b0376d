"""The same app renamed for Quaver: ``from quaver import ...``."""

from quaver import Quaver as AppClass
from quaver import abort, websocket

from _body import BODY

exec(BODY)
