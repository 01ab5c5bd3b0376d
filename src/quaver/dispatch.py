"""HTTP dispatch: a request's URL matched, its hooks and view run, its
response finalized; what dispatch needs of the registrations computed once
per endpoint (a ``_Plan``). The websocket half is in websockets.py, the
error handling both share in errors.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import HTTPException

from ._appview import AppView
from .ctx import RequestContext, WebsocketContext
from .globals import _cv_request, request_ctx
from .routing import host_subdomain
from .sessions import SecureCookieSessionInterface
from .signals import request_finished, request_started, request_tearing_down

if TYPE_CHECKING:
    from .typing import ResponseReturnValue
    from .wrappers import Request, Response
    from .wrappers.base import BaseRequestWebsocket


class _Plan:
    """What handling one endpoint needs from the registrations, computed once."""

    __slots__ = ("view", "blueprints", "preprocessors", "before", "after", "teardown")

    # Flask types hooks and views as sync or async, with its own response
    # types: what ensure_async makes of them is typed here as Quaver's.
    view: Callable[..., Awaitable[ResponseReturnValue]]
    blueprints: list[str]
    preprocessors: list[Callable[[str | None, dict[str, Any] | None], None]]
    before: list[Callable[[], Awaitable[ResponseReturnValue | None]]]
    #: A request's get and return a response; a websocket's None once accepted.
    after: list[Callable[[Any], Awaitable[Any]]]
    teardown: list[Callable[[BaseException | None], Awaitable[None]]]

    def __init__(self, app: AppView, endpoint: str | None, websocket: bool) -> None:
        blueprints: list[str] = []
        if endpoint is not None and "." in endpoint:
            parts = endpoint.rpartition(".")[0].split(".")
            blueprints = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        self.blueprints = blueprints
        outward = (None, *reversed(blueprints))  # app first, then outer to inner blueprint
        inward = (*blueprints, None)  # inner blueprint first, app last
        before_funcs = app.before_websocket_funcs if websocket else app.before_request_funcs
        after_funcs = app.after_websocket_funcs if websocket else app.after_request_funcs
        teardown_funcs = app.teardown_websocket_funcs if websocket else app.teardown_request_funcs
        self.preprocessors = [f for name in outward for f in app.url_value_preprocessors.get(name, ())]
        self.before = [app.ensure_async(f) for name in outward for f in before_funcs.get(name, ())]  # type: ignore[arg-type]
        self.after = [app.ensure_async(f) for name in inward for f in reversed(after_funcs.get(name, ()))]
        self.teardown = [app.ensure_async(f) for name in inward for f in reversed(teardown_funcs.get(name, ()))]
        view = app.view_functions.get(endpoint) if endpoint is not None else None
        self.view = app.ensure_async(view) if view is not None else _missing_view(endpoint)  # type: ignore[arg-type]


def _missing_view(endpoint: str | None) -> Callable[..., Coroutine[Any, Any, NoReturn]]:
    """The view of an endpoint that has none (a rule added without
    ``view_func``, or no rule matched): a KeyError, as in Flask. (Without a
    rule, dispatch raises the routing error before calling it.)"""

    async def view(**view_args: Any) -> NoReturn:
        raise KeyError(endpoint)

    return view


class RequestDispatchMixin(AppView):
    """The HTTP half of the app's dispatch, from ``handle_request`` to ``process_response``."""

    def _match(self, request: BaseRequestWebsocket, ctx: RequestContext | WebsocketContext) -> None:
        """Set ``request.url_rule`` and ``view_args``, or ``routing_exception``."""
        url_map = self.url_map
        websocket = ctx.__class__ is WebsocketContext
        config = self.config
        if (
            not (url_map.host_matching or self.subdomain_matching)
            and config["TRUSTED_HOSTS"] is None
            and (config["SERVER_NAME"] is None or not host_subdomain(request.host, config["SERVER_NAME"]))
        ):  # the fast index knows paths only: not for a host under SERVER_NAME's subdomains
            found = url_map.fast_match(request.path, request.method, websocket)
            if found is not None:
                request.url_rule, request.view_args = found
                return
        try:
            adapter = ctx.url_adapter
            request.url_rule, request.view_args = adapter.match(return_rule=True, websocket=websocket)
        except HTTPException as error:
            # Raised again in _dispatch; Werkzeug's frames would only make a
            # cycle (traceback -> this frame -> request -> the error).
            error.__context__ = None  # Werkzeug's own NoMatch, with its frames
            request.routing_exception = error.with_traceback(None)

    def _plan(self, endpoint: str | None, websocket: bool = False) -> _Plan:
        key = (endpoint, websocket)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self, endpoint, websocket)
        return plan

    def _plan_of(self, ctx: RequestContext | WebsocketContext, websocket: bool = False) -> _Plan:
        """The plan for a context's request, computed on first use."""
        plan: _Plan | None = ctx._plan
        if plan is None:
            rule = ctx.request_websocket.url_rule
            plan = ctx._plan = self._plan(rule.endpoint if rule is not None else None, websocket)
        return plan

    async def handle_request(self, request: Request) -> Response:
        """Handle one request fully: contexts, hooks, view, errors; return the response."""
        ctx = RequestContext(self, request)  # type: ignore[arg-type]  # self is the Quaver app (a base of it)
        await ctx.push()
        error: BaseException | None = None
        try:
            try:
                return await self.full_dispatch_request(ctx)
            except Exception as exc:
                error = exc
                return await self.handle_exception(exc)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await ctx.pop(error)

    async def full_dispatch_request(self, ctx: RequestContext | None = None) -> Response:
        """Run the before hooks, the view and the after hooks; errors go to handlers."""
        if ctx is None:
            ctx = _cv_request.get()
        self._got_first_request = True
        request = ctx.request_websocket
        if request.url_rule is None and request.routing_exception is None:
            self._match(request, ctx)
        rule = request.url_rule
        endpoint = rule.endpoint if rule is not None else None
        plan = ctx._plan = self._plans.get((endpoint, False)) or self._plan(endpoint)
        try:
            if request_started.receivers:
                await request_started.send_async(self, _sync_wrapper=self.ensure_async)
            rv: ResponseReturnValue | HTTPException | None = None
            for preprocessor in plan.preprocessors:
                preprocessor(request.endpoint, request.view_args)
            for before in plan.before:
                rv = await before()
                if rv is not None:
                    break
            if rv is None:
                if request.routing_exception is None and request.method != "OPTIONS":
                    rv = await plan.view(**request.view_args)  # _dispatch's common case, one await less
                else:
                    rv = await self._dispatch(request, plan)
        except Exception as error:
            rv = await self.handle_user_exception(error)
            response = await self.finalize_request(rv, ctx)
            # The error's traceback holds this frame: without these names no
            # cycle keeps the request (and its body) until a collection.
            rv = request = ctx = None
            return response
        return await self.finalize_request(rv, ctx)

    async def _dispatch(self, request: BaseRequestWebsocket, plan: _Plan) -> ResponseReturnValue:
        error = request.routing_exception
        if error is not None:
            try:
                raise error
            finally:
                del error, request  # the traceback holds this frame: no cycle through these
        if request.method == "OPTIONS" and getattr(request.url_rule, "provide_automatic_options", False):
            return await self.make_default_options_response()
        return await plan.view(**request.view_args)  # type: ignore[arg-type]  # matched: view_args set

    async def dispatch_request(self, ctx: RequestContext | None = None) -> ResponseReturnValue:
        """Call the view for the current request and return its value."""
        if ctx is None:
            ctx = _cv_request.get()
        request = ctx.request_websocket
        rule = request.url_rule
        return await self._dispatch(request, self._plan(rule.endpoint if rule is not None else None))

    async def preprocess_request(self, ctx: RequestContext | None = None) -> ResponseReturnValue | None:
        """Run the current request's url_value_preprocessors and before_request
        functions (the app's, then its blueprints', as dispatch does); return
        the first value one returns (the response to send instead of the
        view's), or None."""
        if ctx is None:
            ctx = _cv_request.get()
        request = ctx.request_websocket
        plan = self._plan_of(ctx)
        for preprocessor in plan.preprocessors:
            preprocessor(request.endpoint, request.view_args)
        for before in plan.before:
            rv = await before()
            if rv is not None:
                return rv
        return None

    def raise_routing_exception(self, request: BaseRequestWebsocket) -> NoReturn:
        """Raise the error matching ``request``'s URL gave (a 404, 405 or redirect)."""
        error = request.routing_exception
        try:
            raise error  # type: ignore[misc]  # called when matching failed: never None
        finally:
            del error, request  # the traceback holds this frame: no cycle through these

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass overriding ``preprocess_request`` or ``dispatch_request``
        (as a Quart app may) gets a ``full_dispatch_request`` calling each step
        by name; Quaver's own dispatch runs them inline, without the calls."""
        super().__init_subclass__(**kwargs)
        mixin = RequestDispatchMixin
        if cls.full_dispatch_request is mixin.full_dispatch_request and any(
            getattr(cls, step) is not getattr(mixin, step) for step in ("preprocess_request", "dispatch_request")
        ):
            cls.full_dispatch_request = mixin._full_dispatch_request_by_steps  # type: ignore[method-assign]

    async def _full_dispatch_request_by_steps(self, ctx: RequestContext | None = None) -> Response:
        """``full_dispatch_request`` through the overridable steps: the before
        hooks by ``preprocess_request``, the view by ``dispatch_request``."""
        if ctx is None:
            ctx = _cv_request.get()
        self._got_first_request = True
        request = ctx.request_websocket
        if request.url_rule is None and request.routing_exception is None:
            self._match(request, ctx)
        try:
            if request_started.receivers:
                await request_started.send_async(self, _sync_wrapper=self.ensure_async)
            rv: ResponseReturnValue | HTTPException | None = await self.preprocess_request(ctx)
            if rv is None:
                rv = await self.dispatch_request(ctx)
        except Exception as error:
            rv = await self.handle_user_exception(error)
        return await self.finalize_request(rv, ctx)

    async def make_default_options_response(self) -> Response:
        """The answer to OPTIONS: 200 with an ``Allow`` header listing the methods."""
        adapter = request_ctx.url_adapter
        methods = adapter.allowed_methods()
        response = self.response_class()
        response.allow.update(methods)
        return response

    async def finalize_request(
        self,
        result: ResponseReturnValue | HTTPException,
        request_context: RequestContext | None = None,
        from_error_handler: bool = False,
    ) -> Response:
        """Turn a view's value into a response and run the after hooks (Quart's
        arguments, so an override written for Quart is called right)."""
        if isinstance(result, HTTPException):
            response = self._exception_response(result)
        else:
            response = await self.make_response(result)  # type: ignore[assignment]  # response_class below
        if response.__class__ is not self.response_class:
            response = self._sendable(response)
        try:
            response = await self.process_response(response, request_context)
            if request_finished.receivers:
                await request_finished.send_async(self, _sync_wrapper=self.ensure_async, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    async def process_response(self, response: Response, request_context: RequestContext | None = None) -> Response:
        """Run ``after_this_request`` functions, after_request hooks, and save the session."""
        ctx = _cv_request.get() if request_context is None else request_context
        plan = ctx._plan
        if plan is None:
            plan = self._plan_of(ctx)
        for func in ctx._after_request_functions:
            response = await self.ensure_async(func)(response)
        for func in plan.after:
            response = await func(response)
        if (
            ctx._session is not None
            or self.config["SECRET_KEY"] is not None
            or type(self.session_interface) is not SecureCookieSessionInterface
        ):
            await self._save_session(ctx, response)
        return response

    async def do_teardown_request(self, exc: BaseException | None = None, ctx: RequestContext | None = None) -> None:
        """Run the teardown_request functions of the current request (or ``ctx``'s)."""
        for func in self._plan_of(ctx if ctx is not None else _cv_request.get()).teardown:
            try:
                await func(exc)
            except Exception as error:
                self._teardown_failed(error)
        if request_tearing_down.receivers:
            await request_tearing_down.send_async(self, _sync_wrapper=self.ensure_async, exc=exc)
