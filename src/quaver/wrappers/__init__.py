"""Request, response and websocket objects, on Werkzeug's sans-IO classes."""

from .base import BaseRequestWebsocket
from .request import Body, Request
from .response import Response
from .websocket import Websocket, WebsocketDisconnected

__all__ = ("BaseRequestWebsocket", "Body", "Request", "Response", "Websocket", "WebsocketDisconnected")
