"""Response bodies that are not simply bytes: files, file objects, iterables.

``Response.response`` holds ``bytes`` when the body is complete (the fast
path); anything else is streamed. The classes here name the streamed forms
as Quart does, so code written for Quart's body wrappers works::

    async with body as chunks:
        async for chunk in chunks:
            ...

and each can be cut to a byte range with ``await body.make_conditional(begin,
end)`` (which returns the complete length, and raises 416 when the range
cannot be satisfied). ``FileBody`` is also what ``send_file`` sends.
"""

from __future__ import annotations

import asyncio
import io
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from werkzeug.exceptions import RequestedRangeNotSatisfiable

from ..utils import run_sync_iterable

__all__ = ("DataBody", "FileBody", "IOBody", "IterableBody", "ResponseBody")


class ResponseBody(ABC):
    """The base of body wrappers: entered with ``async with``, which gives
    an async iterable of bytes chunks; leaving it frees what it held."""

    @abstractmethod
    async def __aenter__(self) -> AsyncIterable[Any]:
        """Get ready to be read; return what to iterate for the chunks."""

    @abstractmethod
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Release what reading needed (a file, an iterator)."""


def _check_range(begin: int, end: int, size: int) -> tuple[int, int]:
    """``begin``/``end`` (exclusive, a negative begin counting from the end)
    as a non-empty span within ``size`` bytes; 416 when there is none."""
    if begin < 0:
        if -begin > size:
            raise RequestedRangeNotSatisfiable(length=size)
        begin += size
    end = min(end, size)
    if begin >= end:
        raise RequestedRangeNotSatisfiable(length=size)
    return begin, end


class DataBody(ResponseBody):
    """Bytes held in memory, sent as one chunk (``begin:end`` of them)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.begin = 0
        self.end = len(data)

    async def __aenter__(self) -> DataBody:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _one_chunk(self.data[self.begin : self.end])

    async def make_conditional(self, begin: int, end: int | None) -> int:
        """Send only bytes ``begin`` to ``end`` (exclusive; None: to the end)."""
        size = len(self.data)
        self.begin, self.end = _check_range(begin, size if end is None else end, size)
        return size


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


class IterableBody(ResponseBody):
    """Chunks from an iterable or async iterable, read once.

    A list or tuple is walked in place; any other sync iterable (a
    generator that may block) is advanced in the thread pool. Leaving the
    ``async with`` closes the iterator (a generator's ``finally`` runs).
    """

    def __init__(self, iterable: Iterable[Any] | AsyncIterable[Any]) -> None:
        self.iter: AsyncIterator[Any] = async_chunks(iterable)

    async def __aenter__(self) -> IterableBody:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self.iter

    async def aclose(self) -> None:
        close = getattr(self.iter, "aclose", None)
        if close is not None:
            await close()


def async_chunks(body: Any) -> AsyncIterator[Any]:
    """An async iterator over ``body``, an async or sync iterable of chunks."""
    if isinstance(body, AsyncIterable):
        return body.__aiter__()
    if isinstance(body, (list, tuple)):
        return _aiter_sync(body)  # already in memory: no thread needed
    if isinstance(body, Iterable):
        return run_sync_iterable(body)  # a file, a generator doing I/O: may block
    raise TypeError(f"Cannot stream a body of type {type(body).__name__}")


async def _aiter_sync(iterable: Iterable[Any]) -> AsyncIterator[Any]:
    for item in iterable:
        yield item


