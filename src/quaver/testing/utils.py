"""Building ASGI scopes and bodies the way a client would send them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import Authorization, Headers, MultiDict
from werkzeug.test import stream_encode_multipart

sentinel = object()


def make_test_headers_path_and_query_string(
    app: Any,
    path: str,
    headers: Any = None,
    query_string: Any = None,
    auth: Authorization | tuple[str, str] | None = None,
    subdomain: str | None = None,
) -> tuple[Headers, str, bytes]:
    """Split ``path`` from its query string and add Host, User-Agent and auth headers."""
    headers = Headers(headers) if headers is not None else Headers()
    if auth is not None:
        if isinstance(auth, tuple):
            auth = Authorization("basic", {"username": auth[0], "password": auth[1]})
        headers.setdefault("Authorization", auth.to_header())
    server_name = app.config["SERVER_NAME"] or "localhost"
    if subdomain:
        server_name = f"{subdomain}.{server_name}"
    headers.setdefault("Host", server_name)
    headers.setdefault("User-Agent", "Quaver")
    if query_string is None:
        path, _, raw = path.partition("?")
        query_bytes = raw.encode("latin-1")
    elif isinstance(query_string, (bytes, str)):
        query_bytes = query_string.encode("latin-1") if isinstance(query_string, str) else query_string
    else:
        items = query_string.items(multi=True) if isinstance(query_string, MultiDict) else query_string.items()
        query_bytes = urlencode(list(items), doseq=True).encode("ascii")
    return headers, path, query_bytes


def make_test_body_with_headers(
    *,
    data: str | bytes | None = None,
    form: Any = None,
    files: Any = None,
    json: Any = sentinel,
    app: Any = None,
) -> tuple[bytes, Headers]:
    """Encode one of ``data``, ``form`` (+ ``files``) or ``json`` as a body with its headers."""
    given = [name for name, value in (("data", data), ("form", form), ("files", files)) if value is not None]
    if json is not sentinel:
        given.append("json")
    if len(given) > 1 and set(given) != {"form", "files"}:
        raise ValueError("Send only one of data, form (with files) or json")
    headers = Headers()
    if isinstance(data, str):
        return data.encode(), headers
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), headers
    if isinstance(data, dict):
        form, data = data, None
    if json is not sentinel:
        if app is not None:
            text = app.json.dumps(json)
        else:
            import json as _json

            text = _json.dumps(json)
        headers["Content-Type"] = "application/json"
        return text.encode(), headers
    if files:
        values = MultiDict(form or {})
        for key, value in (files.items(multi=True) if isinstance(files, MultiDict) else files.items()):
            values.add(key, value)
        stream, length, boundary = stream_encode_multipart(values)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return stream.read(), headers
    if form is not None:
        items = form.items(multi=True) if isinstance(form, MultiDict) else form.items()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(list(items), doseq=True).encode(), headers
    return b"", headers


def make_test_scope(
    type_: str,
    path: str,
    method: str,
    headers: Headers,
    query_string: bytes,
    scheme: str = "http",
    root_path: str = "",
    http_version: str = "1.1",
    scope_base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ASGI scope as a server would make it."""
    scope: dict[str, Any] = {
        "type": type_,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "scheme": scheme,
        "path": root_path + path if root_path and not path.startswith(root_path) else path,
        "raw_path": path.encode("ascii", "backslashreplace"),
        "query_string": query_string,
        "root_path": root_path,
        "headers": [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()],
        "client": ("127.0.0.1", 12345),
        "server": ("localhost", 443 if scheme in ("https", "wss") else 80),
        "extensions": {},
        "state": {},
    }
    if type_ == "http":
        scope["method"] = method
    else:
        scope["subprotocols"] = [
            value.strip() for value in headers.get("Sec-WebSocket-Protocol", "").split(",") if value.strip()
        ]
        scope["extensions"] = {"websocket.http.response": {}}
    if scope_base:
        scope.update(scope_base)
    return scope
