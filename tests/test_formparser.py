"""Forms parsed as the body arrives: urlencoded and multipart, in any chunking;
uploaded files spooled to temporary files above a threshold; limits (413) and
malformed bodies (400)."""

from __future__ import annotations

import io
import os
from urllib.parse import parse_qsl, urlencode

import pytest
from werkzeug.datastructures import FileStorage as WerkzeugFileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from quaver import Quaver, formparser, request
from quaver.datastructures import FileStorage
from quaver.formparser import FormDataParser

BOUNDARY = "----quaver-boundary-7MA4YWxkTrZu0gW"


def multipart(*parts: tuple[str, str | None, bytes], boundary: str = BOUNDARY, headers: str = "") -> bytes:
    """A multipart/form-data body of (name, filename or None, content) parts."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{headers}\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


async def chunked(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def parse(data: bytes, mimetype: str, chunk_size: int = 7, **kwargs):
    options = {"boundary": BOUNDARY} if mimetype == "multipart/form-data" else {}
    parser = FormDataParser(**kwargs)
    return await parser.parse(chunked(data, chunk_size), mimetype, len(data), options)


# --- urlencoded ------------------------------------------------------------------------


async def test_urlencoded_fields_split_anywhere_across_chunks_parse_the_same() -> None:
    pairs = [("name", "Ada Lovelace"), ("tag", "a&b=c"), ("tag", "caf\u00e9 \u2615"), ("empty", ""), ("x", "1+1")]
    body = urlencode(pairs).encode()
    for size in (1, 2, 3, 5, 8, len(body)):
        form, files = await parse(body, "application/x-www-form-urlencoded", size)
        assert list(form.items(multi=True)) == pairs
        assert not files


async def test_urlencoded_decoding_matches_the_standard_library() -> None:
    body = b"a=1&a=2&plus=one+two&pct=%41%42%2B&bare&=novalue&u=%E2%9C%93&&end="
    form, _ = await parse(body, "application/x-www-form-urlencoded", 4)
    assert list(form.items(multi=True)) == parse_qsl(body.decode(), keep_blank_values=True)


async def test_urlencoded_field_over_max_form_memory_size_is_413() -> None:
    body = b"small=1&big=" + b"x" * 200
    with pytest.raises(RequestEntityTooLarge):
        await parse(body, "application/x-www-form-urlencoded", 16, max_form_memory_size=100)
    form, _ = await parse(body, "application/x-www-form-urlencoded", 16, max_form_memory_size=300)
    assert len(form["big"]) == 200


async def test_urlencoded_fields_past_max_form_parts_are_413() -> None:
    body = urlencode([(f"f{i}", str(i)) for i in range(11)]).encode()
    with pytest.raises(RequestEntityTooLarge):
        await parse(body, "application/x-www-form-urlencoded", 5, max_form_parts=10)
    form, _ = await parse(body, "application/x-www-form-urlencoded", 5, max_form_parts=11)
    assert len(form) == 11


async def test_x_url_encoded_alias_is_parsed_too() -> None:
    form, _ = await parse(b"a=1", "application/x-url-encoded")
    assert form["a"] == "1"


# --- multipart -------------------------------------------------------------------------


async def test_multipart_split_anywhere_across_chunks_parses_the_same() -> None:
    content = bytes(range(256)) * 3 + b"\r\n--" + BOUNDARY[:10].encode()  # looks like a boundary start
    body = multipart(("title", None, b"Report"), ("doc", "r.bin", content), ("title", None, b"Again"))
    for size in (1, 3, 17, 64, len(body)):
        form, files = await parse(body, "multipart/form-data", size)
        assert form.getlist("title") == ["Report", "Again"]
        assert files["doc"].filename == "r.bin"
        assert files["doc"].read() == content


async def test_multipart_split_in_two_at_every_position_parses_the_same() -> None:
    body = multipart(("a", None, b"first"), ("f", "f.txt", b"line\r\nline\r\n"), ("b", None, b"Again"))
    for cut in range(1, len(body)):

        async def two_chunks(cut: int):
            yield body[:cut]
            yield body[cut:]

        form, files = await FormDataParser().parse(
            two_chunks(cut), "multipart/form-data", len(body), {"boundary": BOUNDARY}
        )
        assert (form["a"], form["b"], files["f"].read()) == ("first", "Again", b"line\r\nline\r\n"), cut


async def test_small_file_stays_in_memory_and_big_file_goes_to_a_temporary_file() -> None:
    small, big = b"s" * 1000, os.urandom(300_000)
    body = multipart(("small", "s.txt", small), ("big", "b.bin", big))
    form, files = await parse(body, "multipart/form-data", 4096, spool_size=100_000)
    assert isinstance(files["small"].stream, io.BytesIO)
    assert files["small"].read() == small
    stream = files["big"].stream
    assert not isinstance(stream, io.BytesIO)
    assert os.fstat(stream.fileno()).st_size == len(big)  # on disk
    assert files["big"].read() == big
    assert isinstance(files["big"], FileStorage)
    for _, file in files.items(multi=True):
        file.close()


async def test_files_are_not_bound_by_max_form_memory_size_but_fields_are() -> None:
    body = multipart(("upload", "u.bin", b"u" * 5000), ("note", None, b"short"))
    form, files = await parse(body, "multipart/form-data", 512, max_form_memory_size=100)
    assert files["upload"].read() == b"u" * 5000
    assert form["note"] == "short"
    with pytest.raises(RequestEntityTooLarge):
        await parse(multipart(("note", None, b"n" * 101)), "multipart/form-data", 512, max_form_memory_size=100)


async def test_part_headers_that_never_end_are_413_not_held_in_memory() -> None:
    body = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ".encode() + b"p" * 200_000
    with pytest.raises(RequestEntityTooLarge):
        await parse(body, "multipart/form-data", 8192, max_form_memory_size=1000)


async def test_multipart_parts_past_max_form_parts_are_413() -> None:
    body = multipart(*[(f"f{i}", None, b"v") for i in range(4)])
    with pytest.raises(RequestEntityTooLarge):
        await parse(body, "multipart/form-data", 10, max_form_parts=3)


async def test_failed_form_closes_the_temporary_files_it_made(monkeypatch) -> None:
    made = []
    real = formparser.tempfile.TemporaryFile

    def tracking(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(formparser.tempfile, "TemporaryFile", tracking)
    body = multipart(("a", "a.bin", b"a" * 5000), ("b", "b.bin", b"b" * 5000), ("c", None, b"x"))
    with pytest.raises(RequestEntityTooLarge):
        await parse(body, "multipart/form-data", 1000, spool_size=1000, max_form_parts=2)
    assert len(made) == 2
    assert all(file.closed for file in made)


async def test_field_charset_from_the_part_content_type() -> None:
    body = multipart(
        ("name", None, "Jos\u00e9".encode("latin-1")), headers="Content-Type: text/plain; charset=iso-8859-1\r\n"
    )
    form, _ = await parse(body, "multipart/form-data")
    assert form["name"] == "Jos\u00e9"


async def test_unterminated_multipart_is_a_value_error() -> None:
    body = multipart(("a", None, b"1"))[: -len(f"--{BOUNDARY}--\r\n") - 2]
    with pytest.raises(ValueError):
        await parse(body, "multipart/form-data")


async def test_part_without_content_disposition_is_a_value_error() -> None:
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode()
    with pytest.raises(ValueError):
        await parse(body, "multipart/form-data")


async def test_multipart_without_a_boundary_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        await FormDataParser().parse(chunked(b"x", 1), "multipart/form-data", 1, {})


async def test_empty_multipart_body_is_an_empty_form() -> None:
    form, files = await parse(b"", "multipart/form-data")
    assert not form and not files


# --- through a request -----------------------------------------------------------------


async def test_form_is_parsed_from_chunks_sent_one_at_a_time(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        form, files = await request.form, await request.files
        return {"title": form["title"], "doc": (await files["doc"].load()).decode()}

    body = multipart(("title", None, b"Chunks"), ("doc", "d.txt", b"the document body"))
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    async with client.request("/", method="POST", headers=headers) as connection:
        for start in range(0, len(body), 5):
            await connection.send(body[start : start + 5])
        await connection.send_complete()
        response = await connection.as_response()
    assert await response.get_json() == {"title": "Chunks", "doc": "the document body"}


async def test_big_upload_is_spooled_and_saved_and_its_file_closed_after_the_request(
    app: Quaver, client, tmp_path
) -> None:
    kept = []
    payload = os.urandom(2 * 1024 * 1024)

    @app.post("/")
    async def index():
        upload = (await request.files)["doc"]
        kept.append(upload)
        await upload.save(tmp_path / "saved.bin")
        return {"in_memory": isinstance(upload.stream, io.BytesIO)}

    response = await client.post("/", files={"doc": WerkzeugFileStorage(io.BytesIO(payload), "big.bin")})
    assert await response.get_json() == {"in_memory": False}
    assert (tmp_path / "saved.bin").read_bytes() == payload
    assert kept[0].stream.closed


async def test_body_is_gone_once_the_form_streamed_from_it(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        form = await request.form
        return {"a": form["a"], "rest": (await request.get_data()).decode()}

    response = await client.post("/", form={"a": "1"})
    assert await response.get_json() == {"a": "1", "rest": ""}


async def test_form_after_reading_the_body_is_parsed_from_it(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        raw = await request.get_data()
        return {"raw": raw.decode(), "a": (await request.form)["a"]}

    response = await client.post("/", form={"a": "2"})
    assert await response.get_json() == {"raw": "a=2", "a": "2"}


async def test_urlencoded_field_over_max_form_memory_size_gets_413(app: Quaver, client) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 50

    @app.post("/")
    async def index():
        await request.form
        return "unreachable"

    response = await client.post("/", form={"big": "b" * 100})
    assert response.status_code == 413


async def test_truncated_multipart_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.files
        return "unreachable"

    body = multipart(("doc", "d.bin", b"data"))[:-10]
    response = await client.post("/", data=body, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 400


async def test_files_of_a_repeated_field_are_all_kept_in_order(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"names": [f.filename for f in (await request.files).getlist("f")]}

    files = MultiDict(
        [("f", WerkzeugFileStorage(io.BytesIO(b"1"), "one")), ("f", WerkzeugFileStorage(io.BytesIO(b"2"), "two"))]
    )
    response = await client.post("/", files=files)
    assert await response.get_json() == {"names": ["one", "two"]}
