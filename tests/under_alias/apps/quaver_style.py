"""The same app renamed for Quaver: ``from quaver import ...``."""

from _body import BODY

from quaver import Quaver as AppClass  # noqa: F401 - BODY, exec'd below, uses these names
from quaver import abort, websocket  # noqa: F401

exec(BODY)
