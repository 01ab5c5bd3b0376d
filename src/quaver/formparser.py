"""Form bodies parsed as they arrive.

``application/x-www-form-urlencoded`` fields and ``multipart/form-data``
parts are decoded chunk by chunk while the body streams in (multipart on
Werkzeug's sans-IO ``MultipartDecoder``), so a form never has to be held
in memory whole. An uploaded file stays in memory up to ``spool_size``
bytes, then moves to a temporary file (deleted when it is closed).

Urlencoded bytes that are not UTF-8 stay percent-encoded (``%FF``), as
Werkzeug does for Flask; multipart fields get replacement characters.

Limits: a field bigger than ``max_form_memory_size`` or more than
``max_form_parts`` fields and files give 413; a body that is not the form
it claims to be gives 400 (raised as ``ValueError`` here, turned into
``BadRequest`` by the request).
"""

from __future__ import annotations

import asyncio
import codecs
import io
import tempfile
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from werkzeug.datastructures import Headers, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from .datastructures import FileStorage

__all__ = ("FormDataParser", "MultiPartParser", "ParserFunc", "StreamFactory")

#: Makes the stream an uploaded file is written to, from
#: ``(total_content_length, content_type, filename, content_length)``, as
#: Werkzeug's ``default_stream_factory``; a parser given none spools files itself.
StreamFactory = Callable[[int | None, str | None, str | None, int | None], IO[bytes]]
#: A parse function: ``(parser, body chunks, mimetype, content_length,
#: options) -> (form, files)``; ``FormDataParser.parse`` is one.
ParserFunc = Callable[
    ["FormDataParser", AsyncIterable[bytes], str, int | None, dict[str, str] | None],
    Awaitable["tuple[MultiDict[str, str], MultiDict[str, FileStorage]]"],
]

URLENCODED = frozenset(("application/x-www-form-urlencoded", "application/x-url-encoded"))
MULTIPART = "multipart/form-data"
_HEADER_ROOM = 64 * 1024
#: The codec error handler that leaves the bytes it cannot decode percent-encoded.
_KEEP_ENCODED = "quaver.percent_encode"
_PART_CHARSETS = frozenset(("ascii", "us-ascii", "utf-8", "utf8", "iso-8859-1", "latin-1", "latin1"))


