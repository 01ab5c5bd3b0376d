"""The HTTP response: Werkzeug's sans-IO response with an async body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import generate_etag, http_date, parse_etags, parse_range_header
from werkzeug.sansio.http import is_resource_modified
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import get_content_type
from werkzeug.utils import cached_property

from ..utils import run_sync_iterable


_TEXT_CONTENT_TYPES: dict[type, str] = {}


class Response(SansIOResponse):
    """An HTTP response.

    ``response`` holds the body: ``bytes`` when it is complete, or an
    iterable / async iterable of ``bytes`` or ``str`` chunks when it streams.
    """

    default_mimetype: str | None = "text/html"
    json_module: Any = json
    implicit_sequence_conversion = True
    automatically_set_content_length = True
    #: Per-response override of RESPONSE_TIMEOUT for streamed bodies.
    timeout: Any = None

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
        """Build a complete response fast; for the framework's own hot path."""
        self = cls.__new__(cls)
        headers = Headers()
        headers._list = [  # type: ignore[attr-defined]
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
        ]
        self.headers = headers
        if status == 200:
            self._status = "200 OK"
            self._status_code = 200
        else:
            self.status = status  # type: ignore[assignment]
        self.response = body
        return self

    @cached_property
    def push_promises(self) -> set[str]:  # type: ignore[no-redef]
        return set()

    @property
    def is_sequence(self) -> bool:
        """True when the whole body is held in memory."""
        return isinstance(self.response, bytes)

    @property
    def is_streamed(self) -> bool:
        return not self.is_sequence

    def set_data(self, data: str | bytes) -> None:
        """Replace the body and set Content-Length."""
        if isinstance(data, str):
            data = data.encode()
        else:
            data = bytes(data)
        self.response = data
        if self.automatically_set_content_length:
            self.headers["Content-Length"] = str(len(data))

    async def iter_body(self) -> AsyncIterator[bytes]:
        """Yield the body as bytes chunks, whatever form it is held in."""
        body = self.response
        if isinstance(body, bytes):
            if body:
                yield body
            return
        if isinstance(body, AsyncIterable):
            iterator: Any = body
        elif isinstance(body, Iterable):
            # Lists and tuples are in memory; any other iterator may block (a
            # file, a generator doing I/O), so it is advanced in the thread pool.
            iterator = _aiter_sync(body) if isinstance(body, (list, tuple)) else run_sync_iterable(body)
        else:
            raise TypeError(f"Cannot stream a body of type {type(body).__name__}")
        async for chunk in iterator:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if chunk:
                yield bytes(chunk)

    async def make_sequence(self) -> None:
        """Read a streamed body into memory, so it can be read repeatedly."""
        if not isinstance(self.response, bytes):
            parts = [chunk async for chunk in self.iter_body()]
            self.response = b"".join(parts)

    async def get_data(self, as_text: bool = False) -> bytes | str:
        """Return the body (reading a streamed body into memory first)."""
        await self.make_sequence()
        return self.response.decode() if as_text else self.response

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

        Only GET and HEAD are conditional. With ``accept_ranges`` a single
        satisfiable ``Range`` gets 206 and that slice of the body (416 when it
        can't be satisfied); ``complete_length`` defaults to the body's length.
        Returns the response, changed in place.
        """
        if request.method not in ("GET", "HEAD"):
            return self
        if "date" not in self.headers:
            self.headers["Date"] = http_date()
        await self.make_sequence()
        asked = request.headers
        if accept_ranges:
            self.headers["Accept-Ranges"] = "bytes" if accept_ranges is True else accept_ranges
            length = len(self.response) if complete_length is None else complete_length
            if self._answer_range(asked, length):
                return self
        etag = self.headers.get("ETag")
        last_modified = self.headers.get("Last-Modified")
        if not is_resource_modified(
            http_if_modified_since=asked.get("If-Modified-Since"),
            http_if_none_match=asked.get("If-None-Match"),
            http_if_match=asked.get("If-Match"),
            etag=etag,
            last_modified=last_modified,
        ):
            if parse_etags(asked.get("If-Match")):
                self.status_code = 412
            else:
                self.status_code = 304
                self.response = b""
                self.headers.pop("Content-Length", None)
                self.headers.pop("Content-Range", None)
        return self

    def _answer_range(self, asked: Any, length: int) -> bool:
        """Cut the body down to the one range asked for; True if it did (206)."""
        value = asked.get("Range")
        if value is None or self.status_code != 200 or not length:
            return False
        if "If-Range" in asked and is_resource_modified(
            http_range=value,
            http_if_range=asked.get("If-Range"),
            etag=self.headers.get("ETag"),
            last_modified=self.headers.get("Last-Modified"),
            ignore_if_range=False,
        ):
            return False  # the client's copy is stale: it gets the whole body
        ranges = parse_range_header(value)
        if ranges is None or ranges.units != "bytes":
            return False  # a unit or syntax we don't know: ignore the header (RFC 9110)
        span = ranges.range_for_length(length)  # None for several ranges, too
        if span is None:
            raise RequestedRangeNotSatisfiable(length=length)
        start, stop = span
        self.response = self.response[start:stop]
        self.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
        self.headers["Content-Length"] = str(stop - start)
        self.status_code = 206
        return True


async def _aiter_sync(iterable: Iterable[Any]) -> AsyncIterator[Any]:
    for item in iterable:
        yield item
