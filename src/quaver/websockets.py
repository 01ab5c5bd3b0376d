"""Websocket dispatch: contexts, hooks, handler and errors for one websocket."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, InternalServerError

from ._appview import AppView
from .ctx import WebsocketContext
from .globals import _cv_websocket
from .sessions import SecureCookieSessionInterface
from .signals import got_websocket_exception, websocket_finished, websocket_started, websocket_tearing_down

if TYPE_CHECKING:
    from .typing import ResponseReturnValue
    from .wrappers import Response, Websocket


class WebsocketDispatchMixin(AppView):
    """The websocket half of the app's dispatch; the HTTP half is in dispatch.py."""

    async def handle_websocket(self, websocket: Websocket) -> Response | None:
        """Handle one websocket fully; return a response if the handler refused it."""
        ctx = WebsocketContext(self, websocket)  # type: ignore[arg-type]  # self is the Quaver app (a base of it)
        await ctx.push()
        error: BaseException | None = None
        try:
            try:
                return await self.full_dispatch_websocket(ctx)
            except Exception as exc:
                error = exc
                return await self.handle_websocket_exception(exc)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await ctx.pop(error)
            error = None  # the error's traceback holds this frame: no cycle through it

    async def full_dispatch_websocket(self, ctx: WebsocketContext | None = None) -> Response | None:
        """Run the before_websocket hooks, the handler and the after hooks."""
        if ctx is None:
            ctx = _cv_websocket.get()
        self._got_first_request = True
        websocket = ctx.request_websocket
        if websocket.url_rule is None and websocket.routing_exception is None:
            self._match(websocket, ctx)
        rule = websocket.url_rule
        plan = ctx._plan = self._plan(rule.endpoint if rule is not None else None, True)
        try:
            if websocket_started.receivers:
                await websocket_started.send_async(self, _sync_wrapper=self.ensure_async)
            rv: ResponseReturnValue | HTTPException | None = None
            for preprocessor in plan.preprocessors:
                preprocessor(websocket.endpoint, websocket.view_args)
            for before in plan.before:
                rv = await before()
                if rv is not None:
                    break
            if rv is None:
                if websocket.routing_exception is not None:
                    raise websocket.routing_exception
                rv = await plan.view(**websocket.view_args)
        except Exception as error:
            websocket._handler_finished = True
            rv = await self.handle_user_exception(error)
        websocket._handler_finished = True
        return await self.finalize_websocket(rv, ctx)

    async def preprocess_websocket(self, ctx: WebsocketContext | None = None) -> ResponseReturnValue | None:
        """Run the current websocket's url_value_preprocessors and
        before_websocket functions (the app's, then its blueprints'); return
        the first value one returns (a response refusing the websocket), or None."""
        if ctx is None:
            ctx = _cv_websocket.get()
        websocket = ctx.request_websocket
        plan = self._plan_of(ctx, True)
        for preprocessor in plan.preprocessors:
            preprocessor(websocket.endpoint, websocket.view_args)
        for before in plan.before:
            rv = await before()
            if rv is not None:
                return rv
        return None

    async def dispatch_websocket(self, ctx: WebsocketContext | None = None) -> ResponseReturnValue | None:
        """Call the handler of the current websocket and return its value
        (None, or a response refusing the websocket); raise the routing error
        if its URL matched no websocket rule."""
        if ctx is None:
            ctx = _cv_websocket.get()
        websocket = ctx.request_websocket
        if websocket.routing_exception is not None:
            self.raise_routing_exception(websocket)
        return await self._plan_of(ctx, True).view(**websocket.view_args)

    async def postprocess_websocket(
        self, response: Response | None, ctx: WebsocketContext | None = None
    ) -> Response | None:
        """Pass ``response`` (None once the websocket was accepted) through the
        after_this_websocket functions and the after_websocket hooks, save the
        session, and return what the hooks returned."""
        if ctx is None:
            ctx = _cv_websocket.get()
        plan = self._plan_of(ctx, True)
        for func in ctx._after_request_functions:
            response = await self.ensure_async(func)(response)
        for func in plan.after:
            response = await func(response)
        await self._save_websocket_session(ctx, response)
        return response

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """An app class overriding ``preprocess_websocket``,
        ``dispatch_websocket`` or ``postprocess_websocket`` (as a Quart app may)
        gets a ``full_dispatch_websocket`` calling each step by name; Quaver's
        own dispatch runs them inline."""
        super().__init_subclass__(**kwargs)
        mixin = WebsocketDispatchMixin
        if cls.full_dispatch_websocket is mixin.full_dispatch_websocket and any(
            getattr(cls, step) is not getattr(mixin, step)
            for step in ("preprocess_websocket", "dispatch_websocket", "postprocess_websocket")
        ):
            cls.full_dispatch_websocket = mixin._full_dispatch_websocket_by_steps  # type: ignore[method-assign]

    async def _full_dispatch_websocket_by_steps(self, ctx: WebsocketContext | None = None) -> Response | None:
        """``full_dispatch_websocket`` through the overridable steps."""
        if ctx is None:
            ctx = _cv_websocket.get()
        self._got_first_request = True
        websocket = ctx.request_websocket
        if websocket.url_rule is None and websocket.routing_exception is None:
            self._match(websocket, ctx)
        try:
            if websocket_started.receivers:
                await websocket_started.send_async(self, _sync_wrapper=self.ensure_async)
            rv: ResponseReturnValue | HTTPException | None = await self.preprocess_websocket(ctx)
            if rv is None:
                rv = await self.dispatch_websocket(ctx)
        except Exception as error:
            websocket._handler_finished = True
            rv = await self.handle_user_exception(error)
        websocket._handler_finished = True
        response = None
        if isinstance(rv, HTTPException):
            response = self._exception_response(rv)
        elif rv is not None:
            response = self._sendable(await self.make_response(rv))
        response = await self.postprocess_websocket(response, ctx)
        if websocket_finished.receivers:
            await websocket_finished.send_async(self, _sync_wrapper=self.ensure_async, response=response)
        return response

    async def finalize_websocket(
        self,
        result: ResponseReturnValue | HTTPException | None,
        websocket_context: WebsocketContext | None = None,
        from_error_handler: bool = False,
    ) -> Response | None:
        """Turn a handler's return value (if any) into a response and run the
        after hooks (Quart's arguments, so an override written for Quart works)."""
        ctx = _cv_websocket.get() if websocket_context is None else websocket_context
        plan = ctx._plan
        if plan is None:
            plan = self._plan_of(ctx, True)
        response = None
        if isinstance(result, HTTPException):
            response = self._exception_response(result)
        elif result is not None:
            response = self._sendable(await self.make_response(result))
        try:
            for func in ctx._after_request_functions:
                response = await self.ensure_async(func)(response)
            for func in plan.after:
                response = await func(response)
            if (
                ctx._session is not None
                or self.config["SECRET_KEY"] is not None
                or type(self.session_interface) is not SecureCookieSessionInterface
            ):
                await self._save_websocket_session(ctx, response)
            if websocket_finished.receivers:
                await websocket_finished.send_async(self, _sync_wrapper=self.ensure_async, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Websocket finalizing failed with an error while handling an error")
        return response

    async def _save_websocket_session(self, ctx: WebsocketContext, response: Response | None) -> None:
        """Save the session as Quart does for a websocket: on the refusal's
        response if there is one; after an accepted handshake the interface
        gets None, and the signed cookie, which then has nowhere to go, is not
        saved (a change to it is logged as lost)."""
        if response is not None:
            await self._save_session(ctx, response)
            return
        session = ctx._session
        interface = self.session_interface
        if session is None or interface.is_null_session(session):
            return
        if type(interface).save_session is SecureCookieSessionInterface.save_session and "save_session" not in vars(
            interface
        ):
            if session.modified:
                self.logger.warning(
                    "The session was changed during an accepted websocket: a cookie cannot be set"
                    " there, so the change is lost."
                )
            return
        result = interface.save_session(self, session, None)
        if inspect.isawaitable(result):
            await result

    async def handle_websocket_exception(self, error: Exception) -> Response | None:
        """Answer an unhandled websocket error: log it, refuse with 500 (or re-raise when propagating)."""
        if got_websocket_exception.receivers:
            await got_websocket_exception.send_async(self, _sync_wrapper=self.ensure_async, exception=error)
        if self._propagate_exceptions():
            raise error
        self.log_exception((type(error), error, error.__traceback__))
        server_error: Any = InternalServerError(original_exception=error)
        ctx = _cv_websocket.get(None)
        blueprints = ctx.request_websocket.blueprints if ctx is not None else []
        handler = self._find_error_handler(server_error, blueprints)
        if handler is not None:
            server_error = await self.ensure_async(handler)(server_error)
        return await self.finalize_websocket(server_error, from_error_handler=True)

    async def do_teardown_websocket(
        self, exc: BaseException | None = None, ctx: WebsocketContext | None = None
    ) -> None:
        """Run the teardown_websocket functions of the current websocket (or ``ctx``'s)."""
        for func in self._plan_of(ctx if ctx is not None else _cv_websocket.get(), True).teardown:
            try:
                await func(exc)
            except Exception as error:
                self._teardown_failed(error)  # logged, unless propagating (errors.py)
        if websocket_tearing_down.receivers:
            await websocket_tearing_down.send_async(self, _sync_wrapper=self.ensure_async, exc=exc)
