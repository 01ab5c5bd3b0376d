"""Testing without a server: the test client, lifespan driver and CLI runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
from click.testing import CliRunner, Result

from ..commands import ScriptInfo
from .app import LifespanError, TestApp
from .client import QuaverClient
from .connections import TestHTTPConnection
from .cookies import Cookie, CookieJar
from .utils import (
    _client_scope,
    _headers_path_and_query,
    make_test_body_with_headers,
    make_test_headers_path_and_query_string,
    make_test_scope,
    no_op_push,
    sentinel,
)
from .websocket import TestWebsocketConnection, WebsocketDisconnectError, WebsocketResponseError

if TYPE_CHECKING:
    from ..app import Quaver

__all__ = (
    "Cookie",
    "CookieJar",
    "LifespanError",
    "QuaverCliRunner",
    "QuaverClient",
    "TestApp",
    "TestHTTPConnection",
    "TestWebsocketConnection",
    "WebsocketDisconnectError",
    "WebsocketResponseError",
    "make_test_body_with_headers",
    "make_test_headers_path_and_query_string",
    "make_test_request",
    "make_test_scope",
    "no_op_push",
)


def make_test_request(
    app: Quaver,
    path: str = "/",
    *,
    method: str = "GET",
    headers: Any = None,
    query_string: Any = None,
    scheme: str = "http",
    data: Any = None,
    form: Any = None,
    files: Any = None,
    json: Any = sentinel,
    root_path: str = "",
    http_version: str = "1.1",
    scope_base: dict[str, Any] | None = None,
    auth: Any = None,
    subdomain: str | None = None,
) -> Any:
    """A request object for ``path``, its body already complete."""
    headers, path, query_bytes = _headers_path_and_query(app, path, headers, query_string, auth, subdomain)
    body, body_headers = make_test_body_with_headers(data=data, form=form, files=files, json=json, app=app)
    for key, value in body_headers.items():
        headers.setdefault(key, value)
    if body:
        headers.setdefault("Content-Length", str(len(body)))
    scope = _client_scope("http", path, method, headers, query_bytes, scheme, root_path, http_version, scope_base)
    request = app.request_class.from_scope(scope)
    request._config = app.config
    request.json_module = app.json
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request._receive = receive  # read as from a server, so the app's limits apply
    return request


class QuaverCliRunner(CliRunner):
    """Invokes the app's CLI commands in tests: ``app.test_cli_runner().invoke(args=[...])``."""

    def __init__(self, app: Quaver, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]  # cli is optional (the app's), as in Quart
        self, cli: click.Command | None = None, args: str | Sequence[str] | None = None, **kwargs: Any
    ) -> Result:
        """Run ``cli`` (the app's commands by default) with ``args``, against this runner's app."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)
