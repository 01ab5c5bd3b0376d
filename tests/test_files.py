"""send_file and send_from_directory: headers, file objects, chunked reading,
conditional and range requests, http.response.pathsend, and every way out
of a directory answered 404; through the test client and through Uvicorn
with httpx."""

from __future__ import annotations

import asyncio
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from test_streaming import uvicorn_serving
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date, parse_date

from quaver import Quaver, request, send_file, send_from_directory

CONTENT = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """root/public/{data.bin, notes.txt, sub/inner.txt, link-in, link-out, subdir} and root/secret.txt."""
    public = tmp_path / "public"
    (public / "sub").mkdir(parents=True)
    (public / "data.bin").write_bytes(CONTENT)
    (public / "notes.txt").write_text("plain notes\n")
    (public / "sub" / "inner.txt").write_text("inner")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink(public / "notes.txt", public / "link-in.txt")
    os.symlink(tmp_path / "secret.txt", public / "link-out.txt")
    os.symlink(tmp_path, public / "link-dir")
    return tmp_path


@pytest.fixture
def files_app(app: Quaver, site: Path) -> Quaver:
    app.root_path = str(site)

    @app.get("/files/<path:name>")
    async def files(name: str):
        return await send_from_directory(site / "public", name)

    @app.get("/by-arg")
    async def by_arg():
        return await send_from_directory("public", request.args["name"])

    return app


# --- send_file from a path -------------------------------------------------------------


async def test_send_file_sends_the_file_with_its_headers(app: Quaver, client, site: Path) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(minutes=10)

    @app.get("/")
    async def index():
        return await send_file(site / "public" / "notes.txt")

    response = await client.get("/")
    stat = (site / "public" / "notes.txt").stat()
    assert response.status_code == 200
    assert await response.get_data() == b"plain notes\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Length"] == str(stat.st_size)
    assert response.headers["Content-Disposition"] == "inline; filename=notes.txt"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.last_modified == datetime.fromtimestamp(int(stat.st_mtime), UTC)
    assert response.headers["ETag"]
    assert response.cache_control.public
    assert response.cache_control.max_age == 600
    assert 590 < (response.expires - datetime.now(UTC)).total_seconds() <= 600


async def test_relative_path_starts_at_the_app_root_path(app: Quaver, client, site: Path) -> None:
    app.root_path = str(site)

    @app.get("/")
    async def index():
        return await send_file("public/sub/inner.txt")

    response = await client.get("/")
    assert await response.get_data() == b"inner"


async def test_etag_is_the_same_for_the_same_file_and_changes_with_it(app: Quaver, client, site: Path) -> None:
    path = site / "public" / "notes.txt"

    @app.get("/")
    async def index():
        return await send_file(path)

    first = (await client.get("/")).headers["ETag"]
    assert (await client.get("/")).headers["ETag"] == first
    path.write_text("changed, and longer than before\n")
    assert (await client.get("/")).headers["ETag"] != first


async def test_attachment_with_a_download_name(app: Quaver, client, site: Path) -> None:
    @app.get("/")
    async def index():
        return await send_file(site / "public" / "data.bin", as_attachment=True, download_name="report 2024.pdf")

    response = await client.get("/")
    assert response.headers["Content-Disposition"] == 'attachment; filename="report 2024.pdf"'
    assert response.mimetype == "application/pdf"


async def test_non_ascii_download_name_gets_an_ascii_fallback_and_filename_star(
    app: Quaver, client, site: Path
) -> None:
    @app.get("/")
    async def index():
        return await send_file(
            site / "public" / "notes.txt", as_attachment=True, download_name="r\u00e9sum\u00e9 \u2603.txt"
        )

    disposition = (await client.get("/")).headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="resume .txt"' in disposition
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%98%83.txt" in disposition


