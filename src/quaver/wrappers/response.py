"""The HTTP response: Werkzeug's sans-IO response with an async body."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import generate_etag, http_date, parse_date, parse_etags, parse_range_header, unquote_etag
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import cached_property, get_content_type

from ..datastructures import ServerSentEvent
from ..globals import _cv_app
from ..utils import run_sync_iterable
from .bodies import DataBody, FileBody, IOBody, IterableBody, ResponseBody, async_chunks

__all__ = ("DataBody", "FileBody", "IOBody", "IterableBody", "Response", "ResponseBody")


_TEXT_CONTENT_TYPES: dict[type, str] = {}
_BAD_COOKIE_NAME = re.compile(r'[\x00-\x20\x7f",;=]')
_BAD_COOKIE_DOMAIN = re.compile(r'[\x00-\x20\x7f",;]')


_NEW_HEADERS = object.__new__


class Response(SansIOResponse):
    """An HTTP response.

    ``response`` holds the body: ``bytes`` when it is complete; an iterable
    or async iterable of ``bytes`` or ``str`` chunks when it streams (sync
    iterators are advanced in the thread pool); or a ``FileBody``, a file
    read in chunks as it is sent (see ``send_file``).
    """

    default_mimetype: str | None = "text/html"
    json_module: Any = json
    implicit_sequence_conversion = True
    automatically_set_content_length = True
    #: Seconds a streamed body may take to send: ``...`` (the default) means
    #: the app's RESPONSE_TIMEOUT, None means no limit (as in Quart).
    timeout: Any = Ellipsis
    #: A streamed body's status and headers go out with its first chunk, so
    #: one that fails before it gets a 500 (as under WSGI servers); True sends
    #: them at once (event streams: the browser's EventSource opens at once).
    send_headers_at_once: bool = False
    #: Quart's names for the body wrappers (see ``quaver.wrappers.bodies``);
    #: a body given as bytes is kept as bytes, not wrapped.
    data_body_class = DataBody
    file_body_class = FileBody
    io_body_class = IOBody
    iterable_body_class = IterableBody

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """``set_cookie`` warns above this many bytes: the current app's
        MAX_COOKIE_SIZE (0: never), or Werkzeug's 4093 outside an app."""
        ctx = _cv_app.get(None)
        if ctx is None:
            return SansIOResponse.max_cookie_size
        size: int = ctx.app.config["MAX_COOKIE_SIZE"]
        return size

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: Any = None,
        expires: Any = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header (Werkzeug's ``set_cookie``).

        The value is quoted and the path percent-encoded as Werkzeug does; a
        name or domain that could end the cookie early or add attributes to
        it (empty, or with controls, spaces, ``;``, ``,``, ``=`` or ``"``)
        is a ValueError, so nothing taken from a request can be smuggled in.
        """
        if not key or _BAD_COOKIE_NAME.search(key):
            raise ValueError(f"Not a valid cookie name: {key!r}")
        if domain and _BAD_COOKIE_DOMAIN.search(domain):
            raise ValueError(f"Not a valid cookie domain: {domain!r}")
        super().set_cookie(
            key, value, max_age, expires, path, domain, secure, httponly, samesite, partitioned
        )

    def __init__(
        self,
        response: Any = None,
        status: int | str | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(status, headers, mimetype, content_type)
        if response is None:
            self.response: Any = b""
            self.headers["Content-Length"] = "0"
        elif isinstance(response, (str, bytes, bytearray, memoryview)):
            self.set_data(response)
        else:
            self.response = response

    @classmethod
    def _from_text(cls, text: str) -> Response:
        """A complete response of ``text`` with the class's default mimetype."""
        content_type = _TEXT_CONTENT_TYPES.get(cls)
        if content_type is None:
            content_type = _TEXT_CONTENT_TYPES[cls] = get_content_type(cls.default_mimetype or "text/plain", "utf-8")
        return cls._from_bytes(text.encode(), content_type)

    @classmethod
    def _from_bytes(cls, body: bytes, content_type: str, status: int = 200) -> Response:
        """Build a complete response fast; for the framework's own hot path (a
        subclass with an ``__init__`` of its own is built through it)."""
        if cls.__init__ is not _RESPONSE_INIT:
            return cls(body, status, content_type=content_type)
        self = cls.__new__(cls)
        headers = _NEW_HEADERS(Headers)  # its __init__ would only set the list set here
        headers._list = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
        ]
        self.headers = headers
        if status == 200:
            self._status = "200 OK"
            self._status_code = 200
        else:
            self.status = status
        self.response = body
        return self

    @cached_property
    def push_promises(self) -> set[str]:
        return set()

    @property
    def is_sequence(self) -> bool:
        """True when the whole body is held in memory."""
        return isinstance(self.response, bytes)

    @property
    def is_streamed(self) -> bool:
        return not self.is_sequence

    def set_data(self, data: str | bytes | bytearray | memoryview) -> None:
        """Replace the body and set Content-Length."""
        if isinstance(data, str):
            data = data.encode()
        else:
            data = bytes(data)
        self.response = data
        if self.automatically_set_content_length:
            self.headers["Content-Length"] = str(len(data))

    async def iter_body(self) -> AsyncGenerator[bytes, None]:
        """Yield the body as bytes chunks, whatever form it is held in.

        Closing this iterator closes the body's own iterator too (an async
        generator's ``finally`` runs, a file is closed).
        """
        body = self.response
        if isinstance(body, bytes):
            if body:
                yield body
            return
        entered = body if isinstance(body, ResponseBody) else None
        if entered is not None:  # Quart's body protocol: entered, then iterated
            iterator: Any = (await entered.__aenter__()).__aiter__()
        else:
            iterator = async_chunks(body)
        try:
            async for chunk in iterator:
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                if chunk:
                    yield bytes(chunk)
        except BaseException as error:
            if entered is not None:
                await entered.__aexit__(type(error), error, error.__traceback__)
            else:
                await _aclose(iterator)
            raise
        if entered is not None:
            await entered.__aexit__(None, None, None)
        else:
            await _aclose(iterator)

    #: Quart's name for ``iter_body``.
    iter_encode = iter_body

    async def _discard_body(self) -> None:
        """Replace the body with nothing, closing what it held open."""
        body = self.response
        self.response = b""
        if not isinstance(body, bytes):
            await _aclose(body)

    @classmethod
    def event_stream(
        cls,
        events: Iterable[Any] | AsyncIterable[Any],
        keep_alive: float | None = 15.0,
        status: int | None = None,
        headers: Any = None,
    ) -> Response:
        """A response streaming ``events`` as Server-Sent Events.

        ``events`` is an async or sync iterable of ``ServerSentEvent`` objects,
        ``str`` (the data of one event) or ``bytes`` (sent as they are). While
        no event comes for ``keep_alive`` seconds a comment line is sent, so
        proxies and the browser keep the connection open (None: never). The
        response is ``text/event-stream``, not cached (``Cache-Control:
        no-cache``), not buffered by nginx (``X-Accel-Buffering: no``) and not
        cut short by RESPONSE_TIMEOUT. When the client leaves, the iterable is
        closed (its ``finally`` runs)::

            @app.get("/events")
            async def events():
                async def ticks():
                    for number in itertools.count():
                        yield ServerSentEvent(str(number), event="tick")
                        await asyncio.sleep(1)
                return Response.event_stream(ticks())
        """
        response = cls(_event_chunks(events, keep_alive), status, headers, content_type="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        response.timeout = None
        response.send_headers_at_once = True
        return response

    async def make_sequence(self) -> None:
        """Read a streamed body into memory, so it can be read repeatedly."""
        if not isinstance(self.response, bytes):
            parts = [chunk async for chunk in self.iter_body()]
            self.response = b"".join(parts)

    async def get_data(self, as_text: bool = False) -> bytes | str:
        """Return the body (reading a streamed body into memory first)."""
        await self.make_sequence()
        body: bytes = self.response
        return body.decode() if as_text else body

    @property
    def data(self) -> Any:
        """``await response.data``: the body as bytes."""
        return self.get_data()

    @data.setter
    def data(self, value: str | bytes) -> None:
        self.set_data(value)

    @property
    def json(self) -> Any:
        """``await response.json``: the body parsed as JSON."""
        return self.get_json()

    async def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """Parse the body as JSON (None if it isn't JSON-typed, unless forced)."""
        if not (force or self.is_json):
            return None
        data = await self.get_data()
        try:
            return self.json_module.loads(data)
        except ValueError:
            if silent:
                return None
            raise

    async def freeze(self) -> None:
        await self.make_sequence()

    async def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Add an ETag computed from the body, unless one is set."""
        if overwrite or "etag" not in self.headers:
            await self.make_sequence()
            self.set_etag(generate_etag(self.response), weak)

    async def make_conditional(
        self,
        request: Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer 304, 412 or 206 where the request's conditional headers allow.

        Only GET and HEAD of a 2xx response are conditional. Preconditions
        come first (If-Match and If-Unmodified-Since: 412; If-None-Match and
        If-Modified-Since: 304, with an empty body); then, with
        ``accept_ranges``, a single satisfiable ``Range`` (still valid under
        ``If-Range``) gets 206 and that slice of the body; a Range that
        cannot be answered (outside the body, several ranges, a unit other
        than bytes, malformed) raises 416, as Werkzeug and Quart do. Ranges
        are answered with ``accept_ranges``, or (as in Quart) whenever
        ``complete_length`` is given. It defaults to the body's length; a
        file body is cut without being read, a body wrapper with Quart's
        ``make_conditional(begin, end)`` is asked to cut itself, any other
        stream is read into memory only to answer a range. Returns the
        response, changed in place.
        """
        if request.method not in ("GET", "HEAD") or not 200 <= self.status_code < 300:
            return self
        headers = self.headers
        if "date" not in headers:
            headers["Date"] = http_date()
        if accept_ranges:
            headers["Accept-Ranges"] = "bytes" if accept_ranges is True else accept_ranges
        asked = request.headers
        failed = _failed_precondition(asked, headers.get("ETag"), headers.get("Last-Modified"))
        if failed is not None:
            await self._discard_body()
            self.status_code = failed
            headers.pop("Content-Range", None)
            if failed == 304:
                headers.pop("Content-Length", None)
            else:
                headers["Content-Length"] = "0"
            return self
        if (accept_ranges or complete_length is not None) and self.status_code == 200 and "Range" in asked:
            if await self._answer_range(asked, complete_length):
                return self
        if (
            complete_length is not None
            and self.automatically_set_content_length
            and "content-length" not in headers
            and not isinstance(self.response, bytes)
        ):
            headers["Content-Length"] = str(complete_length)
        return self

    async def _answer_range(self, asked: Any, complete_length: int | None) -> bool:
        """Cut the body down to the one range asked for; True if it did (206)."""
        if "If-Range" in asked and not _if_range_holds(
            asked["If-Range"], self.headers.get("ETag"), self.headers.get("Last-Modified")
        ):
            return False  # the client's copy is stale: it gets the whole body
        body = self.response
        length = complete_length
        if length is None:
            if isinstance(body, FileBody):
                length = body.length
            elif isinstance(body, DataBody):
                length = body.end - body.begin
            else:
                await self.make_sequence()
                body = self.response
                length = len(body)
        if not length:
            return False  # an empty or unknown length: nothing to cut
        ranges = parse_range_header(asked["Range"])
        span = None if ranges is None else ranges.range_for_length(length)  # None for several ranges, too
        if span is None:  # malformed, not bytes, several ranges or outside the body
            await self._discard_body()
            raise RequestedRangeNotSatisfiable(length=length)
        start, stop = span
        if isinstance(body, FileBody):
            body.set_range(body.start + start, body.start + stop)
        elif isinstance(body, DataBody):
            await body.make_conditional(body.begin + start, body.begin + stop)
        elif not isinstance(body, bytes) and hasattr(body, "make_conditional"):
            await body.make_conditional(start, stop)  # a body wrapper of the user's, Quart's protocol
        else:
            if not isinstance(body, bytes):
                await self.make_sequence()
                body = self.response
            self.response = body[start:stop]
        self.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
        self.headers["Content-Length"] = str(stop - start)
        self.status_code = 206
        return True


_RESPONSE_INIT = Response.__init__  # the fast builders skip it; a subclass's own one is not skipped


def _failed_precondition(asked: Any, etag_header: str | None, last_modified_header: str | None) -> int | None:
    """412 or 304 where the request's preconditions fail (RFC 9110, 13.2.2), else None."""
    etag, weak = unquote_etag(etag_header) if etag_header else (None, False)
    if_match = asked.get("If-Match")
    if if_match is not None:
        tags = parse_etags(if_match)
        if etag is None or not (tags.star_tag or (not weak and tags.contains(etag))):
            return 412  # If-Match compares strongly: a weak tag never matches
    else:
        since = parse_date(asked.get("If-Unmodified-Since"))
        last_modified = parse_date(last_modified_header)
        if since is not None and last_modified is not None and last_modified > since:
            return 412
    if_none_match = asked.get("If-None-Match")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        if tags.star_tag or (etag is not None and tags.contains_weak(etag)):
            return 304
    else:
        since = parse_date(asked.get("If-Modified-Since"))
        last_modified = parse_date(last_modified_header)
        if since is not None and last_modified is not None and last_modified <= since:
            return 304
    return None


def _if_range_holds(value: str, etag_header: str | None, last_modified_header: str | None) -> bool:
    """True if the client's copy named by ``If-Range`` is the current one (strong comparison)."""
    value = value.strip()
    if value[:1] == '"' or value[:2] == "W/":
        if value[:2] == "W/" or not etag_header:
            return False
        etag, weak = unquote_etag(etag_header)
        return not weak and unquote_etag(value)[0] == etag
    date = parse_date(value)
    return date is not None and date == parse_date(last_modified_header)


async def _aclose(iterator: Any) -> None:
    """Close an (async) iterator, if it can be closed."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
        return
    close = getattr(iterator, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


_STOP = object()  # ends the event queue


_KEEP_ALIVE = b": keep-alive\n\n"


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _encode_event(event: Any) -> bytes:
    if isinstance(event, ServerSentEvent):
        return event.encode()
    if isinstance(event, str):
        return ServerSentEvent(event).encode()
    if isinstance(event, (bytes, bytearray, memoryview)):
        return bytes(event)
    raise TypeError(f"An event stream sends ServerSentEvent, str or bytes, not {type(event).__name__}")


async def _event_chunks(events: Any, keep_alive: float | None) -> AsyncIterator[bytes]:
    """Encode ``events``; with ``keep_alive``, a comment whenever none came for that long.

    The events are drawn in one task of their own, so waiting for the next
    one can time out without cancelling the iterable (which would end it).
    """
    iterator = events.__aiter__() if isinstance(events, AsyncIterable) else run_sync_iterable(events)
    if keep_alive is None:
        try:
            async for event in iterator:
                yield _encode_event(event)
        finally:
            await _aclose(iterator)
        return
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
    producer = asyncio.get_running_loop().create_task(_produce(iterator, queue))
    try:
        while True:
            try:
                async with asyncio.timeout(keep_alive):
                    item = await queue.get()
            except TimeoutError:
                yield _KEEP_ALIVE
                continue
            if item is _STOP:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield _encode_event(item)
    finally:
        producer.cancel()
        await asyncio.wait((producer,))


async def _produce(iterator: Any, queue: asyncio.Queue[Any]) -> None:
    try:
        async for event in iterator:
            await queue.put(event)
    except Exception as error:
        await queue.put(_Raised(error))
    else:
        await queue.put(_STOP)
    finally:
        await _aclose(iterator)
