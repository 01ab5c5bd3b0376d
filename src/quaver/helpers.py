"""Functions views call: url_for, abort, redirect, make_response, files,
flashing, and keeping the request context in a generator."""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import time
import unicodedata
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from datetime import datetime
from functools import wraps
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, overload
from urllib.parse import quote

from flask.helpers import get_root_path  # noqa: F401  (the app's root_path comes from it)
from flask.sansio.scaffold import find_package as _find_package
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.security import safe_join
from werkzeug.utils import redirect as _werkzeug_redirect

from . import config as _config
from .globals import _cv_app, _cv_request, _cv_websocket, current_app, request_ctx
from .json import jsonify
from .signals import message_flashed
from .utils import run_sync_iterable
from .wrappers.response import FileBody
from .wrappers.response import Response as _ResponseType

if TYPE_CHECKING:
    from .typing import ResponseTypes

_T = TypeVar("_T")
_P = ParamSpec("_P")

__all__ = (
    "abort",
    "flash",
    "get_flashed_messages",
    "jsonify",
    "make_push_promise",
    "send_early_hints",
    "make_response",
    "redirect",
    "send_file",
    "send_from_directory",
    "stream_with_context",
    "url_for",
)

#: The content type of a file whose name says nothing of its type.
DEFAULT_MIMETYPE = "application/octet-stream"

#: Quart's name for ``property`` (once Flask's cached property with a lock).
locked_cached_property = property