async def test_explicit_mimetype_etag_last_modified_and_max_age(app: Quaver, client, site: Path) -> None:
    when = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)

    @app.get("/")
    async def index():
        return await send_file(
            site / "public" / "notes.txt", mimetype="text/markdown", etag="v1", last_modified=when, max_age=0
        )

    response = await client.get("/")
    assert response.mimetype == "text/markdown"
    assert response.headers["ETag"] == '"v1"'
    assert response.last_modified == when
    assert response.cache_control.max_age == 0
    assert not response.cache_control.public


async def test_no_max_age_anywhere_means_no_cache(app: Quaver, client, site: Path) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None

    @app.get("/")
    async def index():
        return await send_file(site / "public" / "notes.txt", etag=False)

    response = await client.get("/")
    assert response.cache_control.no_cache
    assert response.cache_control.max_age is None
    assert "ETag" not in response.headers


async def test_max_age_can_be_a_function_of_the_path(app: Quaver, client, site: Path) -> None:
    seen = []

    @app.get("/")
    async def index():
        return await send_file(site / "public" / "notes.txt", max_age=lambda path: seen.append(path) or 42)

    response = await client.get("/")
    assert response.cache_control.max_age == 42
    assert seen == [str(site / "public" / "notes.txt")]


async def test_missing_file_is_an_error(app: Quaver, site: Path) -> None:
    async with app.test_request_context("/"):
        with pytest.raises(FileNotFoundError):
            await send_file(site / "public" / "absent.txt")


# --- send_file from a file object ------------------------------------------------------


