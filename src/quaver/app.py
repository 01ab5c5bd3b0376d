"""The Quaver application: registration (Flask's) and request dispatch (ours).

Registration comes from ``flask.sansio.App``, so routes, blueprints, hooks
and error handlers behave exactly as in Flask. ``Quaver`` is assembled here
from its parts: HTTP dispatch (dispatch.py), websocket dispatch
(websockets.py), error handling (errors.py) and serving (serving.py); this
module holds the rest: configuration, templates, contexts, URL building,
making responses, files, testing and the ASGI entry point.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from datetime import timedelta
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload
from urllib.parse import quote as _url_quote

from flask import Flask
from flask.sansio.app import App, T_shell_context_processor, T_template_filter, T_template_global, T_template_test  # noqa: F401
from werkzeug.datastructures import Headers, ImmutableDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError, MapAdapter, RequestRedirect
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import redirect as _redirect
from werkzeug.wrappers import Response as WerkzeugResponse

from . import asgi
from .commands import AppGroup
from .config import DEFAULT_CONFIG, Config
from .ctx import AppContext, RequestContext, WebsocketContext, _AppCtxGlobals
from .dispatch import RequestDispatchMixin, _Plan
from .errors import ErrorHandlingMixin
from .globals import _cv_app, _cv_request, _cv_websocket, g
from .helpers import get_flashed_messages, send_from_directory
from .json.provider import DefaultJSONProvider
from .routing import QuaverMap, QuaverRule
from .scaffold import QuaverScaffoldMixin, Resource, T_after_websocket, T_before_websocket, T_teardown, T_websocket  # noqa: F401
from .serving import ServingMixin, T_after_serving, T_before_serving, T_while_serving  # noqa: F401
from .sessions import AppSessionMixin, SecureCookieSessionInterface
from .signals import appcontext_tearing_down
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


# static_folder is a Path (Quart's), a str in Flask's Scaffold.
class Quaver(  # type: ignore[misc]
    ServingMixin,
    WebsocketDispatchMixin,
    RequestDispatchMixin,
    ErrorHandlingMixin,
    QuaverScaffoldMixin,
    AppSessionMixin,
    App,
):
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
        self.asgi_app = self._own_asgi_app = self._asgi_app  # the second to tell if middleware replaced it
        self.cli = AppGroup(self.name)
        self.cli._app = self  # app.cli() on its own runs its commands against this app
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

    def websocket_context(self, websocket: Websocket) -> WebsocketContext:
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
    def create_url_adapter(self, request: BaseRequestWebsocket | None) -> MapAdapter | None:
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
    # Teardown of the app context
    # ------------------------------------------------------------------
    async def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the teardown_appcontext functions."""
        for func in reversed(self.teardown_appcontext_funcs):
            try:
                await self.ensure_async(func)(exc)
            except Exception as error:
                self._teardown_failed(error)
        if appcontext_tearing_down.receivers:
            await appcontext_tearing_down.send_async(self, _sync_wrapper=self.ensure_async, exc=exc)

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
    ) -> Resource:
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

    def test_cli_runner(self, **kwargs: Any) -> QuaverCliRunner:
        return self.test_cli_runner_class(self, **kwargs)

    def make_shell_context(self) -> dict[str, Any]:
        """The names an interactive shell starts with: ``app``, ``g`` and what
        the shell context processors return (call it in an app context)."""
        context: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(processor())
        return context

    def log_exception(
        self, exc_info: tuple[type, BaseException, TracebackType | None] | tuple[None, None, None]
    ) -> None:
        """Log an unhandled error with the request's path and method (here, so
        that the log line says ``ERROR in app``, as in Flask and Quart)."""
        ctx = _cv_request.get(None) or _cv_websocket.get(None)
        if ctx is not None:
            target = ctx.request_websocket
            self.logger.error(f"Exception on {target.path} [{target.method}]", exc_info=exc_info)
        else:
            self.logger.error("Exception", exc_info=exc_info)

    # ------------------------------------------------------------------
    # ASGI
    # ------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http" and self.asgi_app is self._own_asgi_app:
            await asgi.handle_http(self, scope, receive, send)  # the common cases, one call shorter
        elif kind == "websocket" and self.asgi_app is self._own_asgi_app:
            await asgi.handle_websocket(self, scope, receive, send)  # and one coroutine less to hold
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