def get_debug_flag() -> bool:
    """Whether the ``QUAVER_DEBUG`` environment variable (``QUART_DEBUG``
    under ``quaver.as_quart``) asks for debug mode: set, and not 0/false/no."""
    value = os.environ.get(f"{_config.ENV_PREFIX}_DEBUG")
    return bool(value and value.lower() not in {"0", "false", "no"})


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load the dotenv files: False if ``QUAVER_SKIP_DOTENV``
    (``QUART_SKIP_DOTENV`` under ``quaver.as_quart``) is set to anything but
    0/false/no; ``default`` when it is unset."""
    value = os.environ.get(f"{_config.ENV_PREFIX}_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in {"0", "false", "no"}


def find_package(name: str) -> tuple[Path | None, Path]:
    """Where the package of module ``name`` is installed: its install prefix
    (None unless under ``sys.prefix``) and the folder holding it, as Flask
    finds them for an app's instance folder."""
    prefix, folder = _find_package(name)
    return (Path(prefix) if prefix is not None else None), Path(folder)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable defined by a template, to call from Python:
    ``hello = get_template_attribute("macros.html", "hello"); hello("x")``.

    The template's module is built without async rendering, so macros are
    plain functions returning markup, as in Flask.
    """
    env = current_app.jinja_env
    sync_twin = getattr(env, "sync_twin", None)  # Quaver's environment gives its non-async view
    if sync_twin is not None:
        env = sync_twin()
    return getattr(env.get_template(template_name).module, attribute)


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
    url: str = current_app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )
    return url


def abort(code: int | Any, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop the request with the HTTP error ``code`` (or with a response)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _werkzeug_abort(code, *args, **kwargs)


def redirect(location: str, code: int = 302, Response: type[_ResponseType] | None = None) -> _ResponseType:
    """A response redirecting to ``location``.

    A location with CR or LF in it is a ValueError (a 500, as in Flask): no
    header can be smuggled through it. Other characters a header or a URL
    cannot carry (non-ASCII, spaces, NUL) are percent-encoded when the
    ``Location`` header is sent, as Werkzeug does for Flask.
    """
    ctx = _cv_app.get(None)
    if ctx is not None and Response is None:
        return ctx.app.redirect(location, code=code)
    if Response is None:
        Response = _ResponseType
    # Werkzeug's redirect only calls Response(body, code, mimetype=...) and sets
    # Location, which Quaver's sans-IO Response takes as Werkzeug's does.
    return _werkzeug_redirect(location, code=code, Response=Response)  # type: ignore[arg-type,return-value]


async def make_response(*args: Any) -> ResponseTypes:
    """Turn view-style return values into a response, to add headers to it."""
    if not args:
        empty: _ResponseType = current_app.response_class()
        return empty
    if len(args) == 1:
        args = args[0]
    response: ResponseTypes = await current_app.make_response(args)
    return response


async def make_push_promise(path: str) -> None:
    """Ask the server to push ``path`` to the client (HTTP/2), where it can."""
    await request_ctx.request_websocket.send_push_promise(path)


async def send_early_hints(*links: str) -> bool:
    """Send a ``103 Early Hints`` response carrying ``links`` as ``Link``
    headers (e.g. ``'</app.css>; rel=preload; as=style'``), before the view
    returns its response. Returns True if the server took it, False where
    the connection cannot carry it (HTTP/1.1, or a server without the ASGI
    ``http.response.early_hint`` extension)."""
    sender = request_ctx.request.__dict__.get("_send_early_hints")
    if sender is None or not links:
        return False
    await sender(list(links))
    return True


@overload
def stream_with_context(generator_or_function: AsyncIterable[_T] | Iterable[_T]) -> AsyncIterator[_T]: ...
@overload
def stream_with_context(
    generator_or_function: Callable[_P, AsyncIterable[_T]] | Callable[_P, Iterable[_T]],
) -> Callable[_P, AsyncIterator[_T]]: ...
def stream_with_context(generator_or_function: Any) -> Any:
    """Keep the request context inside a streamed body.

    Call it on a generator (sync or async), or use it as a decorator on a
    generator function: the request context in force at that moment is
    pushed again around the generator while the response streams, so
    ``request`` and ``session`` work in it. Returns an async generator (or a
    function returning one). Closing it (the client left) closes the
    generator too.
    """
    if hasattr(generator_or_function, "__aiter__") or hasattr(generator_or_function, "__iter__"):
        return _keep_context(lambda: generator_or_function)()
    function = generator_or_function

    @wraps(function)
    def decorator(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return _keep_context(lambda: function(*args, **kwargs))()

    return decorator


def _keep_context(make_iterable: Callable[[], Any]) -> Callable[[], AsyncIterator[Any]]:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("'stream_with_context' can only be used when a request context is active.")
    copied = type(ctx)(ctx.app, ctx.request_websocket, ctx._session)
    copied.flashes = ctx.flashes

    async def generator() -> AsyncIterator[Any]:
        async with copied:
            iterable = make_iterable()
            if hasattr(iterable, "__aiter__"):
                iterator = iterable.__aiter__()
                close = getattr(iterator, "aclose", None)
            else:
                iterator = run_sync_iterable(iterable)  # a sync generator may block: threads
                close = iterator.aclose
            try:
                async for item in iterator:
                    yield item
            finally:
                if close is not None:
                    await close()

    return generator


async def flash(message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next request to show:
    ``await flash("Saved.")``, or ``await flash("No such user.", "error")``."""
    ctx = _flash_context("flash")
    session = ctx.session
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if message_flashed.receivers:
        app = ctx.app
        await message_flashed.send_async(app, _sync_wrapper=app.ensure_async, message=message, category=category)


def get_flashed_messages(with_categories: bool = False, category_filter: Any = ()) -> list[Any]:
    """The messages flashed so far, taken out of the session: the same list
    for every call within one request. ``with_categories`` gives
    ``(category, message)`` pairs; ``category_filter`` keeps only those
    categories."""
    ctx = _flash_context("get_flashed_messages")
    flashes = ctx.flashes
    if flashes is None:
        session = ctx.session
        flashes = ctx.flashes = session.pop("_flashes") if "_flashes" in session else []
    if category_filter:
        flashes = [item for item in flashes if item[0] in category_filter]
    if not with_categories:
        return [item[1] for item in flashes]
    return list(flashes)


def _flash_context(name: str) -> Any:
    ctx = _cv_request.get(None) or _cv_websocket.get(None)
    if ctx is None:
        raise RuntimeError(f"'{name}' needs the session, so it works only inside a request or websocket.")
    return ctx


