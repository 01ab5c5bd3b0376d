"""``app.test_client()``: call the app in-process as an HTTP client would."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.http import dump_cookie

from .connections import TestHTTPConnection, build_response
from .utils import make_test_body_with_headers, make_test_headers_path_and_query_string, make_test_scope, sentinel

_REDIRECTS = {301, 302, 303, 305, 307, 308}


class CookieJar:
    """Cookies set by responses, sent back on later requests that match them."""

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], tuple[str, float | None]] = {}

    def set(self, domain: str, path: str, name: str, value: str, expires: float | None) -> None:
        if expires is not None and expires <= time.time():
            self._cookies.pop((domain, path, name), None)
        else:
            self._cookies[(domain, path, name)] = (value, expires)

    def update_from_headers(self, headers: Headers, request_host: str) -> None:
        for header in headers.getlist("Set-Cookie"):
            parsed = SimpleCookie()
            try:
                parsed.load(header)
            except Exception:
                continue
            for name, morsel in parsed.items():
                domain = (morsel["domain"] or request_host).lstrip(".").lower()
                path = morsel["path"] or "/"
                expires: float | None = None
                if morsel["max-age"]:
                    expires = time.time() + int(morsel["max-age"])
                elif morsel["expires"]:
                    from werkzeug.http import parse_date

                    when = parse_date(morsel["expires"])
                    expires = when.timestamp() if when is not None else None
                self.set(domain, path, name, morsel.value, expires)

    def header_for(self, host: str, path: str) -> str | None:
        host = host.partition(":")[0].lower()
        now = time.time()
        pairs = []
        for (domain, cookie_path, name), (value, expires) in list(self._cookies.items()):
            if expires is not None and expires <= now:
                del self._cookies[(domain, cookie_path, name)]
                continue
            if (host == domain or host.endswith("." + domain)) and path.startswith(cookie_path):
                pairs.append(f"{name}={value}")
        return "; ".join(pairs) if pairs else None

    def get(self, name: str, domain: str = "localhost", path: str = "/") -> str | None:
        found = self._cookies.get((domain, path, name))
        return found[0] if found is not None else None

    def __iter__(self) -> Any:
        return iter(self._cookies)

    def __len__(self) -> int:
        return len(self._cookies)


class QuaverClient:
    """Sends requests to an app without a server: ``await client.get("/")``."""

    http_connection_class = TestHTTPConnection

    def __init__(self, app: Any, use_cookies: bool = True) -> None:
        self.app = app
        self.cookie_jar: CookieJar | None = CookieJar() if use_cookies else None
        self.preserve_context = False
        self.push_promises: list[tuple[str, Headers]] = []

    # -- building requests --------------------------------------------
    def _prepare(
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
        auth: Any,
        subdomain: str | None,
        type_: str = "http",
    ) -> tuple[dict[str, Any], bytes]:
        headers, path, query_bytes = make_test_headers_path_and_query_string(
            self.app, path, headers, query_string, auth, subdomain
        )
        body, body_headers = make_test_body_with_headers(data=data, form=form, files=files, json=json, app=self.app)
        for key, value in body_headers.items():
            headers.setdefault(key, value)
        if body and "Content-Length" not in headers and type_ == "http":
            headers["Content-Length"] = str(len(body))
        if self.cookie_jar is not None and "Cookie" not in headers:
            cookie = self.cookie_jar.header_for(headers["Host"], path)
            if cookie is not None:
                headers["Cookie"] = cookie
        scope = make_test_scope(type_, path, method, headers, query_bytes, scheme, root_path, http_version, scope_base)
        if type_ == "http":
            scope["extensions"] = {"http.response.push": {}}
        return scope, body

    def _store_cookies(self, headers: Headers, host: str) -> None:
        if self.cookie_jar is not None:
            self.cookie_jar.update_from_headers(headers, host.partition(":")[0])

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
    ) -> Any:
        """Send a request and return the app's response (its body read)."""
        response = await self._send_once(
            path, method, headers, data, form, files, query_string, json, scheme, root_path,
            http_version, scope_base, auth, subdomain,
        )
        redirects = 0
        while follow_redirects and response.status_code in _REDIRECTS and "Location" in response.headers:
            redirects += 1
            if redirects > 20:
                raise RuntimeError("Too many redirects")
            location = urlsplit(response.headers["Location"])
            next_path = location.path or "/"
            if location.query:
                next_path += "?" + location.query
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, data, form, files, json = "GET", None, None, None, sentinel
            host_headers = Headers(headers) if headers is not None else Headers()
            if location.netloc:
                host_headers["Host"] = location.netloc
            response = await self._send_once(
                next_path, method, host_headers, data, form, files, None, json, location.scheme or scheme,
                root_path, http_version, scope_base, auth, None,
            )
        return response

    async def _send_once(self, *args: Any) -> Any:
        scope, body = self._prepare(*args)
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
                self.push_promises.append((message["path"], Headers(
                    [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
                )))

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        response = build_response(self.app, status, raw_headers, b"".join(chunks))
        self._store_cookies(response.headers, dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1"))
        return response

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
        """A streaming request: ``async with client.request(path) as connection:``."""
        scope, _ = self._prepare(
            path, method, headers, None, None, None, query_string, sentinel, scheme, root_path,
            http_version, scope_base, auth, subdomain,
        )
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        return self.http_connection_class(self.app, scope, lambda h: self._store_cookies(h, host))

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
        """A websocket: ``async with client.websocket(path) as ws:``."""
        from .websocket import TestWebsocketConnection

        headers = Headers(headers) if headers is not None else Headers()
        if subprotocols:
            headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        scope, _ = self._prepare(
            path, "GET", headers, None, None, None, query_string, sentinel, scheme, root_path,
            http_version, scope_base, auth, subdomain, "websocket",
        )
        return TestWebsocketConnection(self.app, scope)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="GET", **kwargs)

    async def post(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="POST", **kwargs)

    async def put(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="PUT", **kwargs)

    async def patch(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="PATCH", **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="DELETE", **kwargs)

    async def head(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="HEAD", **kwargs)

    async def options(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="OPTIONS", **kwargs)

    async def trace(self, *args: Any, **kwargs: Any) -> Any:
        return await self.open(*args, method="TRACE", **kwargs)

    # -- cookies and sessions -----------------------------------------
    def set_cookie(
        self,
        server_name: str,
        key: str,
        value: str = "",
        max_age: int | timedelta | None = None,
        expires: int | float | datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
    ) -> None:
        """Put a cookie in the jar, as if ``server_name`` had set it."""
        if self.cookie_jar is None:
            raise RuntimeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        header = dump_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite,
        )
        self.cookie_jar.update_from_headers(Headers([("Set-Cookie", header)]), server_name)

    def delete_cookie(self, server_name: str, key: str, path: str = "/", domain: str | None = None) -> None:
        """Remove a cookie from the jar."""
        self.set_cookie(server_name, key, expires=0, max_age=0, path=path, domain=domain)

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> str | None:
        """The value of a cookie in the jar, or None."""
        return self.cookie_jar.get(key, domain, path) if self.cookie_jar is not None else None

    @asynccontextmanager
    async def session_transaction(self, path: str = "/", **kwargs: Any) -> Any:
        """Open the session the next request would see, let the test change it, and store it back."""
        if self.cookie_jar is None:
            raise RuntimeError("Session transactions only make sense with cookies enabled.")
        headers = Headers(kwargs.pop("headers", None) or {})
        host = headers.get("Host") or self.app.config["SERVER_NAME"] or "localhost"
        cookie = self.cookie_jar.header_for(host, path.partition("?")[0])
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
        self._store_cookies(response.headers, host)

    async def __aenter__(self) -> QuaverClient:
        self.preserve_context = True
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
