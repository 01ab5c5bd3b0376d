"""The Quaver application: registration (Flask's) and request dispatch (ours).

Registration comes from ``flask.sansio.App``, so routes, blueprints, hooks
and error handlers behave exactly as in Flask. Dispatch is written for the
hot path: what a request needs from the registrations (its hooks, in order,
already wrapped for async) is computed once per endpoint and kept in a
``_Plan``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from datetime import timedelta
from types import TracebackType
from typing import Any, NoReturn, ParamSpec, TypeVar, overload
from urllib.parse import quote as _url_quote

from flask import Flask
from flask.sansio.app import App, T_shell_context_processor, T_template_filter, T_template_global, T_template_test  # noqa: F401
from werkzeug.datastructures import Headers, ImmutableDict
from werkzeug.exceptions import (
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
)
from werkzeug.routing import BuildError, MapAdapter, RequestRedirect, RoutingException
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import redirect as _redirect
from werkzeug.wrappers import Response as WerkzeugResponse

from . import asgi
from .commands import AppGroup
from .config import DEFAULT_CONFIG, Config
from .ctx import AppContext, RequestContext, WebsocketContext, _AppCtxGlobals
from .globals import _cv_app, _cv_request, _cv_websocket, g, request_ctx
from .helpers import get_flashed_messages, send_from_directory
from .json.provider import DefaultJSONProvider
from .routing import QuaverMap, QuaverRule, host_subdomain
from .scaffold import QuaverScaffoldMixin, Resource, T_after_websocket, T_before_websocket, T_teardown, T_websocket  # noqa: F401
from .serving import ServingMixin, T_after_serving, T_before_serving, T_while_serving  # noqa: F401
from .sessions import AppSessionMixin, SecureCookieSessionInterface
from .signals import (
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from .templating import DispatchingJinjaLoader, Environment
from .testing import QuaverClient, QuaverCliRunner, TestApp, make_test_request
from .typing import AppOrBlueprintKey, ResponseReturnValue, ResponseTypes, TestAppProtocol, TestClientProtocol  # noqa: F401
from .utils import is_coroutine_function, run_sync
from .utils import is_coroutine_function as iscoroutinefunction  # noqa: F401
from .websockets import WebsocketDispatchMixin
from .wrappers import Request, Response, Websocket
from .wrappers.base import BaseRequestWebsocket

T = Callable[..., Any]
P = ParamSpec("P")
R = TypeVar("R")


class _Plan:
    """What handling one endpoint needs from the registrations, computed once."""

    __slots__ = ("view", "blueprints", "preprocessors", "before", "after", "teardown")

    view: Callable[..., Coroutine[Any, Any, Any]]
    blueprints: list[str]
    preprocessors: list[Callable[[str | None, dict[str, Any] | None], None]]
    before: list[Callable[[], Coroutine[Any, Any, Any]]]
    after: list[Callable[[Any], Coroutine[Any, Any, Any]]]
    teardown: list[Callable[[BaseException | None], Coroutine[Any, Any, None]]]

    def __init__(self, app: Quaver, endpoint: str | None, websocket: bool) -> None:
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
        self.before = [app.ensure_async(f) for name in outward for f in before_funcs.get(name, ())]
        self.after = [app.ensure_async(f) for name in inward for f in reversed(after_funcs.get(name, ()))]
        self.teardown = [app.ensure_async(f) for name in inward for f in reversed(teardown_funcs.get(name, ()))]
        view = app.view_functions.get(endpoint) if endpoint is not None else None
        self.view = app.ensure_async(view) if view is not None else _missing_view(endpoint)


def _missing_view(endpoint: str | None) -> Callable[..., Coroutine[Any, Any, NoReturn]]:
    """The view of an endpoint that has none (a rule added without
    ``view_func``, or no rule matched): a KeyError, as in Flask. (Without a
    rule, dispatch raises the routing error before calling it.)"""

    async def view(**view_args: Any) -> NoReturn:
        raise KeyError(endpoint)

    return view


# static_folder is a Path (Quart's), a str in Flask's Scaffold.
class Quaver(ServingMixin, WebsocketDispatchMixin, QuaverScaffoldMixin, AppSessionMixin, App):  # type: ignore[misc]
    """An ASGI application with Flask's API.

    ``app = Quaver(__name__)``; register routes with ``@app.route``; serve with
    ``app.run()`` or any ASGI server (``hypercorn module:app``).
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    websocket_class: type[Websocket] = Websocket
    config_class = Config
    default_config = ImmutableDict({**Flask.default_config, **DEFAULT_CONFIG})
    url_rule_class = QuaverRule
    url_map_class = QuaverMap
    json_provider_class = DefaultJSONProvider
    app_ctx_globals_class = _AppCtxGlobals  # type: ignore[assignment]  # Quaver's g, not Flask's
    session_interface = SecureCookieSessionInterface()
    # Quaver's test client and CLI runner, not Flask's.
    test_client_class: type[QuaverClient] = QuaverClient  # type: ignore[assignment]
    test_cli_runner_class: type[QuaverCliRunner] = QuaverCliRunner  # type: ignore[assignment]
    test_app_class: type[TestApp] = TestApp
    lock_class = asyncio.Lock
    #: The class of ``shutdown_event`` (Quart's name).
    event_class = asyncio.Event

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_url_path=static_url_path,
            static_folder=static_folder,
            static_host=static_host,
            host_matching=host_matching,
            subdomain_matching=subdomain_matching,
            template_folder=template_folder,
            instance_path=instance_path,
            instance_relative_config=instance_relative_config,
            root_path=root_path,
        )
        self._init_websocket_funcs()
        self.before_serving_funcs: list[T] = []
        self.after_serving_funcs: list[T] = []
        self.while_serving_gens: list[T] = []
        self._serving_gens: list[AsyncGenerator[Any, None]] = []
        self.background_tasks: set[asyncio.Task[Any]] = set()
        self.shutdown_event = asyncio.Event()
        self._plans: dict[tuple[str | None, bool], _Plan] = {}
        self._async_cache: dict[Callable[..., Any], Callable[..., Awaitable[Any]]] = {}
        self.asgi_app = self._asgi_app
        self.cli = AppGroup(self.name)
        if self.has_static_folder:
            assert bool(static_host) == host_matching, "Invalid static_host/host_matching combination"
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=self.send_static_file,
            )

    # ------------------------------------------------------------------
    # Registration extras
    # ------------------------------------------------------------------
    def _check_setup_finished(self, f_name: str) -> None:
        # As in Quart, routes, hooks and handlers may still be registered
        # after the first request (Flask refuses): what was computed from the
        # registrations is dropped, to be computed again.
        self._plans.clear()

    # ------------------------------------------------------------------
    # Templates
    # ------------------------------------------------------------------
    def create_jinja_environment(self) -> Environment:  # type: ignore[override]  # Quaver's (async), not Flask's
        """The Jinja environment: async, autoescaping as in Flask, app globals."""
        options = dict(self.jinja_options)
        options.setdefault("autoescape", self.select_jinja_autoescape)
        options.setdefault("auto_reload", self.templates_auto_reload)
        env = Environment(self, **options)
        env.globals.update(url_for=self.url_for, config=self.config)
        env.globals["get_flashed_messages"] = get_flashed_messages
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:  # type: ignore[override]  # Quaver's loader
        return DispatchingJinjaLoader(self)

    @property
    def templates_auto_reload(self) -> bool:
        value = self.config["TEMPLATES_AUTO_RELOAD"]
        return value if value is not None else bool(self.debug)

    @templates_auto_reload.setter
    def templates_auto_reload(self, value: bool | None) -> None:
        self.config["TEMPLATES_AUTO_RELOAD"] = value

    async def update_template_context(self, context: dict[str, Any]) -> None:
        """Add what the context processors return (app's, then the request's blueprints')."""
        names: tuple[str | None, ...] = (None,)
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        if ctx is not None:
            names = (None, *reversed(ctx.request_websocket.blueprints))
        original = context.copy()
        for name in names:
            for func in self.template_context_processors.get(name, []):
                # A processor is sync or async: mypy joins the two results to object.
                context.update(await self.ensure_async(func)())  # type: ignore[call-overload]
        context.update(original)

    @overload
    def ensure_async(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def ensure_async(self, func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]: ...
    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``func`` if it is a coroutine function, else a wrapper
        that runs it in the thread pool with the contexts copied.

        (Given a union of sync and async callables, as Flask types hooks and
        error handlers, mypy picks the second overload: the result is the
        union of both return types, awaitables included.)"""
        if is_coroutine_function(func):
            return func
        try:
            return self._async_cache[func]
        except (KeyError, TypeError):
            wrapped = self.sync_to_async(func)
            try:
                self._async_cache[func] = wrapped
            except TypeError:
                pass
            return wrapped

    def sync_to_async(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        """Wrap a sync function to run in the thread pool (see ``quaver.utils.run_sync``)."""
        return run_sync(func)

    # ------------------------------------------------------------------
    # Contexts
    # ------------------------------------------------------------------
    def app_context(self) -> AppContext:
        """``async with app.app_context():`` makes ``current_app`` and ``g`` available."""
        return AppContext(self)

    def request_context(self, request: Request) -> RequestContext:
        return RequestContext(self, request)

    def websocket_context(self, websocket: Any) -> WebsocketContext:
        return WebsocketContext(self, websocket)

    def test_request_context(self, path: str = "/", **kwargs: Any) -> RequestContext:
        """A request context for ``path`` as a test would send it; the
        arguments are the test client's (``method``, ``headers``, ``json``, ...)."""

        request = make_test_request(self, path, **kwargs)
        ctx = RequestContext(self, request)
        ctx.match_request()
        return ctx

    # ------------------------------------------------------------------
    # URLs
    # ------------------------------------------------------------------
    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        """Bind the URL map to a request (or, outside one, to SERVER_NAME)."""
        config = self.config
        if request is not None:
            trusted_hosts = config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
            # With SERVER_NAME, a host under it routes to its subdomain's rules
            # (as in Quart, with or without subdomain_matching); a host outside
            # it is a 404 with subdomain_matching, else served (as in Flask 3.1).
            server_name = config["SERVER_NAME"]
            subdomain = None
            if self.url_map.host_matching:
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or None
            return self.url_map.bind_to_request(request, subdomain, server_name, strict=self.subdomain_matching)
        if config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        return None

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of ``endpoint`` with ``values`` (unknown ones become the query string)."""
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        url_adapter: MapAdapter | None
        if ctx is not None:
            url_adapter = ctx.url_adapter
            blueprint_name = ctx.request_websocket.blueprint
            if endpoint[:1] == ".":
                endpoint = f"{blueprint_name}{endpoint}" if blueprint_name is not None else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            url_adapter = app_ctx.url_adapter if app_ctx is not None else self.create_url_adapter(None)
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME'"
                    " configured. Also configure 'APPLICATION_ROOT' and"
                    " 'PREFERRED_URL_SCHEME' as needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            rv: str = url_adapter.build(
                endpoint, values, method=_method, url_scheme=_scheme, force_external=_external
            )
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            rv = f"{rv}#{_url_quote(_anchor, safe='%!#$&()*+,/:;=?@')}"
        return rv

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

    # ------------------------------------------------------------------
    # HTTP dispatch
    # ------------------------------------------------------------------
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
        ctx = RequestContext(self, request)
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
            rv = None
            for preprocessor in plan.preprocessors:
                preprocessor(request.endpoint, request.view_args)
            for before in plan.before:
                rv = await before()
                if rv is not None:
                    break
            if rv is None:
                rv = await self._dispatch(request, plan)
        except Exception as error:
            rv = await self.handle_user_exception(error)
            response = await self.finalize_request(rv, ctx)
            # The error's traceback holds this frame: without these names no
            # cycle keeps the request (and its body) until a collection.
            rv = request = ctx = None
            return response
        return await self.finalize_request(rv, ctx)

    async def _dispatch(self, request: Any, plan: _Plan) -> Any:
        error = request.routing_exception
        if error is not None:
            try:
                raise error
            finally:
                del error, request  # the traceback holds this frame: no cycle through these
        if request.method == "OPTIONS" and getattr(request.url_rule, "provide_automatic_options", False):
            return await self.make_default_options_response()
        return await plan.view(**request.view_args)

    async def dispatch_request(self, ctx: RequestContext | None = None) -> Any:
        """Call the view for the current request and return its value."""
        if ctx is None:
            ctx = _cv_request.get()
        request = ctx.request_websocket
        rule = request.url_rule
        return await self._dispatch(request, self._plan(rule.endpoint if rule is not None else None))

    async def preprocess_request(self, ctx: RequestContext | None = None) -> Any:
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

    def raise_routing_exception(self, request: Any) -> Any:
        """Raise the error matching ``request``'s URL gave (a 404, 405 or redirect)."""
        error = request.routing_exception
        try:
            raise error
        finally:
            del error, request  # the traceback holds this frame: no cycle through these

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass overriding ``preprocess_request`` or ``dispatch_request``
        (as a Quart app may) gets a ``full_dispatch_request`` calling each step
        by name; Quaver's own dispatch runs them inline, without the calls."""
        super().__init_subclass__(**kwargs)
        if cls.full_dispatch_request is Quaver.full_dispatch_request and any(
            getattr(cls, step) is not getattr(Quaver, step) for step in ("preprocess_request", "dispatch_request")
        ):
            cls.full_dispatch_request = Quaver._full_dispatch_request_by_steps  # type: ignore[method-assign]

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
            rv = await self.preprocess_request(ctx)
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

    def _sendable(self, response: ResponseTypes) -> Response:
        """``response`` as ``response_class``, what the after hooks get and the
        server is sent (make_response leaves Werkzeug's responses as they are)."""
        if isinstance(response, self.response_class):
            return response
        return self._from_werkzeug_response(response)  # type: ignore[arg-type]  # not response_class: Werkzeug's

    async def make_response(self, rv: ResponseReturnValue | HTTPException) -> ResponseTypes:
        """Turn anything a view may return into a response object.

        As in Quart, a Werkzeug response stays one (with the status and
        headers given beside it applied), and an HTTP error gives its
        ``get_response()``; the app turns them into ``response_class`` before
        its after hooks run.
        """
        cls = rv.__class__
        if cls is dict or cls is list:
            # The provider makes a response_class (typed as Werkzeug's sansio Response by Flask).
            return self.json.response(rv)  # type: ignore[return-value]
        if cls is str:
            return self.response_class._from_text(rv)  # type: ignore[arg-type]  # a str (cls is str)
        if isinstance(rv, self.response_class):
            return rv
        body: Any = rv  # a body, or a tuple of one with its status and/or headers
        status: Any = None
        headers: Any = None
        if isinstance(body, tuple):
            if len(body) == 3:
                body, status, headers = body
            elif len(body) == 2:
                if isinstance(body[1], (Headers, dict, tuple, list)):
                    body, headers = body
                else:
                    body, status = body
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple must"
                    " have the form (body, status, headers), (body, status), or (body, headers)."
                )
        if body is None:
            ctx = _cv_request.get(None) or _cv_websocket.get(None)
            endpoint = ctx.request_websocket.endpoint if ctx is not None else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The"
                " function either returned None or ended without a return statement."
            )
        response: ResponseTypes
        if isinstance(body, self.response_class):
            response = body
        elif isinstance(body, (str, bytes, bytearray)):
            response = self.response_class(body, status=status, headers=headers)
            status = headers = None
        elif isinstance(body, (dict, list)):
            response = self.json.response(body)  # type: ignore[assignment]  # a response_class, as above
        elif isinstance(body, HTTPException):
            response = body.get_response()
        elif isinstance(body, WerkzeugResponse):
            response = body
        elif isinstance(body, SansIOResponse) and hasattr(body, "response"):
            response = self.response_class(body.response, body.status, body.headers)
        elif inspect.isasyncgen(body) or inspect.isgenerator(body) or hasattr(body, "__aiter__") or (
            hasattr(body, "__iter__") and not isinstance(body, (dict, list, tuple))
        ):
            response = self.response_class(body, status=status, headers=headers)
            status = headers = None
        else:
            raise TypeError(
                "The view function did not return a valid response. The return type must be"
                " a string, dict, list, tuple with headers or status, Response instance,"
                f" or generator, but it was a {type(body).__name__}."
            )
        if status is not None:
            if isinstance(status, (bytes, bytearray)):
                status = status.decode()
            if isinstance(status, str):
                response.status = status
            else:
                response.status_code = int(status)
        if headers:
            response.headers.update(headers)
        return response

    def _from_werkzeug_response(self, rv: WerkzeugResponse) -> Response:
        body: Any = rv.get_data() if not rv.is_streamed else rv.response
        response = self.response_class(body, rv.status, rv.headers)
        return response

    def _exception_response(self, error: HTTPException) -> Response:
        """The response for an HTTP error that no handler took."""
        if isinstance(error, RequestRedirect):
            return self.redirect(error.new_url, error.code)
        if error.response is not None:
            inner = error.response
            if isinstance(inner, self.response_class):
                return inner
            if isinstance(inner, WerkzeugResponse):
                return self._from_werkzeug_response(inner)
        return self.response_class(error.get_body(), error.code, error.get_headers())

    def redirect(self, location: str, code: int = 302) -> Response:  # type: ignore[override]
        """A redirect response to ``location``."""
        # Werkzeug types Response as its own wrapper's class; any class built
        # as Response(body, code, mimetype=...) with headers will do.
        return _redirect(location, code=code, Response=self.response_class)  # type: ignore[arg-type, return-value]

    # ------------------------------------------------------------------
    # Errors
    # ------------------------------------------------------------------
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

    def log_exception(
        self, exc_info: tuple[type, BaseException, TracebackType | None] | tuple[None, None, None]
    ) -> None:
        """Log an unhandled error with the request's path and method."""
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        if ctx is not None:
            target = ctx.request_websocket
            self.logger.error(f"Exception on {target.path} [{target.method}]", exc_info=exc_info)
        else:
            self.logger.error("Exception", exc_info=exc_info)

    # ------------------------------------------------------------------
    # Teardown
    # ------------------------------------------------------------------
    async def do_teardown_request(self, exc: BaseException | None = None, ctx: RequestContext | None = None) -> None:
        """Run the teardown_request functions of the current request (or ``ctx``'s)."""
        for func in self._plan_of(ctx if ctx is not None else _cv_request.get()).teardown:
            try:
                await func(exc)
            except Exception as error:
                self._teardown_failed(error)
        if request_tearing_down.receivers:
            await request_tearing_down.send_async(self, _sync_wrapper=self.ensure_async, exc=exc)

    async def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the teardown_appcontext functions."""
        for func in reversed(self.teardown_appcontext_funcs):
            try:
                await self.ensure_async(func)(exc)
            except Exception as error:
                self._teardown_failed(error)
        if appcontext_tearing_down.receivers:
            await appcontext_tearing_down.send_async(self, _sync_wrapper=self.ensure_async, exc=exc)

    def _teardown_failed(self, error: Exception) -> None:
        """A teardown function raised: when propagating (testing, debug) let
        the error go on, as in Flask; otherwise log it, so that the other
        teardown functions still run and the response made is delivered."""
        if self._propagate_exceptions():
            raise error
        self.log_exception((type(error), error, error.__traceback__))

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The Cache-Control max-age for a file: SEND_FILE_MAX_AGE_DEFAULT."""
        value: timedelta | int | None = self.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return value

    async def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from the static folder."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        max_age = self.get_send_file_max_age(filename)
        return await send_from_directory(self.static_folder, filename, max_age=max_age)  # type: ignore[arg-type]

    def open_instance_resource(
        self, resource: str | os.PathLike[str], mode: str = "rb", encoding: str | None = "utf-8"
    ) -> Any:
        """Open ``resource``, a path relative to ``instance_path``, in any
        mode (writing too): ``async with await
        app.open_instance_resource("notes.txt", "w") as f: await f.write(text)``.
        Used in the same forms as ``open_resource``."""
        return Resource(os.path.join(self.instance_path, resource), mode, encoding)

    # ------------------------------------------------------------------
    # Testing and running
    # ------------------------------------------------------------------
    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> TestClientProtocol:
        """A client that calls this app in-process: ``await client.get("/")``."""
        return self.test_client_class(self, use_cookies=use_cookies, **kwargs)

    def test_app(self) -> TestAppProtocol:
        """``async with app.test_app() as test_app:`` runs start-up and shutdown around the block."""
        return self.test_app_class(self)

    def test_cli_runner(self, **kwargs: Any) -> Any:
        return self.test_cli_runner_class(self, **kwargs)

    def make_shell_context(self) -> dict[str, Any]:
        """The names an interactive shell starts with: ``app``, ``g`` and what
        the shell context processors return (call it in an app context)."""
        context: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    # ------------------------------------------------------------------
    # ASGI
    # ------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.asgi_app == self._asgi_app:
            await asgi.handle_http(self, scope, receive, send)  # the common case, one call shorter
        else:
            await self.asgi_app(scope, receive, send)

    async def _asgi_app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await asgi.handle_http(self, scope, receive, send)
        elif kind == "websocket":
            await asgi.handle_websocket(self, scope, receive, send)
        elif kind == "lifespan":
            await asgi.handle_lifespan(self, scope, receive, send)
        else:
            raise RuntimeError(f"Unsupported ASGI scope type {kind!r}")
