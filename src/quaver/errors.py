"""Error handling: the app's error handlers found and called for an error
raised by a hook or view, unhandled errors logged and answered with 500."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequestKeyError, HTTPException, InternalServerError
from werkzeug.routing import RoutingException

from ._appview import AppView
from .globals import _cv_request, _cv_websocket
from .signals import got_request_exception

if TYPE_CHECKING:
    from .typing import ResponseReturnValue
    from .wrappers import Response


class ErrorHandlingMixin(AppView):
    """Error handlers, the logging of errors, and whether they propagate."""

    async def handle_http_exception(self, error: HTTPException) -> HTTPException | ResponseReturnValue:
        """Find the handler for an HTTP error; return its value, or the error itself."""
        if error.code is None:
            return error
        if isinstance(error, RoutingException):
            return error
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        blueprints = ctx.request_websocket.blueprints if ctx is not None else []
        handler = self._find_error_handler(error, blueprints)
        if handler is None:
            return error
        return await self.ensure_async(handler)(error)  # type: ignore[return-value]  # Flask's handler type

    async def handle_user_exception(self, error: Exception) -> HTTPException | ResponseReturnValue:
        """Handle an error raised by a hook or view: HTTP errors by their code,
        others by class; re-raise what no handler takes."""
        if isinstance(error, BadRequestKeyError) and (self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]):
            error.show_exception = True
        if isinstance(error, HTTPException) and not self.trap_http_exception(error):
            return await self.handle_http_exception(error)
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        blueprints = ctx.request_websocket.blueprints if ctx is not None else []
        handler = self._find_error_handler(error, blueprints)
        if handler is None:
            try:
                raise error
            finally:
                del error, ctx  # the traceback holds this frame: no cycle through these
        return await self.ensure_async(handler)(error)  # type: ignore[return-value]  # Flask's handler type

    def _propagate_exceptions(self) -> bool:
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        return propagate if propagate is not None else (self.testing or self.debug)

    async def handle_exception(self, error: Exception) -> Response:
        """Answer an unhandled error with 500 (or re-raise it when propagating).

        The app's 500 handler makes the answer; if it fails too, its error is
        logged and the plain 500 page is the answer (Flask lets that error go
        on to the server, which closes the connection after its own 500).
        """
        if got_request_exception.receivers:
            await got_request_exception.send_async(self, _sync_wrapper=self.ensure_async, exception=error)
        if self._propagate_exceptions():
            raise error
        self.log_exception(sys.exc_info() if sys.exc_info()[1] is error else (type(error), error, error.__traceback__))
        server_error: Any = InternalServerError(original_exception=error)
        ctx = _cv_request.get(None)
        blueprints = ctx.request_websocket.blueprints if ctx is not None else []
        handler = self._find_error_handler(server_error, blueprints)
        if handler is not None:
            try:
                rv = await self.ensure_async(handler)(server_error)
                return await self.finalize_request(rv, from_error_handler=True)  # type: ignore[arg-type]  # as above
            except Exception as handler_error:
                self.log_exception((type(handler_error), handler_error, handler_error.__traceback__))
        return await self.finalize_request(server_error, from_error_handler=True)

    def _teardown_failed(self, error: Exception) -> None:
        """A teardown function raised: when propagating (testing, debug) let
        the error go on, as in Flask; otherwise log it, so that the other
        teardown functions still run and the response made is delivered."""
        if self._propagate_exceptions():
            raise error
        self.log_exception((type(error), error, error.__traceback__))
