"""Building ASGI scopes and bodies the way a client would send them."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote, unquote, urlencode

from werkzeug.datastructures import Authorization, FileStorage, Headers, MultiDict
from werkzeug.test import stream_encode_multipart

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
    pairs = []
    for key, value in mapping.items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


def make_test_headers_path_and_query_string(
    app: Any,
    path: str,
    headers: Any = None,
    query_string: Any = None,
    auth: Authorization | tuple[str, str] | None = None,
    subdomain: str | None = None,
) -> tuple[Headers, str, bytes]:
    """Split ``path`` from its query string and add Host, User-Agent and auth headers.

    ``query_string`` is a dict, a MultiDict, or the raw string/bytes; giving it
    while ``path`` has a ``?`` part is a ValueError. The returned path is as
    typed (percent-escapes kept); :func:`make_test_scope` decodes it.
    """
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


def make_test_body_with_headers(
    *,
    data: Any = None,
    form: Any = None,
    files: Any = None,
    json: Any = sentinel,
    app: Any = None,
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
            import json as json_module

            text = json_module.dumps(json)
        headers["Content-Type"] = "application/json"
        return text.encode(), headers
    fields: list[tuple[str, Any]] = []
    uploads: list[tuple[str, FileStorage]] = []
    for key, value in _items(form or {}):
        upload = _as_file(key, value)
        if upload is None:
            fields.append((key, value))
        else:
            uploads.append((key, upload))
    for key, value in _items(files or {}):
        upload = _as_file(key, value)
        if upload is None:
            raise TypeError(f"File {key!r} must be a FileStorage, a file or a (file, filename) tuple")
        uploads.append((key, upload))
    if uploads:
        values = MultiDict(
            [(_header_quoted(key), value if isinstance(value, str) else str(value)) for key, value in fields]
        )
        for key, upload in uploads:
            if upload.filename and _header_quoted(upload.filename) != upload.filename:
                upload = FileStorage(
                    stream=upload.stream, filename=_header_quoted(upload.filename), name=upload.name,
                    content_type=upload.content_type,
                )
            values.add(_header_quoted(key), upload)
        stream, _length, boundary = stream_encode_multipart(values, use_tempfile=False)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return stream.getvalue(), headers  # type: ignore[attr-defined]
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
) -> dict[str, Any]:
    """An ASGI scope as a server would make it: ``path`` percent-decoded,
    ``raw_path`` the bytes on the wire."""
    full_path = root_path + path if root_path and not path.startswith(root_path) else path
    scope: dict[str, Any] = {
        "type": type_,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "scheme": scheme,
        "path": unquote(full_path),
        "raw_path": quote(full_path, safe=_PATH_SAFE).encode("ascii"),
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
