"""Building ASGI scopes and bodies the way a client would send them."""

from __future__ import annotations

import json as json_module
import mimetypes
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

from werkzeug.datastructures import Authorization, FileStorage, Headers, MultiDict

if TYPE_CHECKING:
    from ..app import Quaver

sentinel = object()


async def no_op_push(path: str, headers: Headers) -> None:
    """A server-push sender that drops the promise: for requests built by hand in tests."""

# Characters left as they are when a test path is put on the wire as raw_path.
_PATH_SAFE = "/:@!$&'()*+,;=%~"


def _items(mapping: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs of a dict, a MultiDict or a list of pairs, lists in a dict spread out."""
    if isinstance(mapping, MultiDict):
        return list(mapping.items(multi=True))
    if not hasattr(mapping, "items"):
        return [(key, value) for key, value in mapping]
    pairs: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


def make_test_headers_path_and_query_string(
    app: Quaver,
    path: str,
    headers: Any = None,
    query_string: Any = None,
    auth: Authorization | tuple[str, str] | None = None,
    subdomain: str | None = None,
) -> tuple[Headers, str, bytes]:
    """Split ``path`` from its query string and add Host, User-Agent and auth headers.

    ``query_string`` is a dict, a MultiDict, or the raw string/bytes; giving it
    while ``path`` has a ``?`` part is a ValueError. The returned path is
    percent-decoded, as ASGI's ``path`` is (``"/a%20b"`` gives ``"/a b"``).
    """
    headers, path, query_bytes = _headers_path_and_query(app, path, headers, query_string, auth, subdomain)
    return headers, unquote(path), query_bytes


def _headers_path_and_query(
    app: Quaver,
    path: str,
    headers: Any,
    query_string: Any,
    auth: Authorization | tuple[str, str] | None,
    subdomain: str | None,
) -> tuple[Headers, str, bytes]:
    """As :func:`make_test_headers_path_and_query_string`, the path left as typed
    (its escapes kept), so the client can send ``%2F`` in ``raw_path``."""
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
        query_bytes = _query_bytes(raw)
    elif "?" in path:
        raise ValueError("Give the query string in the path or as 'query_string', not both")
    elif isinstance(query_string, str):
        query_bytes = _query_bytes(query_string)
    elif isinstance(query_string, bytes):
        query_bytes = query_string
    else:
        query_bytes = urlencode(_items(query_string)).encode("ascii")
    return headers, path, query_bytes


# ASCII stays as typed in a query string; the rest is percent-encoded as UTF-8, as browsers send it.
_ASCII = "".join(map(chr, range(128)))


def _query_bytes(query: str) -> bytes:
    """A query string typed in a test as the bytes a client puts on the wire."""
    if query.isascii():
        return query.encode("ascii")
    return quote(query, safe=_ASCII).encode("ascii")


def _as_file(key: str, value: Any) -> FileStorage | None:
    """``value`` as a FileStorage if it is a file to upload, else None.

    Files are given as Werkzeug accepts them: a FileStorage, an open file
    (or any object with ``read``), or a tuple ``(file, filename)`` or
    ``(file, filename, content_type)``.
    """
    if isinstance(value, FileStorage):
        return value
    if isinstance(value, tuple) and value and hasattr(value[0], "read"):
        stream, filename, content_type = (*value, None, None)[:3]
    elif hasattr(value, "read"):
        stream, filename, content_type = value, getattr(value, "name", None), None
        if not isinstance(filename, str):
            filename = None
    else:
        return None
    if filename is not None:
        filename = filename.replace("\\", "/").rpartition("/")[2]
    if content_type is None:
        content_type = (filename and mimetypes.guess_type(filename)[0]) or "application/octet-stream"
    return FileStorage(stream=stream, filename=filename, name=key, content_type=content_type)


def _header_quoted(text: str) -> str:
    """A name or filename as browsers write it in a multipart part's header
    (HTML's rule): quote, CR and LF percent-encoded, so the header stays whole."""
    if '"' in text or "\r" in text or "\n" in text:
        return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return text


_BOUNDARY = "----QuaverBoundary"


def _encode_multipart(parts: list[tuple[str, Any]]) -> tuple[bytes, str]:
    """``parts`` (name, str or FileStorage) as a multipart/form-data body, and its boundary.

    The boundary is ``----QuaverBoundary``, as Quart's, so a test can spell out
    the body it expects; where a part's content holds that marker a random
    boundary is used instead, so every body sent stays parseable.
    """
    encoded: list[tuple[bytes, bytes]] = []
    for key, value in parts:
        head = f'Content-Disposition: form-data; name="{_header_quoted(key)}"'
        if isinstance(value, FileStorage):
            if value.filename is not None:
                head += f'; filename="{_header_quoted(value.filename)}"'
            for name, header in value.headers.items():
                if name.lower() != "content-disposition":
                    head += f"\r\n{name}: {header}"
            data = value.stream.read()
            if isinstance(data, str):
                data = data.encode()
        else:
            data = (value if isinstance(value, str) else str(value)).encode()
        encoded.append((head.encode(), data))
    boundary = _BOUNDARY
    while any(boundary.encode() in head or boundary.encode() in data for head, data in encoded):
        boundary = f"----QuaverBoundary{secrets.token_hex(8)}"
    marker = b"\r\n--" + boundary.encode()
    body = b"".join(marker + b"\r\n" + head + b"\r\n\r\n" + data for head, data in encoded)
    return body + marker + b"--\r\n", boundary


def make_test_body_with_headers(
    *,
    data: Any = None,
    form: Any = None,
    files: Any = None,
    json: Any = sentinel,
    app: Quaver | None = None,
) -> tuple[bytes, Headers]:
    """Encode one of ``data``, ``form`` (with ``files``) or ``json`` as a body with its headers.

    ``data`` as str or bytes is sent as it is; as a dict it is a form, and
    any files among its values make it multipart, as with Werkzeug.
    """
    given = [name for name, value in (("data", data), ("form", form), ("files", files)) if value is not None]
    if json is not sentinel:
        given.append("json")
    if len(given) > 1 and set(given) != {"form", "files"}:
        raise ValueError("Send only one of data, form (with files) or json")
    headers = Headers()
    if isinstance(data, str):
        return data.encode(), headers
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), headers
    if data is not None:
        form = data
    if json is not sentinel:
        if app is not None:
            text = app.json.dumps(json)
        else:
            text = json_module.dumps(json)
        headers["Content-Type"] = "application/json"
        return text.encode(), headers
    fields: list[tuple[str, Any]] = []
    # Files given as ``files`` go first, then ``form`` (or ``data``) in its order, as in Quart.
    parts: list[tuple[str, Any]] = []
    for key, value in _items(files or {}):
        upload = _as_file(key, value)
        if upload is None:
            raise TypeError(f"File {key!r} must be a FileStorage, a file or a (file, filename) tuple")
        parts.append((key, upload))
    uploads = bool(parts)
    for key, value in _items(form or {}):
        upload = _as_file(key, value)
        if upload is None:
            fields.append((key, value))
            parts.append((key, value))
        else:
            uploads = True
            parts.append((key, upload))
    if uploads:
        body, boundary = _encode_multipart(parts)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return body, headers
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(fields).encode(), headers
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
    *,
    _preserve_context: bool = False,
) -> dict[str, Any]:
    """An ASGI scope for ``path`` (percent-decoded, as ASGI's ``path``), with the
    keys Quart's gives: ``raw_path`` is the path percent-encoded as UTF-8.
    ``scope_base`` is laid over the result. As in ASGI (and Quart) ``path``
    is the whole path, ``root_path`` included: ``("/app/page", root_path="/app")``
    is the app's ``/page``; a path not under ``root_path`` is a 404."""
    full_path = path
    scope: dict[str, Any] = {
        "type": type_,
        "http_version": http_version,
        "asgi": {"spec_version": "2.1"},
        "method": method,
        "scheme": scheme,
        "path": full_path,
        "raw_path": quote(full_path, safe=_PATH_SAFE).encode("ascii"),
        "query_string": query_string,
        "root_path": root_path,
        "headers": [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()],
        "extensions": {},
        "_quaver._preserve_context": _preserve_context,
    }
    if type_ == "http":
        if http_version in ("2", "3"):  # as servers do: push exists from HTTP/2 on
            scope["extensions"] = {"http.response.push": {}}
    else:
        scope["subprotocols"] = [
            value.strip() for value in headers.get("Sec-WebSocket-Protocol", "").split(",") if value.strip()
        ]
        scope["extensions"] = {"websocket.http.response": {}}
    if scope_base:
        scope.update(scope_base)
    return scope


def _client_scope(
    type_: str,
    path: str,
    method: str,
    headers: Headers,
    query_string: bytes,
    scheme: str,
    root_path: str,
    http_version: str,
    scope_base: dict[str, Any] | None,
) -> dict[str, Any]:
    """The scope the test client sends for ``path`` as typed: ``raw_path`` keeps
    its escapes (``%2F`` stays one), server and state are filled in as a server
    fills them, unless ``scope_base`` gives them. No client address, as on Quart's
    client (``request.remote_addr`` is ``"<local>"`` unless ``scope_base`` gives ``client``)."""
    scope = make_test_scope(type_, unquote(path), method, headers, query_string, scheme, root_path, http_version)
    if not (scope_base and "raw_path" in scope_base):
        scope["raw_path"] = quote(path, safe=_PATH_SAFE).encode("ascii")
    scope["asgi"] = {"version": "3.0", "spec_version": "2.4"}
    scope["server"] = ("localhost", 443 if scheme in ("https", "wss") else 80)
    scope["state"] = {}
    if type_ == "websocket":
        del scope["method"]  # not in a websocket scope a server sends
    if scope_base:
        scope.update(scope_base)
    return scope