class FileBody(ResponseBody):
    """A file's content, read in chunks in the thread pool as it is sent.

    ``source`` is a path or a binary file object (read from ``offset``, its
    position when it was handed over); ``size`` is the number of bytes to
    send, None when unknown (read to the end; for a path, the file's size is
    taken when none is given). ``buffer_size`` is the chunk size. A range
    narrows what is sent (``set_range``, or Quart's ``make_conditional``). A
    file object is closed once read, or by ``aclose()`` if it never is.
    Where the server offers the ASGI ``http.response.pathsend`` extension,
    a whole file given by path is handed to the server instead of being
    read here.
    """

    chunk_size = 64 * 1024
    #: Close the file object once it has been read (a file ``send_file`` was handed).
    closes_file = True

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        size: int | None = None,
        offset: int = 0,
        *,
        buffer_size: int | None = None,
    ) -> None:
        if isinstance(source, (str, os.PathLike)):
            self.path: str | None = os.path.abspath(os.fspath(source))
            self.file: IO[bytes] | None = None
            if size is None:  # Quart's FileBody(path): sized from the file
                size = os.stat(self.path).st_size - offset
        else:
            self.path = None
            self.file = source
        if buffer_size is not None:
            self.chunk_size = buffer_size
        self.offset = offset
        self.size = size
        self.start = 0
        self.stop = size
        self._reading: AsyncGenerator[bytes, None] | None = None

    @property
    def length(self) -> int | None:
        """The number of bytes that will be sent (None when unknown)."""
        return None if self.stop is None else self.stop - self.start

    @property
    def is_whole(self) -> bool:
        """True when the whole file is sent (no range cut from it)."""
        return self.start == 0 and self.stop == self.size

    # Quart's names: the range's ends, the chunk size, the path.
    @property
    def begin(self) -> int:
        return self.start

    @property
    def buffer_size(self) -> int:
        return self.chunk_size

    @property
    def file_path(self) -> Path | None:
        return None if self.path is None else Path(self.path)

    @property
    def end(self) -> int | None:
        return self.stop

    def set_range(self, start: int, stop: int) -> None:
        """Send only bytes ``start`` to ``stop`` (exclusive) of the content."""
        self.start, self.stop = start, stop

    async def make_conditional(self, begin: int, end: int | None) -> int:
        """Send only bytes ``begin`` to ``end`` (exclusive; None: to the end);
        returns the complete length. 416 for a range outside the content."""
        size = self.size
        if size is None:
            raise RequestedRangeNotSatisfiable()  # a stream of unknown length has no ranges
        self.set_range(*_check_range(begin, size if end is None else end, size))
        return size

    async def __aenter__(self) -> FileBody:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        reading, self._reading = self._reading, None
        if reading is not None:
            await reading.aclose()
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._reading = self._chunks()
        return self._reading

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        loop = asyncio.get_running_loop()
        remaining = self.length
        want = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
        position = self.offset + self.start
        file = self.file
        in_memory = isinstance(file, io.BytesIO)
        if file is None:
            path: str = self.path  # type: ignore[assignment]  # a body without a file object was given a path
            file, data = await loop.run_in_executor(None, _open_and_read, path, position, want, remaining)
            opened = True
        else:
            opened = False
            if in_memory:
                file.seek(position)
                data = file.read(want)
            else:
                data = await loop.run_in_executor(None, _seek_and_read, file, position, want)
        try:
            while data:
                yield data
                if remaining is not None:
                    remaining -= len(data)
                    if remaining <= 0:
                        break
                if file is None:
                    break  # _open_and_read read it all and closed it
                want = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
                data = file.read(want) if in_memory else await loop.run_in_executor(None, file.read, want)
        finally:
            if file is not None and (opened or self.closes_file):
                file.close()

    async def aclose(self) -> None:
        """Close the file object if the body is never read."""
        if self.file is not None and self.closes_file:
            self.file.close()


class IOBody(FileBody):
    """A ``BytesIO``'s content from its start, in chunks of ``buffer_size``;
    unlike a file ``send_file`` is handed, the stream is left open."""

    closes_file = False

    def __init__(self, io_stream: io.BytesIO, *, buffer_size: int | None = None) -> None:
        super().__init__(io_stream, io_stream.getbuffer().nbytes, buffer_size=buffer_size)

    @property
    def io_stream(self) -> io.BytesIO:
        """The stream sent (Quart's name)."""
        return self.file  # type: ignore[return-value]


def _open_and_read(path: str, position: int, want: int, remaining: int | None) -> tuple[IO[bytes] | None, bytes]:
    """Open ``path`` and read its first chunk; the file comes back open only if more is left."""
    file = open(path, "rb")
    try:
        if position:
            file.seek(position)
        data = file.read(want)
    except BaseException:
        file.close()
        raise
    if (remaining is not None and len(data) >= remaining) or len(data) < want:
        file.close()
        return None, data
    return file, data


def _seek_and_read(file: IO[bytes], position: int, want: int) -> bytes:
    if position and file.seekable():
        file.seek(position)
    return file.read(want)