async def test_bytesio_with_a_mimetype(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return await send_file(io.BytesIO(b"in memory"), mimetype="text/plain")

    response = await client.get("/")
    assert await response.get_data() == b"in memory"
    assert response.headers["Content-Length"] == "9"
    assert "Content-Disposition" not in response.headers
    assert "ETag" not in response.headers  # no path to make one from, and the body is not read for it


async def test_bytesio_is_sent_from_its_current_position(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        buffer = io.BytesIO(b"skip:keep")
        buffer.seek(5)
        return await send_file(buffer, mimetype="text/plain")

    response = await client.get("/", headers={"Range": "bytes=1-2"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 1-2/4"
    assert await response.get_data() == b"ee"


async def test_binary_file_object_is_sent_and_closed(app: Quaver, client, site: Path) -> None:
    opened = []

    @app.get("/")
    async def index():
        file = open(site / "public" / "data.bin", "rb")
        opened.append(file)
        return await send_file(file)

    response = await client.get("/")
    assert await response.get_data() == CONTENT
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "inline; filename=data.bin"
    assert opened[0].closed


async def test_file_object_answered_304_or_head_is_closed_unread(app: Quaver, client, site: Path) -> None:
    opened = []

    @app.route("/", methods=["GET", "HEAD"])
    async def index():
        file = open(site / "public" / "notes.txt", "rb")
        opened.append(file)
        return await send_file(file, etag="fixed")

    assert (await client.get("/", headers={"If-None-Match": '"fixed"'})).status_code == 304
    head = await client.head("/")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == "12"
    assert await head.get_data() == b""
    assert all(file.closed for file in opened) and len(opened) == 2


async def test_file_object_without_a_name_needs_a_mimetype(app: Quaver) -> None:
    async with app.test_request_context("/"):
        with pytest.raises(TypeError):
            await send_file(io.BytesIO(b"?"))
        with pytest.raises(TypeError):
            await send_file(io.BytesIO(b"?"), mimetype="text/plain", as_attachment=True)
        response = await send_file(io.BytesIO(b"?"), download_name="q.json")
        assert response.mimetype == "application/json"


async def test_text_mode_file_is_refused(app: Quaver, site: Path) -> None:
    async with app.test_request_context("/"):
        with open(site / "public" / "notes.txt") as text:
            with pytest.raises(ValueError):
                await send_file(text)


# --- chunks, and the pathsend extension ---------------------------------------------------------------


async def test_big_file_is_sent_in_chunks(app: Quaver, client, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1024 * 1024))

    @app.get("/")
    async def index():
        return await send_file(big)

    sizes = []
    async with client.request("/") as connection:
        await connection.send_complete()
        while chunk := await connection.receive():
            sizes.append(len(chunk))
    assert sum(sizes) == 1024 * 1024
    assert len(sizes) >= 8 and max(sizes) <= 256 * 1024


async def _call_with(app: Quaver, path: str, headers=(), extensions=None) -> list[dict]:
    """Call the app as a server offering ``extensions`` would; return what it sent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 1), "server": ("localhost", 80),
        "extensions": extensions or {},
    }
    sent: list[dict] = []
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_whole_file_goes_as_pathsend_where_the_server_offers_it(files_app: Quaver, site: Path) -> None:
    sent = await _call_with(files_app, "/files/data.bin", extensions={"http.response.pathsend": {}})
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.pathsend"]
    assert sent[1]["path"] == str(site / "public" / "data.bin")
    assert (b"content-length", str(len(CONTENT)).encode()) in sent[0]["headers"]


async def test_pathsend_path_is_the_resolved_file_inside_the_directory(files_app: Quaver, site: Path) -> None:
    sent = await _call_with(files_app, "/files/link-in.txt", extensions={"http.response.pathsend": {}})
    assert sent[1] == {"type": "http.response.pathsend", "path": str(site / "public" / "notes.txt")}


async def test_range_is_read_here_even_with_pathsend(files_app: Quaver) -> None:
    sent = await _call_with(
        files_app, "/files/data.bin", headers=[(b"range", b"bytes=10-19")], extensions={"http.response.pathsend": {}}
    )
    assert sent[0]["status"] == 206
    assert [message["type"] for message in sent[1:]] == ["http.response.body"]
    assert sent[1]["body"] == CONTENT[10:20]


async def test_without_pathsend_the_file_is_read_and_sent(files_app: Quaver) -> None:
    sent = await _call_with(files_app, "/files/data.bin")
    assert all(message["type"] != "http.response.pathsend" for message in sent)
    assert b"".join(message.get("body", b"") for message in sent[1:]) == CONTENT


# --- conditional and range requests, through the test client --------------------------


async def test_if_none_match_gets_304_without_a_body(files_app: Quaver, client) -> None:
    etag = (await client.get("/files/data.bin")).headers["ETag"]
    response = await client.get("/files/data.bin", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert await response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert "Content-Length" not in response.headers


async def test_if_modified_since_gets_304_and_an_older_date_gets_the_file(
    files_app: Quaver, client, site: Path
) -> None:
    mtime = (site / "public" / "data.bin").stat().st_mtime
    fresh = await client.get("/files/data.bin", headers={"If-Modified-Since": http_date(mtime)})
    assert fresh.status_code == 304
    stale = await client.get("/files/data.bin", headers={"If-Modified-Since": http_date(mtime - 3600)})
    assert stale.status_code == 200
    assert await stale.get_data() == CONTENT


async def test_if_match_other_etag_gets_412(files_app: Quaver, client) -> None:
    response = await client.get("/files/data.bin", headers={"If-Match": '"other"'})
    assert response.status_code == 412
    assert await response.get_data() == b""


async def test_if_none_match_wins_over_range(files_app: Quaver, client) -> None:
    etag = (await client.get("/files/data.bin")).headers["ETag"]
    response = await client.get("/files/data.bin", headers={"If-None-Match": etag, "Range": "bytes=0-9"})
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("asked", "start", "stop"),
    [("bytes=0-0", 0, 1), ("bytes=100-299", 100, 300), ("bytes=10000-", 10000, 10240), ("bytes=-40", 10200, 10240),
     ("bytes=10200-99999", 10200, 10240)],
)
async def test_range_gets_206_with_that_slice(files_app: Quaver, client, asked: str, start: int, stop: int) -> None:
    response = await client.get("/files/data.bin", headers={"Range": asked})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/10240"
    assert response.headers["Content-Length"] == str(stop - start)
    assert await response.get_data() == CONTENT[start:stop]


async def test_unsatisfiable_range_gets_416(files_app: Quaver, client) -> None:
    response = await client.get("/files/data.bin", headers={"Range": "bytes=20000-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10240"


async def test_stale_if_range_gets_the_whole_file(files_app: Quaver, client) -> None:
    response = await client.get("/files/data.bin", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert response.status_code == 200
    assert await response.get_data() == CONTENT


async def test_current_if_range_gets_the_range(files_app: Quaver, client) -> None:
    first = await client.get("/files/data.bin")
    for validator in (first.headers["ETag"], first.headers["Last-Modified"]):
        response = await client.get("/files/data.bin", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert response.status_code == 206
        assert await response.get_data() == CONTENT[:10]


async def test_conditional_false_ignores_range_and_validators(app: Quaver, client, site: Path) -> None:
    @app.get("/")
    async def index():
        return await send_file(site / "public" / "data.bin", conditional=False, etag="x")

    response = await client.get("/", headers={"Range": "bytes=0-1", "If-None-Match": '"x"'})
    assert response.status_code == 200
    assert await response.get_data() == CONTENT
    assert "Accept-Ranges" not in response.headers


# --- send_from_directory ----------------------------------------------------------------


async def test_files_in_the_directory_and_its_subfolders_are_served(files_app: Quaver, client) -> None:
    assert await (await client.get("/files/notes.txt")).get_data() == b"plain notes\n"
    assert await (await client.get("/files/sub/inner.txt")).get_data() == b"inner"
    assert await (await client.get("/by-arg?name=sub/inner.txt")).get_data() == b"inner"


async def test_symlink_to_a_file_inside_is_served_under_its_own_name(files_app: Quaver, client) -> None:
    response = await client.get("/files/link-in.txt")
    assert await response.get_data() == b"plain notes\n"
    assert response.headers["Content-Disposition"] == "inline; filename=link-in.txt"


@pytest.mark.parametrize(
    "name",
    ["absent.txt", "sub", "sub/", "../secret.txt", "sub/../../secret.txt", "link-out.txt", "link-dir/secret.txt",
     "notes.txt\x00.png", ""],
)
async def test_anything_not_a_file_inside_the_directory_is_404(files_app: Quaver, client, name: str) -> None:
    response = await client.get("/by-arg", query_string={"name": name})
    assert response.status_code == 404
    assert b"SECRET" not in await response.get_data()


async def test_absolute_path_is_404_even_when_the_file_exists(files_app: Quaver, site: Path) -> None:
    async with files_app.test_request_context("/"):
        with pytest.raises(NotFound):
            await send_from_directory(site / "public", str(site / "secret.txt"))
        with pytest.raises(NotFound):
            await send_from_directory(site / "public", str(site / "public" / "notes.txt"))


# --- through Uvicorn and httpx ------------------------------------------------------------


TRAVERSALS = [
    b"/files/../secret.txt",
    b"/files/%2e%2e/secret.txt",
    b"/files/%2E%2E%2Fsecret.txt",
    b"/files/..%2fsecret.txt",
    b"/files/sub/..%2F..%2Fsecret.txt",
    b"/files/%2e%2e%5csecret.txt",
    b"/files/link-out.txt",
    b"/files/link-dir/secret.txt",
    b"/files/notes.txt%00",
]


async def test_every_traversal_attempt_gets_404_from_a_real_server(files_app: Quaver, free_port: int) -> None:
    async with uvicorn_serving(files_app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/files/notes.txt")).status_code == 200
        for target in TRAVERSALS:
            response = await client.get("/", extensions={"target": target})
            assert (target, response.status_code) == (target, 404)
            assert b"SECRET" not in response.content


async def test_absolute_path_in_the_url_never_reaches_the_file(files_app: Quaver, free_port: int, site: Path) -> None:
    # '//' in a path is merged by routing (a redirect, as in Flask); wherever it leads, it is 404.
    absolute = str(site / "secret.txt").encode()
    async with uvicorn_serving(files_app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        for target in (b"/files/" + absolute, b"/files/" + absolute.replace(b"/", b"%2F")):
            response = await client.get("/", extensions={"target": target})
            if response.is_redirect:  # followed by hand: httpx would resend the raw target
                response = await client.get(response.headers["location"])
            assert (target, response.status_code) == (target, 404)
            assert b"SECRET" not in response.content


async def test_ranges_and_304s_from_a_real_server(files_app: Quaver, free_port: int) -> None:
    async with uvicorn_serving(files_app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        whole = await client.get("/files/data.bin")
        assert whole.status_code == 200
        assert whole.content == CONTENT
        assert whole.headers["accept-ranges"] == "bytes"

        part = await client.get("/files/data.bin", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == "bytes 1000-1999/10240"
        assert part.content == CONTENT[1000:2000]

        tail = await client.get("/files/data.bin", headers={"Range": "bytes=-10"})
        assert (tail.status_code, tail.content) == (206, CONTENT[-10:])

        assert (await client.get("/files/data.bin", headers={"Range": "bytes=99999-"})).status_code == 416

        not_modified = await client.get("/files/data.bin", headers={"If-None-Match": whole.headers["etag"]})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        since = await client.get("/files/data.bin", headers={"If-Modified-Since": whole.headers["last-modified"]})
        assert since.status_code == 304

        head = await client.head("/files/data.bin")
        assert (head.status_code, head.headers["content-length"], head.content) == (200, "10240", b"")


async def test_big_file_download_from_a_real_server_is_whole(app: Quaver, free_port: int, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    payload = os.urandom(3 * 1024 * 1024 + 17)
    big.write_bytes(payload)

    @app.get("/big")
    async def download():
        return await send_file(big)

    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient() as client:
        response = await client.get(url + "/big")
        middle = await client.get(url + "/big", headers={"Range": "bytes=1000000-2000000"})
    assert response.content == payload
    assert middle.content == payload[1000000:2000001]


class _CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    read_so_far = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.read_so_far += len(data)
        return data


async def test_client_leaving_a_big_download_stops_the_reading(app: Quaver, free_port: int, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    size = 256 * 1024 * 1024
    with open(big, "wb") as file:
        file.truncate(size)  # sparse: big, but nothing to write
    opened: list[_CountingFile] = []

    @app.get("/big")
    async def download():
        opened.append(_CountingFile(big))
        return await send_file(opened[-1], mimetype="application/octet-stream")

    async with uvicorn_serving(app, free_port) as url:
        before = asyncio.all_tasks()
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", url + "/big") as response:
                async for _ in response.aiter_raw():
                    break
        deadline = time.monotonic() + 5
        while not opened[0].closed and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert opened[0].closed
        assert opened[0].read_so_far < size // 4
        assert {task for task in asyncio.all_tasks() - before if not task.done()} <= {asyncio.current_task()}


async def test_last_modified_is_whole_seconds(app: Quaver, client, site: Path) -> None:
    path = site / "public" / "notes.txt"
    os.utime(path, (1_600_000_000.75, 1_600_000_000.75))

    @app.get("/")
    async def index():
        return await send_file(path)

    response = await client.get("/")
    assert parse_date(response.headers["Last-Modified"]).timestamp() == 1_600_000_000
    again = await client.get("/", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert again.status_code == 304


# --- Response.make_conditional beyond files --------------------------------------------


def _validated_app(app: Quaver, weak: bool = False, status: int = 200) -> None:
    from quaver import Response

    @app.get("/doc")
    async def doc():
        response = Response("0123456789", status=status, mimetype="text/plain")
        response.set_etag("v1", weak=weak)
        response.last_modified = datetime(2020, 1, 1, tzinfo=UTC)
        return await response.make_conditional(request, accept_ranges=True)


async def test_if_unmodified_since_before_last_modified_gets_412(app: Quaver, client) -> None:
    _validated_app(app)
    stale = await client.get("/doc", headers={"If-Unmodified-Since": "Tue, 31 Dec 2019 00:00:00 GMT"})
    assert (stale.status_code, await stale.get_data()) == (412, b"")
    fresh = await client.get("/doc", headers={"If-Unmodified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"})
    assert (fresh.status_code, await fresh.get_data()) == (200, b"0123456789")


async def test_weak_etag_matches_if_none_match_but_not_if_match_or_if_range(app: Quaver, client) -> None:
    _validated_app(app, weak=True)
    assert (await client.get("/doc", headers={"If-None-Match": '"v1"'})).status_code == 304
    assert (await client.get("/doc", headers={"If-Match": 'W/"v1"'})).status_code == 412
    ranged = await client.get("/doc", headers={"Range": "bytes=0-1", "If-Range": 'W/"v1"'})
    assert (ranged.status_code, await ranged.get_data()) == (200, b"0123456789")


async def test_if_match_with_the_current_etag_or_star_passes(app: Quaver, client) -> None:
    _validated_app(app)
    assert (await client.get("/doc", headers={"If-Match": '"other", "v1"'})).status_code == 200
    assert (await client.get("/doc", headers={"If-Match": "*"})).status_code == 200


async def test_an_error_response_is_not_made_conditional(app: Quaver, client) -> None:
    _validated_app(app, status=404)
    response = await client.get("/doc", headers={"If-None-Match": '"v1"', "Range": "bytes=0-1"})
    assert (response.status_code, await response.get_data()) == (404, b"0123456789")


async def test_streamed_body_with_a_complete_length_is_cut_to_the_range(app: Quaver, client) -> None:
    from quaver import Response

    @app.get("/stream")
    async def stream():
        async def generate():
            yield b"01234"
            yield b"56789"

        return await Response(generate()).make_conditional(request, accept_ranges=True, complete_length=10)

    part = await client.get("/stream", headers={"Range": "bytes=3-6"})
    assert (part.status_code, part.headers["Content-Range"], await part.get_data()) == (206, "bytes 3-6/10", b"3456")
    whole = await client.get("/stream")
    assert (whole.headers["Content-Length"], await whole.get_data()) == ("10", b"0123456789")


# --- send_file with an app context only, and Quart's argument names ----------------------------


async def test_send_file_works_with_an_app_context_alone(app: Quaver, site: Path) -> None:
    async with app.app_context():
        response = await send_file(site / "public" / "notes.txt")
    assert response.status_code == 200
    assert await response.get_data() == b"plain notes\n"
    assert response.mimetype == "text/plain"
    stamp = (site / "public" / "notes.txt").stat().st_mtime
    assert response.last_modified == datetime.fromtimestamp(int(stamp), tz=UTC)
    assert response.cache_control.max_age == 12 * 60 * 60  # SEND_FILE_MAX_AGE_DEFAULT


async def test_outside_a_request_a_range_is_not_applied(app: Quaver) -> None:
    async with app.app_context():
        response = await send_file(io.BytesIO(b"abcdef"), mimetype="text/plain")
    assert (response.status_code, await response.get_data()) == (200, b"abcdef")


async def test_unguessable_mimetype_is_both_a_type_and_a_value_error(app: Quaver) -> None:
    async with app.app_context():
        with pytest.raises(TypeError):
            await send_file(io.BytesIO(b"?"))
        with pytest.raises(ValueError):
            await send_file(io.BytesIO(b"?"))


async def test_quart_argument_names_are_accepted(app: Quaver, site: Path) -> None:
    async with app.app_context():
        response = await send_file(
            site / "public" / "data.bin",
            as_attachment=True,
            attachment_filename="report.html",
            add_etags=False,
            cache_timeout=60,
        )
    assert response.headers["Content-Disposition"] == "attachment; filename=report.html"
    assert response.mimetype == "text/html"
    assert "ETag" not in response.headers
    assert response.cache_control.max_age == 60