async def send_file(
    path_or_file: Any,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
    *,
    attachment_filename: str | None = None,
    add_etags: bool | None = None,
    cache_timeout: int | None = None,
) -> _ResponseType:
    """A response with a file's content, read in chunks as it is sent.

    ``path_or_file`` is a path (relative paths start at the app's
    ``root_path``), a binary file object or a ``BytesIO``; a file object is
    read from its current position and closed once sent. ``mimetype`` is
    guessed from ``download_name`` (the file's name by default);
    ``as_attachment`` asks the browser to save the file rather than show it.
    With ``conditional`` the request's ``If-None-Match``/``If-Modified-Since``
    can get 304 and a ``Range`` 206 (416 when it can't be satisfied).
    ``etag`` is True (made from the file's path, size and time; paths
    only), False, or the tag to send. ``max_age`` (seconds, or a function of
    the path) defaults to the app's ``get_send_file_max_age``
    (SEND_FILE_MAX_AGE_DEFAULT); None there means ``no-cache``. With
    USE_X_SENDFILE a file given by path is not read: the response has an
    empty body and an ``X-Sendfile`` header for the front server.

    It needs an app context only: outside a request nothing is conditional.
    Quart's names ``attachment_filename``, ``add_etags`` and
    ``cache_timeout`` are taken for ``download_name``, ``etag`` and
    ``max_age``.
    """
    if attachment_filename is not None and download_name is None:
        download_name = attachment_filename
    if add_etags is not None:
        etag = etag if isinstance(etag, str) else add_etags
    if cache_timeout is not None and max_age is None:
        max_age = cache_timeout
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.fspath(path_or_file)
        if not os.path.isabs(path):
            path = os.path.join(app.root_path, path)
        stat = await asyncio.get_running_loop().run_in_executor(None, os.stat, path)
        source: Any = (path, stat)
    else:
        source = path_or_file
    return await _file_response(
        app, source, mimetype, as_attachment, download_name, conditional, etag, last_modified, max_age
    )


async def _file_response(
    app: Any,
    source: Any,
    mimetype: str | None,
    as_attachment: bool,
    download_name: str | None,
    conditional: bool,
    etag: bool | str,
    last_modified: Any,
    max_age: Any,
) -> _ResponseType:
    """The response of ``send_file`` for ``(path, stat)`` or a file object."""
    path: str | None = None
    mtime: float | None = None
    if isinstance(source, tuple):
        path, stat = source
        size: int | None = stat.st_size
        mtime = stat.st_mtime
        body = FileBody(path, size)
        if download_name is None:
            download_name = os.path.basename(path)
    else:
        size, offset = await _size_and_position(source)
        body = FileBody(source, size, offset)
        name = getattr(source, "name", None)
        if download_name is None and isinstance(name, str):
            download_name = os.path.basename(name)
    if mimetype is None:
        if download_name is None:
            await body.aclose()
            raise MimetypeUnknownError(
                "Cannot guess the MIME type of a file object without a name:"
                " pass 'mimetype', or 'download_name', or a path."
            )
        mimetype = mimetypes.guess_type(download_name)[0] or DEFAULT_MIMETYPE
    # USE_X_SENDFILE: a front server (Apache's mod_xsendfile, lighttpd) sends
    # the file named in X-Sendfile and answers ranges; the body here is empty.
    sendfile = path is not None and app.config["USE_X_SENDFILE"]
    response: _ResponseType = app.response_class(b"" if sendfile else body, mimetype=mimetype)
    headers = response.headers
    if download_name is not None:
        disposition = "attachment" if as_attachment else "inline"
        headers.set("Content-Disposition", disposition, **_filename_params(download_name))
    elif as_attachment:
        await body.aclose()
        raise TypeError("An attachment needs a file name: pass 'download_name'.")
    if sendfile:
        headers["X-Sendfile"] = path
    elif size is not None:
        headers["Content-Length"] = str(size)
    if last_modified is not None:
        response.last_modified = last_modified
    elif mtime is not None:
        response.last_modified = mtime  # type: ignore[assignment]  # the header's http_date takes a timestamp
    if max_age is None:
        max_age = app.get_send_file_max_age
    if callable(max_age):
        max_age = max_age(path)
    if max_age is not None:
        if max_age > 0:
            response.cache_control.public = True
        response.cache_control.max_age = max_age
        response.expires = int(time.time() + max_age)  # type: ignore[assignment]  # likewise
    else:
        response.cache_control.no_cache = True
    if isinstance(etag, str):
        response.set_etag(etag)
    elif etag and path is not None:
        response.set_etag(f"{stat.st_mtime_ns:x}-{size:x}-{zlib.adler32(path.encode()):x}")
    request = _request_or_none()
    if conditional and request is not None:
        # With X-Sendfile the front server answers ranges: no length here, so none is cut.
        response = await response.make_conditional(
            request, accept_ranges=not sendfile, complete_length=None if sendfile else size
        )
        if sendfile and response.status_code != 200:
            del response.headers["X-Sendfile"]  # 304 or 412: the front server must not send the file
    return response


