"""ASGI middleware for deployment: ``ProxyFix``, for apps behind reverse proxies.

Opt in by wrapping the ASGI app, trusting as many proxies as really stand
in front of it::

    from quaver.middleware import ProxyFix
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1)
"""

from __future__ import annotations

from typing import Any

ASGIApp = Any


class ProxyFix:
    """Take the client's address, scheme, host, port and path prefix from the
    ``X-Forwarded-*`` headers set by trusted proxies.

    Each argument is the number of proxies trusted to set that header: the
    value used is the one the outermost trusted proxy appended (the
    ``n``-th from the right). 0 ignores the header, and so does a header
    with fewer values than the trusted count, since then a client wrote it.
    Trust only as many as there are: a client can send any header it likes.

    - ``x_for``: ``X-Forwarded-For`` → ``request.remote_addr`` (scope ``client``)
    - ``x_proto``: ``X-Forwarded-Proto`` → ``request.scheme`` (``ws``/``wss`` for WebSockets)
    - ``x_host``: ``X-Forwarded-Host`` → the ``Host`` header (``request.host``, external URLs)
    - ``x_port``: ``X-Forwarded-Port`` → the port in the ``Host`` header
    - ``x_prefix``: ``X-Forwarded-Prefix`` → ``request.root_path`` (the app mounted under a path)
    """

    def __init__(
        self, app: ASGIApp, x_for: int = 1, x_proto: int = 1, x_host: int = 0, x_port: int = 0, x_prefix: int = 0
    ) -> None:
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self.fix_scope(scope)
        await self.app(scope, receive, send)

    def fix_scope(self, scope: dict[str, Any]) -> dict[str, Any]:
        """Return a copy of ``scope`` with the trusted forwarded values applied
        (``scope`` itself unchanged, the original kept under ``"proxy_fix.original"``)."""
        forwarded: dict[bytes, list[str]] = {}
        for name, value in scope["headers"]:
            if name.startswith(b"x-forwarded-"):
                forwarded.setdefault(name, []).extend(part.strip() for part in value.decode("latin-1").split(","))
        if not forwarded:
            return scope
        fixed = dict(scope)
        fixed["proxy_fix.original"] = scope

        client = _trusted(forwarded.get(b"x-forwarded-for"), self.x_for)
        if client:
            fixed["client"] = (client, 0)

        proto = _trusted(forwarded.get(b"x-forwarded-proto"), self.x_proto)
        if proto:
            proto = proto.lower()
            if scope["type"] == "websocket":
                proto = {"https": "wss", "http": "ws"}.get(proto, proto)
            fixed["scheme"] = proto

        host = _trusted(forwarded.get(b"x-forwarded-host"), self.x_host)
        port = _trusted(forwarded.get(b"x-forwarded-port"), self.x_port)
        if host or port:
            headers = list(scope["headers"])
            current = next((value.decode("latin-1") for name, value in headers if name == b"host"), "")
            if not host:
                host = current
            if port:
                host = f"{_without_port(host)}:{port}"
            headers = [(name, value) for name, value in headers if name != b"host"]
            headers.append((b"host", host.encode("latin-1")))
            fixed["headers"] = headers
            name = _without_port(host)
            server_port = _port_of(host) or (443 if fixed.get("scheme") in ("https", "wss") else 80)
            fixed["server"] = (name, server_port)

        prefix = _trusted(forwarded.get(b"x-forwarded-prefix"), self.x_prefix)
        if prefix:
            prefix = "/" + prefix.strip("/")
            if prefix != "/":
                fixed["root_path"] = prefix + scope.get("root_path", "")
                fixed["path"] = prefix + scope["path"]
                if "raw_path" in scope and scope["raw_path"] is not None:
                    fixed["raw_path"] = prefix.encode("latin-1") + scope["raw_path"]
        return fixed


def _trusted(values: list[str] | None, trusted: int) -> str | None:
    """The value set by the outermost of ``trusted`` proxies, or None."""
    if not trusted or not values or len(values) < trusted:
        return None
    return values[-trusted] or None


def _without_port(host: str) -> str:
    if host.startswith("["):  # [IPv6]:port
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _port_of(host: str) -> int | None:
    tail = host.rpartition("]")[2] if host.startswith("[") else host
    if tail.count(":") == 1 and tail.rpartition(":")[2].isdigit():
        return int(tail.rpartition(":")[2])
    return None
