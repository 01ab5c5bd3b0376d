"""Functions views call: url_for, abort, redirect, make_response, files,
flashing, and keeping the request context in a generator."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from functools import wraps
from typing import Any, NoReturn

from werkzeug.exceptions import NotFound
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.security import safe_join
from werkzeug.utils import redirect as _werkzeug_redirect

from .globals import _cv_app, _cv_request, _cv_websocket, current_app, request_ctx
from .json import jsonify
from .signals import message_flashed

__all__ = (
    "abort",
    "flash",
    "get_flashed_messages",
    "jsonify",
    "make_push_promise",
    "make_response",
    "redirect",
    "send_file",
    "send_from_directory",
    "stream_with_context",
    "url_for",
)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """Build the URL of ``endpoint``; see ``Quaver.url_for``."""
    return current_app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def abort(code: int | Any, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop the request with the HTTP error ``code`` (or with a response)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _werkzeug_abort(code, *args, **kwargs)


def redirect(location: str, code: int = 302, Response: type | None = None) -> Any:
    """A response redirecting to ``location``."""
    ctx = _cv_app.get(None)
    if ctx is not None and Response is None:
        return ctx.app.redirect(location, code=code)
    if Response is None:
        from .wrappers import Response as _Response

        Response = _Response
    return _werkzeug_redirect(location, code=code, Response=Response)


async def make_response(*args: Any) -> Any:
    """Turn view-style return values into a response, to add headers to it."""
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return await current_app.make_response(args)


async def make_push_promise(path: str) -> None:
    """Ask the server to push ``path`` to the client (HTTP/2), where it can."""
    await request_ctx.request_websocket.send_push_promise(path)


def stream_with_context(func: Any) -> Any:
    """Keep the request context inside a streaming generator.

    Use as a decorator on a generator function, or call it on a generator.
    """
    if not callable(func) and hasattr(func, "__aiter__"):
        return _keep_context(lambda: func)()

    @wraps(func)
    def decorator(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return _keep_context(lambda: func(*args, **kwargs))()

    return decorator


def _keep_context(make_gen: Callable[[], Any]) -> Callable[[], AsyncIterator[Any]]:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("'stream_with_context' can only be used when a request context is active.")
    copied = type(ctx)(ctx.app, ctx.request_websocket, ctx._session)
    copied.flashes = ctx.flashes

    async def generator() -> AsyncIterator[Any]:
        async with copied:
            gen = make_gen()
            if hasattr(gen, "__aiter__"):
                async for item in gen:
                    yield item
            else:
                from .utils import run_sync_iterable

                async for item in run_sync_iterable(gen):
                    yield item

    return generator


def flash(message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next request to show."""
    ctx = _cv_request.get(None) or _cv_websocket.get(None)
    session = ctx.session
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if message_flashed.receivers:
        message_flashed.send(ctx.app, message=message, category=category)


def get_flashed_messages(with_categories: bool = False, category_filter: Any = ()) -> list[Any]:
    """Pop the flashed messages from the session (once per request)."""
    ctx = _cv_request.get(None) or _cv_websocket.get(None)
    flashes = ctx.flashes
    if flashes is None:
        flashes = ctx.flashes = ctx.session.pop("_flashes") if "_flashes" in ctx.session else []
    if category_filter:
        flashes = [item for item in flashes if item[0] in category_filter]
    if not with_categories:
        return [item[1] for item in flashes]
    return flashes


async def send_file(
    path_or_file: Any,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
) -> Any:
    """A response with a file's content: a path, a binary file object or BytesIO."""
    from werkzeug.datastructures import Headers
    from werkzeug.urls import quote

    app = current_app._get_current_object()
    request = request_ctx.request_websocket
    path: str | None = None
    size: int | None = None
    mtime: float | None = None
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.fspath(path_or_file)
        if not os.path.isabs(path):
            path = os.path.join(app.root_path, path)
        stat = await asyncio.to_thread(os.stat, path)
        size, mtime = stat.st_size, stat.st_mtime
        if download_name is None:
            download_name = os.path.basename(path)
    else:
        file = path_or_file
        if download_name is None:
            name = getattr(file, "name", None)
            if isinstance(name, str):
                download_name = os.path.basename(name)
    if mimetype is None:
        if download_name is None:
            raise TypeError("Unable to detect the MIME type because a file name is not available.")
        mimetype = mimetypes.guess_type(download_name)[0] or "application/octet-stream"

    headers = Headers()
    if download_name is not None:
        try:
            download_name.encode("ascii")
            simple = {"filename": download_name}
        except UnicodeEncodeError:
            simple = {
                "filename": download_name.encode("ascii", "ignore").decode() or "file",
                "filename*": f"UTF-8''{quote(download_name, safe='')}",
            }
        if as_attachment or "filename*" in simple:
            headers.set("Content-Disposition", "attachment" if as_attachment else "inline", **simple)

    if path is not None:
        data = await asyncio.to_thread(_read_file, path)
    else:
        data = await asyncio.to_thread(path_or_file.read)
    response = app.response_class(data, mimetype=mimetype, headers=headers)
    if last_modified is not None:
        response.last_modified = last_modified
    elif mtime is not None:
        response.last_modified = mtime
    if callable(max_age):
        max_age = max_age(path)
    if max_age is not None:
        if max_age > 0:
            response.cache_control.no_cache = None
            response.cache_control.public = True
        response.cache_control.max_age = max_age
        response.expires = int(time.time() + max_age)
    else:
        response.cache_control.no_cache = True
    if isinstance(etag, str):
        response.set_etag(etag)
    elif etag and path is not None:
        response.set_etag(f"{mtime}-{size}-{hash(path) & 0xFFFFFFFF}")
    elif etag:
        await response.add_etag()
    if conditional:
        response = await response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return response


def _read_file(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


async def send_from_directory(directory: str | os.PathLike[str], path: str, **kwargs: Any) -> Any:
    """Serve ``path`` from inside ``directory``; anything outside it is 404."""
    directory = os.fspath(directory)
    if not os.path.isabs(directory):
        directory = os.path.join(current_app.root_path, directory)
    joined = safe_join(directory, path)
    if joined is None:
        raise NotFound()
    real_dir = os.path.realpath(directory)
    real = os.path.realpath(joined)
    if os.path.commonpath([real_dir, real]) != real_dir or not os.path.isfile(real):
        raise NotFound()
    return await send_file(joined, **kwargs)
