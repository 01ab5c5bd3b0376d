"""open_resource (app and blueprint) and open_instance_resource: the file
forms Quart and Flask code use, paths relative to root_path and
instance_path, text and binary modes, write modes refused for resources,
and the file opened and read without blocking the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from quaver import Blueprint, Quaver, request

SCHEMA = "CREATE TABLE films (id INTEGER PRIMARY KEY, title TEXT);\nCREATE INDEX by_title ON films (title);\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """root/{schema.sql, latin.txt, lines.txt}, root/films/schema.sql (a blueprint's) and root/instance/."""
    root = tmp_path / "root"
    (root / "films").mkdir(parents=True)
    (root / "instance").mkdir()
    (root / "schema.sql").write_text(SCHEMA)
    (root / "latin.txt").write_bytes("café crème".encode("latin-1"))
    (root / "lines.txt").write_text("one\ntwo\nthree\n")
    (root / "films" / "schema.sql").write_text("-- the films blueprint's own schema\n")
    return root


@pytest.fixture
def site_app(site: Path) -> Quaver:
    app = Quaver(__name__, root_path=str(site), instance_path=str(site / "instance"))
    app.config["TESTING"] = True
    return app


# --- app.open_resource -----------------------------------------------------------------


async def test_open_resource_in_quarts_form_reads_bytes_relative_to_root_path(site_app: Quaver) -> None:
    @site_app.get("/schema")
    async def schema():
        async with await site_app.open_resource("schema.sql") as file:
            data = await file.read()
        assert isinstance(data, bytes)
        return data

    response = await site_app.test_client().get("/schema")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == SCHEMA


async def test_open_resource_text_mode_gives_str_in_utf8_or_the_encoding_asked(site_app: Quaver) -> None:
    @site_app.get("/text")
    async def text():
        encoding = request.args.get("encoding")
        kwargs = {"encoding": encoding} if encoding else {}
        async with await site_app.open_resource(request.args["name"], "r", **kwargs) as file:
            data = await file.read()
        return {"type": type(data).__name__, "data": data}

    client = site_app.test_client()
    response = await client.get("/text", query_string={"name": "schema.sql"})
    assert await response.get_json() == {"type": "str", "data": SCHEMA}
    response = await client.get("/text", query_string={"name": "latin.txt", "encoding": "latin-1"})
    assert await response.get_json() == {"type": "str", "data": "café crème"}
    with pytest.raises(UnicodeDecodeError):  # read as UTF-8 by default; TESTING propagates the error
        await client.get("/text", query_string={"name": "latin.txt"})


async def test_open_resource_rt_mode_reads_text(site_app: Quaver) -> None:
    async with await site_app.open_resource("lines.txt", "rt") as file:
        assert await file.read() == "one\ntwo\nthree\n"


async def test_encoding_is_ignored_in_binary_mode(site_app: Quaver) -> None:
    async with await site_app.open_resource("latin.txt", "rb", encoding="ascii") as file:
        assert await file.read() == "café crème".encode("latin-1")


@pytest.mark.parametrize("mode", ["w", "wb", "a", "ab", "r+", "rb+", "x", "br"])
async def test_open_resource_refuses_modes_other_than_reading(site_app: Quaver, site: Path, mode: str) -> None:
    with pytest.raises(ValueError, match="Resources can only be opened for reading"):
        await site_app.open_resource("schema.sql", mode)
    with pytest.raises(ValueError, match="Resources can only be opened for reading"):
        await site_app.open_resource("new.sql", mode)
    assert (site / "schema.sql").read_text() == SCHEMA  # not truncated or appended to
    assert not (site / "new.sql").exists()


async def test_a_missing_resource_raises_file_not_found(site_app: Quaver) -> None:
    with pytest.raises(FileNotFoundError):
        async with await site_app.open_resource("missing.sql"):
            pass


async def test_open_resource_works_with_async_with_and_no_await(site_app: Quaver) -> None:
    async with site_app.open_resource("schema.sql") as file:
        assert await file.read() == SCHEMA.encode()
    assert file.closed


async def test_open_resource_works_in_flasks_blocking_form(site_app: Quaver) -> None:
    with site_app.open_resource("schema.sql", "r") as file:
        assert file.read() == SCHEMA
    assert file.closed


async def test_the_file_is_closed_after_the_block_even_on_error(site_app: Quaver) -> None:
    with pytest.raises(RuntimeError, match="stop"):
        async with await site_app.open_resource("schema.sql") as file:
            assert not file.closed
            raise RuntimeError("stop")
    assert file.closed


async def test_the_async_file_reads_lines_seeks_and_tells(site_app: Quaver) -> None:
    file = await (await site_app.open_resource("lines.txt", "r"))  # opened without a block: closed by hand
    try:
        assert file.name == os.path.join(site_app.root_path, "lines.txt")
        assert file.mode == "r"
        assert await file.readline() == "one\n"
        assert await file.tell() == 4
        assert [line async for line in file] == ["two\n", "three\n"]
        assert await file.seek(0) == 0
        assert await file.readlines() == ["one\n", "two\n", "three\n"]
        assert await file.read() == ""
    finally:
        await file.close()
    assert file.closed


async def test_resource_paths_are_joined_to_root_path_as_in_flask(site_app: Quaver, site: Path) -> None:
    (site / "films" / "data").mkdir()
    (site / "films" / "data" / "seed.sql").write_text("INSERT INTO films VALUES (1, 'Metropolis');\n")
    async with await site_app.open_resource(Path("films") / "data" / "seed.sql", "r") as file:
        assert "Metropolis" in await file.read()
    # As in Flask, the path is joined, not confined: '..' is followed (not for names from a request).
    async with await site_app.open_resource(os.path.join("films", "..", "schema.sql"), "r") as file:
        assert await file.read() == SCHEMA


async def test_opening_and_reading_a_resource_does_not_block_the_loop(site_app: Quaver, site: Path) -> None:
    os.mkfifo(site / "pipe")  # opening a FIFO for reading blocks until a writer comes
    ticks = 0
    stop = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    def write_later() -> None:  # in a thread of its own, so the test ends even if the loop were blocked
        with open(site / "pipe", "wb") as pipe:
            pipe.write(b"through the pipe")

    ticker = asyncio.ensure_future(tick())
    writer = threading.Timer(0.3, write_later)
    writer.start()
    try:
        async with await site_app.open_resource("pipe") as file:
            data = await file.read()
    finally:
        writer.join()
        stop.set()
        await ticker
    assert data == b"through the pipe"
    assert ticks >= 10  # the loop went on ticking while the thread waited for the writer


# --- blueprint.open_resource -----------------------------------------------------------


async def test_blueprint_open_resource_is_relative_to_the_blueprints_root_path(site_app: Quaver, site: Path) -> None:
    films = Blueprint("films", __name__, root_path=str(site / "films"), url_prefix="/films")

    @films.get("/schema")
    async def schema():
        async with await films.open_resource("schema.sql", "r") as file:
            return await file.read()

    @films.get("/app-schema")
    async def app_schema():
        async with await site_app.open_resource("schema.sql", "r") as file:
            return await file.read()

    site_app.register_blueprint(films)
    client = site_app.test_client()
    response = await client.get("/films/schema")
    assert await response.get_data(as_text=True) == "-- the films blueprint's own schema\n"
    response = await client.get("/films/app-schema")
    assert await response.get_data(as_text=True) == SCHEMA


async def test_blueprint_open_resource_refuses_writing(site: Path) -> None:
    films = Blueprint("films", __name__, root_path=str(site / "films"))
    with pytest.raises(ValueError, match="Resources can only be opened for reading"):
        await films.open_resource("schema.sql", "w")
    assert (site / "films" / "schema.sql").read_text() == "-- the films blueprint's own schema\n"


# --- app.open_instance_resource --------------------------------------------------------


async def test_open_instance_resource_writes_and_reads_in_the_instance_folder(site_app: Quaver, site: Path) -> None:
    @site_app.post("/notes")
    async def save_note():
        async with await site_app.open_instance_resource("notes.txt", "a") as file:
            await file.write((await request.get_data(as_text=True)) + "\n")
        return "", 204

    @site_app.get("/notes")
    async def read_notes():
        async with await site_app.open_instance_resource("notes.txt", "r") as file:
            return {"notes": [line.rstrip("\n") async for line in file]}

    client = site_app.test_client()
    assert (await client.post("/notes", data="fix the projector")).status_code == 204
    assert (await client.post("/notes", data="order popcorn — salé")).status_code == 204
    response = await client.get("/notes")
    assert await response.get_json() == {"notes": ["fix the projector", "order popcorn — salé"]}
    assert (site / "instance" / "notes.txt").read_text(encoding="utf-8") == "fix the projector\norder popcorn — salé\n"
    assert not (site / "notes.txt").exists()


async def test_open_instance_resource_reads_bytes_by_default(site_app: Quaver, site: Path) -> None:
    (site / "instance" / "key.bin").write_bytes(b"\x00\x01secret")
    async with await site_app.open_instance_resource("key.bin") as file:
        assert await file.read() == b"\x00\x01secret"
    async with await site_app.open_instance_resource("out.bin", "wb") as file:
        await file.write(b"\xff\xfe")
        await file.writelines([b"a", b"b"])
    assert (site / "instance" / "out.bin").read_bytes() == b"\xff\xfeab"


async def test_open_instance_resource_takes_an_encoding_for_text(site_app: Quaver, site: Path) -> None:
    async with await site_app.open_instance_resource("latin.txt", "w", encoding="latin-1") as file:
        await file.write("déjà vu")
    assert (site / "instance" / "latin.txt").read_bytes() == "déjà vu".encode("latin-1")
    with site_app.open_instance_resource("latin.txt", "r", encoding="latin-1") as plain:
        assert plain.read() == "déjà vu"


async def test_open_instance_resource_missing_file_raises_file_not_found(site_app: Quaver) -> None:
    with pytest.raises(FileNotFoundError):
        async with await site_app.open_instance_resource("never-written.txt", "r"):
            pass
