"""quaver/datastructures.py: the uploaded file's async save and load."""

from __future__ import annotations

import io
from pathlib import Path

from quaver.datastructures import FileStorage


async def test_load_gives_an_uploads_content() -> None:
    upload = FileStorage(io.BytesIO(b"uploaded bytes"), filename="notes.txt")
    assert await upload.load() == b"uploaded bytes"


async def test_load_from_a_path_fills_the_storage_and_names_it_after_the_file(tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF-1.7 " + b"x" * 40000)
    storage = FileStorage(io.BytesIO())
    assert await storage.load(source, buffer_size=4096) is None
    assert storage.filename == "report.pdf"
    target = tmp_path / "copy.pdf"
    storage.stream.seek(0)
    await storage.save(target)
    assert target.read_bytes() == source.read_bytes()
