"""Data structures that need async behaviour on top of Werkzeug's, and the
Server-Sent Event."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import IO, Any

from werkzeug.datastructures import FileStorage as _WerkzeugFileStorage

__all__ = ("FileStorage", "ServerSentEvent")


class FileStorage(_WerkzeugFileStorage):
    """An uploaded file; ``await file.save(dst)`` writes it without blocking the loop.

    Small uploads are held in memory; larger ones were spooled to a temporary
    file while the request arrived, so ``stream`` may be either.
    """

    async def save(self, destination: Any, buffer_size: int = 1024 * 1024) -> None:  # type: ignore[override]
        """Copy the file to ``destination`` (a path or a binary file object) in the thread pool."""
        await asyncio.get_running_loop().run_in_executor(None, self._save_sync, destination, buffer_size)

    def _save_sync(self, destination: Any, buffer_size: int) -> None:
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as dst:
                shutil.copyfileobj(self.stream, dst, buffer_size)
        else:
            shutil.copyfileobj(self.stream, destination, buffer_size)

    async def load(self, source: str | os.PathLike[str] | None = None, buffer_size: int = 16384) -> bytes | None:
        """Return the whole file's content; or, given ``source`` (Quart's form),
        read the file at that path into this storage, named after it."""
        loop = asyncio.get_running_loop()
        if source is None:
            return await loop.run_in_executor(None, self.stream.read)
        self.filename = os.path.basename(os.fspath(source))
        await loop.run_in_executor(None, self._load_sync, source, buffer_size)
        return None

    def _load_sync(self, source: str | os.PathLike[str], buffer_size: int) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, self.stream, buffer_size)

    def save_sync(self, destination: str | os.PathLike[str] | IO[bytes], buffer_size: int = 1024 * 1024) -> None:
        """Write the file from sync code (for a view running in the thread pool)."""
        self._save_sync(destination, buffer_size)


class ServerSentEvent:
    """One event of a ``text/event-stream`` (Server-Sent Events).

    ``ServerSentEvent("hello", event="greeting", id="1").encode()`` gives the
    bytes a browser's ``EventSource`` reads: one ``field: value`` line each,
    ``data`` split over several lines where it has several, and a blank line
    to end the event. ``retry`` (milliseconds) tells the browser how long to
    wait before reconnecting; ``comment`` lines are ignored by browsers and
    serve as keep-alives. See ``Response.event_stream`` to send a stream.
    """

    __slots__ = ("data", "event", "id", "retry", "comment")

    def __init__(
        self,
        data: str | None = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        for name, value in (("event", event), ("id", id)):
            if value is not None and ("\n" in value or "\r" in value or "\0" in value):
                raise ValueError(f"An event's {name} cannot hold a line break or NUL: {value!r}")
        if data is not None and not isinstance(data, str):
            raise TypeError(f"An event's data must be a str, not {type(data).__name__}; encode it first (e.g. as JSON)")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event as the bytes of a ``text/event-stream``."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(": " + line for line in _split_lines(self.comment))
        if self.event is not None:
            lines.append("event: " + self.event)
        if self.id is not None:
            lines.append("id: " + self.id)
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        if self.data is not None:
            lines.extend("data: " + line for line in _split_lines(self.data))
        return ("\n".join(lines) + "\n\n").encode()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        shown = (name for name in self.__slots__ if getattr(self, name) is not None)
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"ServerSentEvent({fields})"


def _split_lines(text: str) -> list[str]:
    # Every line break a browser recognises in the stream (CRLF, CR, LF) starts a new field line.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
