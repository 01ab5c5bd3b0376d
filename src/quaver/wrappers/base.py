"""What requests and websockets share: an ASGI scope read lazily."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import parse_options_header
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.sansio.utils import get_content_length, get_host
from werkzeug.utils import cached_property

_NAMES: dict[bytes, str] = {}


def _header_name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        name = raw.decode("latin-1").title()
        if len(_NAMES) < 512:  # common names only; a flood of odd names can't grow it
            _NAMES[raw] = name
    return name


def headers_from_scope(raw: Any) -> Headers:
    """Build Werkzeug Headers from the ASGI list of byte pairs."""
    headers = Headers()
    headers._list = [(_header_name(key), value.decode("latin-1")) for key, value in raw]
    return headers


def _under_root(path: str, root_path: str) -> str:
    """``path`` with ``root_path`` taken off its front. A path not under the
    root (or the root itself) gives "/ ", which no route matches: a 404, as
    in Quart."""
    if path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] == "/":
        return path[len(root_path) :]
    return " "


class BaseRequestWebsocket(SansIORequest):
    """A request or websocket built from an ASGI scope.

    Nothing is parsed until asked: headers, the remote address and the
    server address come out of the scope on first use.
    """

    #: The JSON implementation used by ``get_json``; the app sets its provider.
    json_module: Any = json
    #: Set by the app: the matched rule, its arguments, or the routing error.
    url_rule: Any = None
    view_args: dict[str, Any] | None = None
    routing_exception: Exception | None = None
    #: The app's config, for limits such as MAX_CONTENT_LENGTH.
    _config: Any = None
    #: (mimetype, parameters) once the Content-Type header has been read.
    _parsed_content_type: Any = None

    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        query_string: bytes,
        headers: Headers,
        root_path: str,
        http_version: str,
        scope: dict[str, Any],
    ) -> None:
        client = scope.get("client")
        super().__init__(
            method,
            scheme,
            scope.get("server"),
            root_path,
            path,
            query_string,
            headers,
            client[0] if client else None,
        )
        self.http_version = http_version
        self.scope = scope

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> Any:
        """Make an instance from an ASGI scope, deferring all parsing."""
        self = cls.__new__(cls)
        self.scope = scope
        self.method = scope.get("method", "GET")
        self.scheme = scope.get("scheme", "http")
        self.http_version = scope.get("http_version", "1.1")
        root_path = scope.get("root_path", "")
        path = scope["path"]
        if path[:1] != "/" and "://" in path:  # an absolute-form target: its path, as in Quart
            path = urlsplit(path).path
        if root_path:
            root_path = root_path.rstrip("/")
            if root_path:
                path = _under_root(path, root_path)
        self.root_path = root_path
        self.path = path if path[:1] == "/" and path[1:2] != "/" else "/" + path.lstrip("/")
        self.query_string = scope.get("query_string", b"")
        return self

    @cached_property
    def headers(self) -> Headers:
        headers = headers_from_scope(self.scope.get("headers", ()))
        if self.http_version == "1.0" and "Host" not in headers:
            # HTTP/1.0 needs no Host: as Quart, SERVER_NAME stands in for it
            # (here the server's address without one, which Werkzeug gives the host).
            name = self._config["SERVER_NAME"] if self._config is not None else None
            headers["Host"] = name or get_host(self.scheme, None, self.server)
        return headers

    def _header(self, name: str) -> str | None:
        """The first value of header ``name``, or None, without building Headers.

        Werkzeug's ``Headers.get`` raises and catches an exception for every
        missing name; the hot path asks for several headers that are usually
        absent (Transfer-Encoding, ...), so it reads the scope instead.
        """
        headers: Headers | None = self.__dict__.get("headers")
        wanted = name.lower()
        key: bytes
        value: bytes
        if headers is None:
            raw = wanted.encode("latin-1")
            for key, value in self.scope.get("headers", ()):
                if key == raw or key.lower() == raw:
                    return value.decode("latin-1")
            return None
        for header, text in headers.items():
            if header.lower() == wanted:
                return text
        return None

    def _scan_entity_headers(self) -> None:
        """Read Content-Type, Content-Length and Transfer-Encoding in one pass."""
        content_type = length = encoding = None
        headers = self.__dict__.get("headers")
        if headers is None:
            for key, value in self.scope.get("headers", ()):
                if key == b"content-type":
                    content_type = value.decode("latin-1")
                elif key == b"content-length":
                    length = value.decode("latin-1")
                elif key == b"transfer-encoding":
                    encoding = value.decode("latin-1")
        else:
            content_type = self._header("Content-Type")
            length = self._header("Content-Length")
            encoding = self._header("Transfer-Encoding")
        content_type = content_type or ""
        if ";" in content_type:
            self._parsed_content_type = parse_options_header(content_type)
        else:
            self._parsed_content_type = (content_type.strip(), {})
        if encoding is not None or length is None:
            self.__dict__["content_length"] = get_content_length(length, encoding)
        elif length.isdigit() and length.isascii():
            self.__dict__["content_length"] = int(length)
        else:  # signs, spaces, junk: Werkzeug's rules
            self.__dict__["content_length"] = get_content_length(length, None)

    @cached_property
    def content_length(self) -> int | None:
        self._scan_entity_headers()
        length: int | None = self.__dict__["content_length"]
        return length

    def _parse_content_type(self) -> None:
        if self._parsed_content_type is None:
            self._scan_entity_headers()

    @property
    def is_json(self) -> bool:
        """True for ``application/json`` and ``application/*+json`` bodies."""
        if self._parsed_content_type is None:
            self._scan_entity_headers()
        mimetype: str = self._parsed_content_type[0].lower()
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string's arguments. Bytes that are not UTF-8 stay
        percent-encoded (Werkzeug's own decoding refuses them: a 500)."""
        return self.parameter_storage_class(
            parse_qsl(
                self.query_string.decode("utf-8", "werkzeug.url_quote"),
                keep_blank_values=True,
                errors="werkzeug.url_quote",
            )
        )

    @property
    def full_path(self) -> str:
        """The path and query string, the query's bytes that are not UTF-8 percent-encoded."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'werkzeug.url_quote')}"

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        server = self.scope.get("server")
        return tuple(server) if server else None

    @cached_property
    def remote_addr(self) -> str:
        """The client's address, or ``"<local>"`` when the server gives none
        (a Unix socket, the test client), as in Quart."""
        client = self.scope.get("client")
        return client[0] if client else "<local>"

    @property
    def script_root(self) -> str:
        """The prefix the app is mounted under (``root_path``), without a trailing slash."""
        return self.root_path

    @property
    def url_root(self) -> str:
        """Flask's name for ``root_url``: scheme, host and root path, ending in a slash."""
        return self.root_url

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or None."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint whose view handles this request."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """This request's blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    @property
    def extensions(self) -> dict[str, Any]:
        """The ASGI extensions the server offers for this connection."""
        return self.scope.get("extensions") or {}