class FormDataParser:
    """Parse a form body from an async iterable of ``bytes`` chunks.

    ``form, files = await parser.parse(chunks, mimetype, content_length, options)``
    where ``options`` are the Content-Type's parameters (the multipart
    ``boundary``). Returns two ``cls`` multidicts; files are ``file_class``
    (``FileStorage``) objects whose streams are positioned at the start.
    """

    #: Bytes of one uploaded file kept in memory before it moves to a temporary file.
    spool_size = 512 * 1024
    #: Bytes gathered before a write to a temporary file (one thread-pool call each).
    write_size = 1024 * 1024

    def __init__(
        self,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
        *,
        spool_size: int | None = None,
        cls: type[MultiDict[str, Any]] = ImmutableMultiDict,
        file_class: type[FileStorage] = FileStorage,
        stream_factory: StreamFactory | None = None,
    ) -> None:
        self.max_form_memory_size = max_form_memory_size
        self.stream_factory = stream_factory
        self.max_form_parts = max_form_parts
        if spool_size is not None:
            self.spool_size = spool_size
        self.cls = cls
        self.file_class = file_class

    @staticmethod
    def can_parse(mimetype: str) -> bool:
        """True for the form types this parser reads."""
        return mimetype == MULTIPART or mimetype in URLENCODED

    def get_parse_func(self, mimetype: str, options: dict[str, str] | None = None) -> ParserFunc | None:
        """The function that parses ``mimetype`` bodies (``parse``), or None."""
        return FormDataParser.parse if self.can_parse(mimetype) else None

    async def parse(
        self,
        chunks: AsyncIterable[bytes],
        mimetype: str,
        content_length: int | None = None,
        options: dict[str, str] | None = None,
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        """Read ``chunks`` to the end and return ``(form, files)``."""
        if mimetype == MULTIPART:
            boundary = (options or {}).get("boundary", "")
            if not boundary:
                raise ValueError("Missing the multipart boundary")
            return await self._parse_multipart(chunks, boundary.encode("latin-1"))
        if mimetype in URLENCODED:
            return self.cls(await self._parse_urlencoded(chunks)), self.cls()
        return self.cls(), self.cls()

    # --- application/x-www-form-urlencoded -------------------------------------
    async def _parse_urlencoded(self, chunks: AsyncIterable[bytes]) -> list[tuple[str, str]]:
        limit = self.max_form_memory_size
        max_parts = self.max_form_parts
        fields: list[tuple[str, str]] = []
        pending = bytearray()  # the end of the body not yet followed by '&': a field still arriving
        async for chunk in chunks:
            cut = chunk.rfind(b"&")
            if cut < 0:
                pending += chunk
            else:
                pending += chunk[:cut]
                _add_fields(fields, bytes(pending), limit)
                pending = bytearray(chunk[cut + 1 :])
                if max_parts is not None and len(fields) > max_parts:
                    raise RequestEntityTooLarge()
            if limit is not None and len(pending) > limit:
                raise RequestEntityTooLarge()
        _add_fields(fields, bytes(pending), limit)
        if max_parts is not None and len(fields) > max_parts:
            raise RequestEntityTooLarge()
        return fields

    # --- multipart/form-data ----------------------------------------------------
    async def _parse_multipart(
        self, chunks: AsyncIterable[bytes], boundary: bytes
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        decoder = MultipartDecoder(boundary, max_parts=self.max_form_parts)
        parts = _Parts(self)
        limit = self.max_form_memory_size
        guard = len(boundary) + 8  # a delimiter line: CRLF "--" boundary "--" CRLF
        received = False
        held = b""
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                received = True
                data = held + chunk if held else chunk
                # Feed the decoder only up to a line break near the end: given
                # a buffer ending inside a delimiter line (just past the
                # boundary), Werkzeug's decoder takes the CR before it for data.
                start = max(0, len(data) - guard)
                cut = max(data.rfind(b"\r", start), data.rfind(b"\n", start))
                if cut < 0:
                    cut = len(data)
                held = data[cut:]
                if cut:
                    decoder.receive_data(data[:cut])
                    await parts.take(decoder)
                # What the decoder still holds is a part's headers or the text
                # before the first boundary: bounded like a field (headers get
                # some room even under a tiny limit, as they can straddle chunks).
                if limit is not None and len(decoder.buffer) > max(limit, _HEADER_ROOM):
                    raise RequestEntityTooLarge()
            if not received:
                return self.cls(), self.cls()  # an empty body: an empty form
            if held:
                decoder.receive_data(held)
                await parts.take(decoder)
            decoder.receive_data(None)
            if not await parts.take(decoder):
                raise ValueError("The multipart body ended before its closing boundary")
        except BaseException:
            parts.discard()
            raise
        return self.cls(parts.fields), self.cls(parts.files)


class _Parts:
    """The fields and files of one multipart body, as the decoder hands them over."""

    def __init__(self, parser: FormDataParser) -> None:
        self.parser = parser
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.event: Field | File | None = None
        self.field_data: list[bytes] = []
        self.field_size = 0
        self.spool: _Spool | None = None

    async def take(self, decoder: MultipartDecoder) -> bool:
        """Handle every event the decoder has; True once the body's end was seen."""
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData):
                return False
            if isinstance(event, Epilogue):
                return True
            if isinstance(event, Data):
                if self.spool is not None:
                    await self.spool.write(event.data)
                else:
                    self.field_size += len(event.data)
                    limit = self.parser.max_form_memory_size
                    if limit is not None and self.field_size > limit:
                        raise RequestEntityTooLarge()
                    self.field_data.append(event.data)
                if not event.more_data:
                    await self._finish()
            elif isinstance(event, File):
                self.event = event
                factory = self.parser.stream_factory
                if factory is None:
                    self.spool = _Spool(self.parser.spool_size, self.parser.write_size)
                else:
                    content_type = event.headers.get("content-type")
                    self.spool = _FactoryStream(factory(None, content_type, event.filename, None))
            elif isinstance(event, Field):
                self.event = event
                self.field_data = []
                self.field_size = 0

    async def _finish(self) -> None:
        event = self.event
        if isinstance(event, File):
            assert self.spool is not None
            stream = await self.spool.finish()
            self.spool = None
            self.files.append(
                (event.name, self.parser.file_class(stream, event.filename, event.name, headers=event.headers))
            )
        elif event is not None:
            value = b"".join(self.field_data).decode(_charset(event.headers), "replace")
            self.fields.append((event.name, value))
            self.field_data = []
        self.event = None

    def discard(self) -> None:
        """Close every file made so far (deleting temporary files): the form failed."""
        if self.spool is not None:
            self.spool.close()
        for _, file in self.files:
            file.close()


class _Spool:
    """One uploaded file: in memory up to ``size`` bytes, then in a temporary file.

    Writes to the temporary file go through the thread pool, gathered into
    pieces of ``write_size`` so a file costs few thread hops.
    """

    def __init__(self, size: int, write_size: int) -> None:
        self.size = size
        self.write_size = write_size
        self.memory: io.BytesIO | None = io.BytesIO()
        self.file: IO[bytes] | None = None
        self.pending: list[bytes] = []
        self.pending_size = 0

    async def write(self, data: bytes) -> None:
        memory = self.memory
        if memory is not None:
            if memory.tell() + len(data) <= self.size:
                memory.write(data)
                return
            self.memory = None
            self.pending = [memory.getvalue()]
            self.pending_size = memory.tell()
            loop = asyncio.get_running_loop()
            self.file = await loop.run_in_executor(None, tempfile.TemporaryFile)
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= self.write_size:
            await self._flush()

    async def _flush(self) -> None:
        data = b"".join(self.pending)
        self.pending = []
        self.pending_size = 0
        await asyncio.get_running_loop().run_in_executor(None, self.file.write, data)  # type: ignore[union-attr]

    async def finish(self) -> IO[bytes]:
        """The file's stream, positioned at its start."""
        if self.memory is not None:
            self.memory.seek(0)
            return self.memory
        if self.pending:
            await self._flush()
        self.file.seek(0)  # type: ignore[union-attr]
        return self.file  # type: ignore[return-value]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _FactoryStream(_Spool):
    """An uploaded file written to the stream a ``stream_factory`` made."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.file = stream

    async def write(self, data: bytes) -> None:
        self.file.write(data)  # type: ignore[union-attr]

    async def finish(self) -> IO[bytes]:
        self.file.seek(0)  # type: ignore[union-attr]
        return self.file  # type: ignore[return-value]


def _add_fields(fields: list[tuple[str, str]], encoded: bytes, limit: int | None) -> None:
    for pair in encoded.split(b"&"):
        if not pair:
            continue
        if limit is not None and len(pair) > limit:
            raise RequestEntityTooLarge()
        name, _, value = pair.partition(b"=")
        fields.append((_unquote(name), _unquote(value)))


def _percent_encode(error: UnicodeError) -> tuple[str, int]:
    undecodable = error.object[error.start : error.end]  # type: ignore[attr-defined]
    return "".join(f"%{byte:02X}" for byte in undecodable), error.end  # type: ignore[attr-defined]


codecs.register_error(_KEEP_ENCODED, _percent_encode)


def _unquote(raw: bytes) -> str:
    """A urlencoded name or value as text; bytes that are not UTF-8 (raw or
    percent-encoded) stay percent-encoded, as in ``request.args`` and Flask."""
    if b"%" not in raw and b"+" not in raw:
        return raw.decode("utf-8", _KEEP_ENCODED)
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", _KEEP_ENCODED)


def _charset(headers: Headers) -> str:
    content_type = headers.get("content-type")
    if content_type:
        charset = parse_options_header(content_type)[1].get("charset", "").lower()
        if charset in _PART_CHARSETS:
            return charset
    return "utf-8"


class MultiPartParser:
    """Quart's multipart parser: ``await MultiPartParser(...).parse(body, boundary, content_length)``
    gives ``(fields, files)``; it reads ``body`` (an async iterable of bytes) with Quaver's parser."""

    def __init__(
        self,
        *,
        buffer_size: int = 64 * 1024,
        cls: type[MultiDict[str, Any]] = MultiDict,
        file_storage_cls: type[FileStorage] = FileStorage,
        max_content_length: int | None = None,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
    ) -> None:
        self.buffer_size = buffer_size
        self.cls = cls
        self.file_storage_cls = file_storage_cls
        self.max_content_length = max_content_length
        self.max_form_memory_size = max_form_memory_size
        self.max_form_parts = max_form_parts

    async def parse(
        self, body: AsyncIterable[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        """Read the whole multipart ``body`` delimited by ``boundary``."""
        parser = FormDataParser(
            self.max_form_memory_size, self.max_form_parts, cls=self.cls, file_class=self.file_storage_cls
        )
        return await parser._parse_multipart(body, boundary)