class MimetypeUnknownError(TypeError, ValueError):
    """``send_file`` could not guess a file object's MIME type.

    A TypeError as in Flask, and a ValueError as in Quart, so either's
    ``except`` catches it.
    """


def _request_or_none() -> Any:
    """The current request (or websocket), None outside a request context."""
    ctx = _cv_request.get(None) or _cv_websocket.get(None)
    return None if ctx is None else ctx.request_websocket


async def _size_and_position(file: Any) -> tuple[int | None, int]:
    """How many bytes are left in a file object, and where they start."""
    if isinstance(file, io.TextIOBase):
        raise ValueError("send_file needs a file opened in binary mode, or a BytesIO.")
    if isinstance(file, io.BytesIO):
        position = file.tell()
        return file.getbuffer().nbytes - position, position

    def measure() -> tuple[int | None, int]:
        try:
            position = file.tell()
            size = os.fstat(file.fileno()).st_size
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None, 0  # a pipe or a stream of unknown length: sent to its end, no ranges
        return max(size - position, 0), position

    return await asyncio.get_running_loop().run_in_executor(None, measure)


def _filename_params(name: str) -> dict[str, str]:
    """Content-Disposition parameters for ``name``: ``filename``, plus
    ``filename*`` (RFC 6266) when it is not plain ASCII."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return {"filename": plain or "download", "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    return {"filename": name}


async def send_from_directory(directory: str | os.PathLike[str], path: str, **kwargs: Any) -> _ResponseType:
    """Serve ``path`` from inside ``directory`` (relative to the app's root_path).

    Anything that would leave the directory gets 404: ``..`` segments,
    absolute paths, and symbolic links pointing outside it (checked on the
    resolved path); so does anything that is not a regular file. Takes
    ``send_file``'s keyword arguments.
    """
    directory = os.fspath(directory)
    if not os.path.isabs(directory):
        directory = os.path.join(current_app.root_path, directory)
    joined = safe_join(directory, os.fspath(path))
    if joined is None:
        raise NotFound()
    found = await asyncio.get_running_loop().run_in_executor(None, _file_inside, directory, joined)
    if found is None:
        raise NotFound()
    if kwargs.get("download_name") is None:
        kwargs["download_name"] = os.path.basename(joined)
    return await _file_response(
        current_app._get_current_object(),  # type: ignore[attr-defined]  # the proxy's own method
        found,
        kwargs.pop("mimetype", None),
        kwargs.pop("as_attachment", False),
        kwargs.pop("download_name"),
        kwargs.pop("conditional", True),
        kwargs.pop("etag", True),
        kwargs.pop("last_modified", None),
        kwargs.pop("max_age", None),
        **kwargs,
    )


def _file_inside(directory: str, joined: str) -> tuple[str, os.stat_result] | None:
    """The resolved path and stat of ``joined`` if it is a regular file inside ``directory``."""
    try:
        root = os.path.realpath(directory)
        real = os.path.realpath(joined)
        if os.path.commonpath((root, real)) != root:
            return None
        stat = os.stat(real)
    except (OSError, ValueError):  # missing, unreadable, a NUL in the name
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return real, stat
