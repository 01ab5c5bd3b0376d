"""The context variables behind ``current_app``, ``g``, ``request``,
``websocket`` and ``session``, and the proxies to them."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .ctx import AppContext, RequestContext, WebsocketContext

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
    costs one call instead of three, and views read ``request`` a lot."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get_current_object(), name)


_cv_app: ContextVar[AppContext] = ContextVar("quaver.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("quaver.request_ctx")
_cv_websocket: ContextVar[WebsocketContext] = ContextVar("quaver.websocket_ctx")

app_ctx: Any = LocalProxy(_cv_app, unbound_message=_no_app_msg)
current_app: Any = _ContextProxy(_cv_app, "app", unbound_message=_no_app_msg)
g: Any = _ContextProxy(_cv_app, "g", unbound_message=_no_app_msg)

request_ctx: Any = LocalProxy(_cv_request, unbound_message=_no_req_msg)
request: Any = _ContextProxy(_cv_request, "request", unbound_message=_no_req_msg)

websocket_ctx: Any = LocalProxy(_cv_websocket, unbound_message=_no_ws_msg)
websocket: Any = _ContextProxy(_cv_websocket, "websocket", unbound_message=_no_ws_msg)


def _session() -> Any:
    ctx = _cv_request.get(None)
    if ctx is None:
        ctx = _cv_websocket.get(None)
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


session: Any = LocalProxy(_session)
