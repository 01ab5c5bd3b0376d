"""``app.test_client()``: call the app in-process as an HTTP client would."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.http import dump_cookie

from ..utils import decode_headers
from .connections import TestHTTPConnection, TestWebsocketConnection, build_response
from .cookies import CookieJar
from .utils import _client_scope, _headers_path_and_query, make_test_body_with_headers, sentinel

if TYPE_CHECKING:
    from ..app import Quaver
    from ..wrappers import Response

_REDIRECTS = {301, 302, 303, 305, 307, 308}
_MAX_REDIRECTS = 20
_BODY_HEADERS = ("Content-Type", "Content-Length", "Transfer-Encoding")


class QuaverClient:
    """Sends requests to an app without a server: ``await client.get("/")``.

    Cookies the app sets are kept in ``cookie_jar`` and sent back on later
    requests. Used as ``async with app.test_client() as client:``, the
    request context of the last request stays pushed until the block ends,
    so ``request``, ``session`` and ``g`` can be inspected after it.
    """

    http_connection_class = TestHTTPConnection
    websocket_connection_class = TestWebsocketConnection

    def __init__(self, app: Quaver, use_cookies: bool = True) -> None:
        self.app = app
        self.cookie_jar: CookieJar | None = CookieJar() if use_cookies else None
        self.preserve_context = False
        self.push_promises: list[tuple[str, Headers]] = []
        self._preserved: list[tuple[Any, BaseException | None]] = []
        self._last_raw_path = "/"  # what the last request sent: a redirect is resolved against it
        self._last_body = b""
        self._last_body_headers = Headers()

    # -- building requests --------------------------------------------
    def _scope(
        self,
        type_: str,
        path: str,
        method: str,
        headers: Any,
        query_string: Any,
        scheme: str,
        root_path: str,
        http_version: str,
        scope_base: dict[str, Any] | None,
        auth: Any,
        subdomain: str | None,
        body_headers: Headers | None = None,
        body: bytes = b"",
    ) -> dict[str, Any]:
        """The ASGI scope for a request: its headers completed with Host,
        the body's headers and the cookies from the jar."""
        headers, path, query_bytes = _headers_path_and_query(self.app, path, headers, query_string, auth, subdomain)
        for key, value in (body_headers or Headers()).items():
            headers.setdefault(key, value)
        if body and "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            headers["Content-Length"] = str(len(body))
        scope = _client_scope(type_, path, method, headers, query_bytes, scheme, root_path, http_version, scope_base)
        if self.cookie_jar is not None and "Cookie" not in headers:
            secure = scope["scheme"] in ("https", "wss")
            cookie = self.cookie_jar.header_for(headers["Host"], scope["raw_path"].decode("ascii"), secure)
            if cookie is not None:
                scope["headers"] = [*scope["headers"], (b"cookie", cookie.encode("latin-1"))]
        return scope

    def _store_cookies(self, headers: Headers, scope: dict[str, Any]) -> None:
        if self.cookie_jar is not None:
            host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
            self.cookie_jar.update_from_headers(headers, host, scope["raw_path"].decode("ascii"))

    # -- sending ------------------------------------------------------
    async def open(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Any = None,
        data: Any = None,
        form: Any = None,
        files: Any = None,
        query_string: Any = None,
        json: Any = sentinel,
        scheme: str = "http",
        follow_redirects: bool = False,
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Any = None,
        subdomain: str | None = None,
    ) -> Response:
        """Send a request and return the app's response, its body read.

        With ``follow_redirects`` the client goes on to each ``Location``:
        307 and 308 repeat the method and body, the other redirects become
        a GET (a HEAD stays a HEAD) without a body.
        """
        self.push_promises = []
        response = await self._make_request(
            path, method, headers, data, form, files, query_string, json, scheme, root_path, http_version,
            scope_base, auth, subdomain,
        )
        seen = 0
        while follow_redirects and response.status_code in _REDIRECTS and "Location" in response.headers:
            seen += 1
            if seen > _MAX_REDIRECTS:
                last = response.headers["Location"]
                raise RuntimeError(f"More than {_MAX_REDIRECTS} redirects, the last to {last!r}")
            target = urlsplit(urljoin(self._last_raw_path, response.headers["Location"]))
            headers = Headers(headers) if headers is not None else Headers()
            if target.netloc:
                headers["Host"] = target.netloc
            if response.status_code in (307, 308):  # the same body again, as it went the first time
                data, form, files, json = self._last_body, None, None, sentinel
                for name, value in self._last_body_headers.items():
                    headers.setdefault(name, value)
            else:
                if method != "HEAD":
                    method = "GET"
                data, form, files, json = None, None, None, sentinel
                for name in _BODY_HEADERS:
                    headers.remove(name)
            next_path = (target.path or "/") + ("?" + target.query if target.query else "")
            response = await self._make_request(
                next_path, method, headers, data, form, files, None, json, target.scheme or scheme, root_path,
                http_version, scope_base, auth, None,
            )
        return response

    async def _make_request(
        self,
        path: str,
        method: str,
        headers: Any,
        data: Any,
        form: Any,
        files: Any,
        query_string: Any,
        json: Any,
        scheme: str,
        root_path: str,
        http_version: str,
        scope_base: dict[str, Any] | None,
        auth: Any = None,
        subdomain: str | None = None,
    ) -> Response:
        """Send one request (no redirects followed) and return the response: the
        hook extensions override to change what is sent, as on Quart's client."""
        body, body_headers = make_test_body_with_headers(data=data, form=form, files=files, json=json, app=self.app)
        scope = self._scope(
            "http", path, method, headers, query_string, scheme, root_path, http_version, scope_base,
            auth, subdomain, body_headers, body,
        )
        self._last_raw_path = scope["raw_path"].decode("ascii")
        self._last_body, self._last_body_headers = body, body_headers
        return await self._send(scope, body)

    async def _send(self, scope: dict[str, Any], body: bytes) -> Response:
        """Run the app on one request whose body is ``body``; return its response."""
        await self._pop_preserved()
        if self.preserve_context:
            scope["_quaver_preserve"] = self._preserved
        sent = False
        finished = asyncio.Event()
        status = 500
        raw_headers: list[Any] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, raw_headers
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                raw_headers = message.get("headers", [])
            elif kind == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()
            elif kind == "http.response.push":
                self.push_promises.append((message["path"], decode_headers(message.get("headers", []))))

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        response = build_response(self.app, status, raw_headers, b"".join(chunks))
        self._store_cookies(response.headers, scope)
        return response

    async def _pop_preserved(self) -> None:
        """Pop the request contexts kept from earlier requests, newest first."""
        while self._preserved:
            ctx, error = self._preserved.pop()
            await ctx.pop(error)

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Any = None,
        query_string: Any = None,
        scheme: str = "http",
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Any = None,
        subdomain: str | None = None,
    ) -> TestHTTPConnection:
        """A streaming request: ``async with client.request(path, method="POST") as connection:``;
        see :class:`TestHTTPConnection`. The body is sent with ``connection.send``."""
        scope = self._scope(
            "http", path, method, headers, query_string, scheme, root_path, http_version, scope_base, auth, subdomain
        )
        return self.http_connection_class(self.app, scope, lambda headers: self._store_cookies(headers, scope))

    def websocket(
        self,
        path: str,
        *,
        headers: Any = None,
        query_string: Any = None,
        scheme: str = "ws",
        subprotocols: list[str] | None = None,
        root_path: str = "",
        http_version: str = "1.1",
        scope_base: dict[str, Any] | None = None,
        auth: Any = None,
        subdomain: str | None = None,
    ) -> Any:
        """A websocket: ``async with client.websocket(path) as ws:`` (a
        ``websocket_connection_class``)."""
        headers = Headers(headers) if headers is not None else Headers()
        if subprotocols:
            headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        scope = self._scope(
            "websocket", path, "GET", headers, query_string, scheme, root_path, http_version, scope_base,
            auth, subdomain,
        )
        return self.websocket_connection_class(self.app, scope)

    async def get(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="GET", **kwargs)

    async def post(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="POST", **kwargs)

    async def put(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="PUT", **kwargs)

    async def patch(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="PATCH", **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="DELETE", **kwargs)

    async def head(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="HEAD", **kwargs)

    async def options(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="OPTIONS", **kwargs)

    async def trace(self, *args: Any, **kwargs: Any) -> Response:
        return await self.open(*args, method="TRACE", **kwargs)

    # -- cookies and sessions -----------------------------------------
    def set_cookie(
        self,
        server_name: str | None,
        key: str,
        value: str = "",
        max_age: int | timedelta | None = None,
        expires: int | float | datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        charset: str = "utf-8",
    ) -> None:
        """Put a cookie in the jar, as if ``server_name`` (``localhost`` when None) had set it.
        ``charset`` is Quart's argument; cookies are always UTF-8, as in Werkzeug 3."""
        if self.cookie_jar is None:
            raise RuntimeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        header = dump_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite,
        )
        self.cookie_jar.update_from_headers(Headers([("Set-Cookie", header)]), server_name, path)

    def delete_cookie(self, server_name: str | None, key: str, path: str = "/", domain: str | None = None) -> None:
        """Remove a cookie from the jar."""
        self.set_cookie(server_name, key, expires=0, max_age=0, path=path, domain=domain)

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> str | None:
        """The value (unquoted) of the cookie ``key`` stored for ``domain`` and ``path``, or None."""
        return self.cookie_jar.get(key, domain, path) if self.cookie_jar is not None else None

    @asynccontextmanager
    async def session_transaction(self, path: str = "/", **kwargs: Any) -> Any:
        """Open the session the next request would see, let the test change it, and store it back."""
        if self.cookie_jar is None:
            raise RuntimeError("Session transactions only make sense with cookies enabled.")
        headers = Headers(kwargs.pop("headers", None) or {})
        host = headers.get("Host") or self.app.config["SERVER_NAME"] or "localhost"
        secure = kwargs.get("scheme", "http") == "https"
        cookie = self.cookie_jar.header_for(host, path.partition("?")[0], secure)
        if cookie is not None:
            headers["Cookie"] = cookie
        ctx = self.app.test_request_context(path, headers=headers, **kwargs)
        interface = self.app.session_interface
        async with ctx:
            session = await self.app.open_session(ctx.request)
            if interface.is_null_session(session):
                raise RuntimeError("Session backend did not open a session.")
            yield session
            response = self.app.response_class()
            if not interface.is_null_session(session):
                result = interface.save_session(self.app, session, response)
                if asyncio.iscoroutine(result):
                    await result
        self.cookie_jar.update_from_headers(response.headers, host, path.partition("?")[0])

    async def __aenter__(self) -> QuaverClient:
        self.preserve_context = True
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
        await self._pop_preserved()
