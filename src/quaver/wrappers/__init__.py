"""Request, response and websocket objects, on Werkzeug's sans-IO classes."""

from .request import Body, Request
from .response import Response

__all__ = ("Body", "Request", "Response")
