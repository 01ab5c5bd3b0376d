"""In-process websocket connections for tests: ``client.websocket(path)``,
defined in ``quaver.testing.connections`` (where Quart has them)."""

from .connections import TestWebsocketConnection, WebsocketDisconnectError, WebsocketResponseError

__all__ = ("TestWebsocketConnection", "WebsocketDisconnectError", "WebsocketResponseError")
