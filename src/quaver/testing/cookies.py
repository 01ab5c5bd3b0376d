"""The test client's cookie jar: keeps what Set-Cookie said, sends back what matches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.http import parse_cookie, parse_date


@dataclass
class Cookie:
    """One stored cookie. ``value`` is as the server sent it (quoted if it was)."""

    name: str
    value: str
    domain: str
    path: str = "/"
    expires: float | None = None
    host_only: bool = True
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None

    @property
    def decoded_value(self) -> str:
        """The value with any quoting undone, as the app reads it."""
        return parse_cookie(f"{self.name}={self.value}").get(self.name, self.value)

    def matches(self, host: str, path: str, secure: bool) -> bool:
        """Would a browser send this cookie to ``host`` for ``path``?"""
        if self.secure and not secure:
            return False
        if host != self.domain and (self.host_only or not host.endswith("." + self.domain)):
            return False
        return path_matches(path, self.path)


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 path-match: ``/docs`` covers ``/docs`` and ``/docs/x``, not ``/docsets``."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def _default_path(request_path: str) -> str:
    """The path a cookie without a Path attribute gets: the request path's directory."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path.rpartition("/")[0]


def _parse_set_cookie(header: str, host: str, request_path: str) -> Cookie | None:
    pair, _, attributes = header.partition(";")
    name, equals, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not equals or not name:
        return None
    cookie = Cookie(name=name, value=value, domain=host, path=_default_path(request_path))
    max_age: int | None = None
    for attribute in attributes.split(";"):
        key, _, arg = attribute.partition("=")
        key, arg = key.strip().lower(), arg.strip()
        if key == "max-age":
            try:
                max_age = int(arg)
            except ValueError:
                continue
        elif key == "expires" and max_age is None:
            when = parse_date(arg)
            if when is not None:
                cookie.expires = when.timestamp()
        elif key == "domain" and arg:
            domain = arg.lstrip(".").lower()
            if host != domain and not host.endswith("." + domain):
                return None  # a server may not set cookies for another site
            cookie.domain, cookie.host_only = domain, False
        elif key == "path" and arg.startswith("/"):
            cookie.path = arg
        elif key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = arg or None
    if max_age is not None:
        cookie.expires = time.time() + max_age
    return cookie


def _trustworthy(host: str) -> bool:
    """True for the hosts browsers count as secure over plain http (loopback,
    ``localhost``), so that ``Secure`` cookies go to them too."""
    return host in ("localhost", "127.0.0.1", "[::1]", "::1") or host.endswith(".localhost")


class CookieJar:
    """Cookies set by responses, sent back on later requests that match them.

    Expiry (``Max-Age`` before ``Expires``), ``Path``, ``Domain`` and
    ``Secure`` are honoured as a browser would: ``Secure`` cookies go over
    https, and over http to ``localhost`` and loopback addresses (the test
    client's default host), which browsers treat as secure contexts.
    """

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def store(self, cookie: Cookie) -> None:
        """Keep ``cookie``, replacing one of the same name, domain and path;
        an expired cookie removes that one instead."""
        key = (cookie.domain, cookie.path, cookie.name)
        if cookie.expires is not None and cookie.expires <= time.time():
            self._cookies.pop(key, None)
        else:
            self._cookies[key] = cookie

    def update_from_headers(self, headers: Headers, request_host: str | None, request_path: str = "/") -> None:
        """Store every Set-Cookie in ``headers``, answered to ``request_host``
        (``localhost`` when None) for ``request_path``."""
        host = (request_host or "localhost").partition(":")[0].lower()
        for header in headers.getlist("Set-Cookie"):
            cookie = _parse_set_cookie(header, host, request_path)
            if cookie is not None:
                self.store(cookie)

    def header_for(self, host: str, path: str, secure: bool = False) -> str | None:
        """The Cookie header to send to ``host`` for ``path``, or None; longest paths first."""
        if host.startswith("["):
            host = host.partition("]")[0] + "]"
        else:
            host = host.partition(":")[0]
        host = host.lower()
        secure = secure or _trustworthy(host)
        now = time.time()
        matching = []
        for key, cookie in list(self._cookies.items()):
            if cookie.expires is not None and cookie.expires <= now:
                del self._cookies[key]
            elif cookie.matches(host, path, secure):
                matching.append(cookie)
        matching.sort(key=lambda cookie: len(cookie.path), reverse=True)
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in matching) or None

    def find(self, name: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The unexpired cookie ``name`` stored for ``domain`` and ``path``."""
        cookie = self._cookies.get((domain, path, name))
        if cookie is not None and cookie.expires is not None and cookie.expires <= time.time():
            del self._cookies[(domain, path, name)]
            return None
        return cookie

    def get(self, name: str, domain: str = "localhost", path: str = "/") -> str | None:
        """The decoded value of cookie ``name``, or None."""
        cookie = self.find(name, domain, path)
        return cookie.decoded_value if cookie is not None else None

    def clear(self) -> None:
        self._cookies.clear()

    def __iter__(self) -> Iterator[Cookie]:
        return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        return len(self._cookies)
