"""Data structures that need async behaviour on top of Werkzeug's."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import IO, Any

from werkzeug.datastructures import FileStorage as _WerkzeugFileStorage


class FileStorage(_WerkzeugFileStorage):
    """An uploaded file; ``await file.save(dst)`` writes it without blocking the loop."""

    async def save(self, destination: Any, buffer_size: int = 16384) -> None:  # type: ignore[override]
        await asyncio.to_thread(self._save_sync, destination, buffer_size)

    def _save_sync(self, destination: Any, buffer_size: int) -> None:
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as dst:
                shutil.copyfileobj(self.stream, dst, buffer_size)
        else:
            shutil.copyfileobj(self.stream, destination, buffer_size)

    async def load(self) -> bytes:
        """Return the whole file's content."""
        return await asyncio.to_thread(self.stream.read)

    def save_sync(self, destination: str | os.PathLike[str] | IO[bytes], buffer_size: int = 16384) -> None:
        """Write the file from sync code (for a view running in the thread pool)."""
        self._save_sync(destination, buffer_size)
