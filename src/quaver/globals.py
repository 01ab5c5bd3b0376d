"""The context variables behind ``current_app``, ``g``, ``request``,
``websocket`` and ``session``, and the proxies to them."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .app import Quaver
    from .ctx import AppContext, RequestContext, WebsocketContext, _AppCtxGlobals
    from .sessions import SessionMixin
    from .wrappers.request import Request
    from .wrappers.websocket import Websocket

_no_app_msg = """\
Working outside of application context.

Code that needs the app (current_app, g, url_for) ran with no app context
pushed. Use 'async with app.app_context():' to push one."""

_no_req_msg = """\
Working outside of request context.

Code that needs the request ran outside a request. Use
'async with app.test_request_context(...):' in tests."""

_no_ws_msg = "Working outside of websocket context."

class _ContextProxy(LocalProxy):  # type: ignore[type-arg]
    """Werkzeug's LocalProxy with a shorter attribute path: ``request.x``
    costs one call instead of an AttributeError and three calls, and views
    read ``request`` a lot. Names starting with ``_`` are looked up on the
    proxy first, as Werkzeug's does (``_get_current_object``, dunders)."""

    __slots__ = ()
    _var: ContextVar[Any]
    _attribute: str
    _message: str

    def __getattr__(self, name: str) -> Any:
        try:
            ctx = self._var.get()
        except LookupError:
            raise RuntimeError(self._message) from None
        return getattr(getattr(ctx, self._attribute), name)


def _context_proxy(label: str, var: ContextVar[Any], attribute: str, message: str) -> Any:
    """A proxy to ``var.get().<attribute>``, its own class holding what it reads."""
    get = var.get
    own = object.__getattribute__

    def __getattribute__(self: _ContextProxy, name: str) -> Any:
        if name[:1] == "_":
            return own(self, name)  # an AttributeError goes on to __getattr__, which forwards it
        try:
            ctx = get()
        except LookupError:
            raise RuntimeError(message) from None
        return getattr(getattr(ctx, attribute), name)

    cls = type(f"_{label.title()}Proxy", (_ContextProxy,), {
        "__slots__": (), "_var": var, "_attribute": attribute, "_message": message,
        "__getattribute__": __getattribute__,
    })
    return cls(var, attribute, unbound_message=message)


_cv_app: ContextVar[AppContext] = ContextVar("quaver.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("quaver.request_ctx")
_cv_websocket: ContextVar[WebsocketContext] = ContextVar("quaver.websocket_ctx")

app_ctx: AppContext = LocalProxy(_cv_app, unbound_message=_no_app_msg)  # type: ignore[assignment]
current_app: Quaver = _context_proxy("app", _cv_app, "app", _no_app_msg)
g: _AppCtxGlobals = _context_proxy("g", _cv_app, "g", _no_app_msg)

request_ctx: Any = LocalProxy(_cv_request, unbound_message=_no_req_msg)
request: Request = _context_proxy("request", _cv_request, "request_websocket", _no_req_msg)

websocket_ctx: WebsocketContext = LocalProxy(_cv_websocket, unbound_message=_no_ws_msg)  # type: ignore[assignment]
websocket: Websocket = _context_proxy("websocket", _cv_websocket, "request_websocket", _no_ws_msg)


def _session() -> Any:
    ctx: RequestContext | WebsocketContext | None = _cv_request.get(None)
    if ctx is None:
        ctx = _cv_websocket.get(None)
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


class _SessionProxy(LocalProxy):  # type: ignore[type-arg]
    """``session``: public names go straight to the session, as ``request``'s do."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name[:1] == "_":
            return object.__getattribute__(self, name)  # an AttributeError goes on to __getattr__
        return getattr(_session(), name)


session: SessionMixin = _SessionProxy(_session)  # type: ignore[assignment]
