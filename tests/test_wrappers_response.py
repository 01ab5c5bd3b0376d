"""The Response object: body access, headers, cookies, caching and conditional answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from quaver import Quaver, Response, request

# --- construction and body ---------------------------------------------------------


async def test_new_response_defaults() -> None:
    response = Response("hello")
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == "5"
    assert await response.get_data() == b"hello"


async def test_empty_response_has_zero_content_length() -> None:
    response = Response()
    assert response.headers["Content-Length"] == "0"
    assert await response.get_data() == b""


async def test_status_can_be_set_by_code_or_string() -> None:
    response = Response("x", status=404)
    assert response.status == "404 NOT FOUND"
    response.status = "201 CREATED"
    assert response.status_code == 201
    response.status_code = 418
    assert response.status == "418 I'M A TEAPOT"


async def test_mimetype_and_content_type_arguments() -> None:
    assert Response("x", mimetype="text/plain").headers["Content-Type"] == "text/plain; charset=utf-8"
    assert Response(b"x", mimetype="image/png").headers["Content-Type"] == "image/png"
    assert Response("x", content_type="text/csv; charset=latin-1").mimetype == "text/csv"


async def test_get_data_as_text_and_awaitable_data() -> None:
    response = Response("caf\u00e9".encode())
    assert await response.get_data(as_text=True) == "caf\u00e9"
    assert await response.data == "caf\u00e9".encode()


async def test_set_data_replaces_body_and_content_length() -> None:
    response = Response("short")
    response.set_data("a longer body")
    assert response.headers["Content-Length"] == "13"
    response.data = b"xy"
    assert response.headers["Content-Length"] == "2"
    assert await response.get_data() == b"xy"


async def test_body_from_a_list_of_chunks() -> None:
    response = Response(["a", b"b", "c"])
    assert await response.get_data() == b"abc"


async def test_body_from_an_async_generator_can_be_read_twice() -> None:
    async def generate():
        yield b"one "
        yield "two"

    response = Response(generate())
    assert response.is_streamed
    assert await response.get_data() == b"one two"
    assert await response.get_data() == b"one two"


async def test_body_from_a_sync_generator() -> None:
    response = Response(str(n) for n in range(3))
    assert await response.get_data() == b"012"


async def test_view_modifies_returned_response_in_after_request(app: Quaver, client) -> None:
    @app.after_request
    async def stamp(response):
        response.headers["X-Stamp"] = "after"
        body = await response.get_data()
        response.set_data(body + b"!")
        return response

    @app.get("/")
    async def index():
        return "hi"

    response = await client.get("/")
    assert response.headers["X-Stamp"] == "after"
    assert response.headers["Content-Length"] == "3"
    assert await response.get_data() == b"hi!"


async def test_after_request_can_read_a_streamed_body(app: Quaver, client) -> None:
    @app.after_request
    async def measure(response):
        response.headers["X-Length"] = str(len(await response.get_data()))
        return response

    @app.get("/")
    async def index():
        async def generate():
            yield b"abc"
            yield b"de"

        return generate()

    response = await client.get("/")
    assert response.headers["X-Length"] == "5"
    assert await response.get_data() == b"abcde"


# --- JSON ----------------------------------------------------------------------------------


async def test_get_json_of_a_json_response() -> None:
    response = Response(json.dumps({"a": [1]}), mimetype="application/json")
    assert response.is_json
    assert await response.get_json() == {"a": [1]}
    assert await response.json == {"a": [1]}


async def test_get_json_of_a_non_json_response_is_none_unless_forced() -> None:
    response = Response('{"a": 1}', mimetype="text/plain")
    assert await response.get_json() is None
    assert await response.get_json(force=True) == {"a": 1}


async def test_get_json_of_malformed_json_raises_unless_silent() -> None:
    response = Response("{bad", mimetype="application/json")
    with pytest.raises(ValueError):
        await response.get_json()
    assert await response.get_json(silent=True) is None


# --- headers ---------------------------------------------------------------------------------


async def test_headers_can_repeat_and_be_replaced(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("x")
        response.headers.add("X-Many", "1")
        response.headers.add("X-Many", "2")
        response.headers["X-One"] = "a"
        response.headers["X-One"] = "b"
        return response

    response = await client.get("/")
    assert response.headers.getlist("X-Many") == ["1", "2"]
    assert response.headers.getlist("X-One") == ["b"]


async def test_location_and_content_language_properties(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("moved", status=303)
        response.location = "/elsewhere"
        response.content_language.add("en-GB")
        return response

    response = await client.get("/")
    assert response.headers["Location"] == "/elsewhere"
    assert response.headers["Content-Language"] == "en-GB"


# --- cookies -----------------------------------------------------------------------------------


async def test_set_cookie_sends_set_cookie_header(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("x")
        response.set_cookie("token", "abc", max_age=60, httponly=True, secure=True, samesite="Lax")
        return response

    response = await client.get("/")
    header = response.headers["Set-Cookie"]
    assert header.startswith("token=abc;")
    for part in ("Max-Age=60", "HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert part in header


async def test_cookie_set_by_a_response_is_sent_back_by_the_client(app: Quaver, client) -> None:
    @app.get("/set")
    async def set_it():
        response = Response("set")
        response.set_cookie("flavour", "ginger")
        return response

    @app.get("/read")
    async def read_it():
        return request.cookies.get("flavour", "none")

    await client.get("/set")
    response = await client.get("/read")
    assert await response.get_data() == b"ginger"


async def test_delete_cookie_expires_it_and_the_client_forgets_it(app: Quaver, client) -> None:
    @app.get("/set")
    async def set_it():
        response = Response("set")
        response.set_cookie("flavour", "ginger")
        return response

    @app.get("/delete")
    async def delete_it():
        response = Response("deleted")
        response.delete_cookie("flavour")
        return response

    @app.get("/read")
    async def read_it():
        return request.cookies.get("flavour", "none")

    await client.get("/set")
    deleted = await client.get("/delete")
    header = deleted.headers["Set-Cookie"]
    assert header.startswith("flavour=;")
    assert "Max-Age=0" in header
    assert "1970" in header
    assert await (await client.get("/read")).get_data() == b"none"


async def test_several_cookies_are_separate_headers(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("x")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", path="/sub")
        return response

    response = await client.get("/")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("a=1;")
    assert cookies[1].startswith("b=2;") and "Path=/sub" in cookies[1]


# --- caching headers --------------------------------------------------------------------------


async def test_cache_control_directives_become_the_header(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("x")
        response.cache_control.max_age = 60
        response.cache_control.public = True
        response.cache_control.no_store = True
        return response

    response = await client.get("/")
    directives = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert directives == {"max-age=60", "public", "no-store"}


async def test_expires_and_last_modified_are_http_dates(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = Response("x")
        response.expires = datetime(2030, 1, 1, tzinfo=UTC)
        response.last_modified = datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
        return response

    response = await client.get("/")
    assert response.headers["Expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    assert response.headers["Last-Modified"] == "Wed, 06 May 2020 07:08:09 GMT"


async def test_add_etag_hashes_the_body() -> None:
    first = Response("same body")
    second = Response("same body")
    other = Response("another body")
    for response in (first, second, other):
        await response.add_etag()
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["ETag"] != other.headers["ETag"]
    assert first.get_etag()[1] is False


async def test_add_etag_keeps_an_existing_etag_unless_overwrite() -> None:
    response = Response("body")
    response.set_etag("mine")
    await response.add_etag()
    assert response.headers["ETag"] == '"mine"'
    await response.add_etag(overwrite=True)
    assert response.headers["ETag"] != '"mine"'


async def test_add_etag_weak() -> None:
    response = Response("body")
    await response.add_etag(weak=True)
    assert response.headers["ETag"].startswith('W/"')


async def test_add_etag_of_a_streamed_body() -> None:
    async def generate():
        yield b"same "
        yield b"body"

    streamed = Response(generate())
    await streamed.add_etag()
    whole = Response(b"same body")
    await whole.add_etag()
    assert streamed.headers["ETag"] == whole.headers["ETag"]


# --- conditional responses ---------------------------------------------------------------------


def _conditional_app(app: Quaver) -> None:
    @app.route("/doc", methods=["GET", "HEAD", "POST"])
    async def doc():
        response = Response("0123456789", mimetype="text/plain")
        await response.add_etag()
        response.last_modified = datetime(2020, 1, 1, tzinfo=UTC)
        return await response.make_conditional(request, accept_ranges=True)


async def _etag(client) -> str:
    return (await client.get("/doc")).headers["ETag"]


async def test_if_none_match_with_current_etag_gets_304(app: Quaver, client) -> None:
    _conditional_app(app)
    etag = await _etag(client)
    response = await client.get("/doc", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    assert await response.get_data() == b""


async def test_if_none_match_with_other_etag_gets_200(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"If-None-Match": '"not-it"'})
    assert response.status_code == 200
    assert await response.get_data() == b"0123456789"


async def test_if_none_match_star_gets_304(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"If-None-Match": "*"})
    assert response.status_code == 304


async def test_if_modified_since_not_modified_gets_304(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"If-Modified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"})
    assert response.status_code == 304


async def test_if_modified_since_before_last_modified_gets_200(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"If-Modified-Since": "Tue, 31 Dec 2019 00:00:00 GMT"})
    assert response.status_code == 200
    assert await response.get_data() == b"0123456789"


async def test_if_match_with_other_etag_gets_412(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"If-Match": '"other"'})
    assert response.status_code == 412


async def test_conditional_headers_are_ignored_for_post(app: Quaver, client) -> None:
    _conditional_app(app)
    etag = await _etag(client)
    response = await client.post("/doc", headers={"If-None-Match": etag})
    assert response.status_code == 200


async def test_make_conditional_adds_date_and_accept_ranges(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc")
    assert response.status_code == 200
    assert "Date" in response.headers
    assert response.headers["Accept-Ranges"] == "bytes"


async def test_range_gets_206_with_the_slice(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"Range": "bytes=2-4"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 2-4/10"
    assert response.headers["Content-Length"] == "3"
    assert await response.get_data() == b"234"


async def test_open_ended_and_suffix_ranges(app: Quaver, client) -> None:
    _conditional_app(app)
    tail = await client.get("/doc", headers={"Range": "bytes=7-"})
    assert (tail.status_code, tail.headers["Content-Range"], await tail.get_data()) == (206, "bytes 7-9/10", b"789")
    suffix = await client.get("/doc", headers={"Range": "bytes=-3"})
    assert (suffix.status_code, suffix.headers["Content-Range"], await suffix.get_data()) == (
        206,
        "bytes 7-9/10",
        b"789",
    )


async def test_range_past_the_end_is_clipped(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"Range": "bytes=8-100"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 8-9/10"
    assert await response.get_data() == b"89"


async def test_unsatisfiable_range_gets_416(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"Range": "bytes=20-30"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"


async def test_multiple_ranges_get_416(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"Range": "bytes=0-1,4-5"})
    assert response.status_code == 416


async def test_range_with_matching_if_range_gets_206(app: Quaver, client) -> None:
    _conditional_app(app)
    etag = await _etag(client)
    response = await client.get("/doc", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert response.status_code == 206
    assert await response.get_data() == b"01"


async def test_range_with_stale_if_range_gets_the_whole_body(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get("/doc", headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert response.status_code == 200
    assert await response.get_data() == b"0123456789"


async def test_range_is_ignored_without_accept_ranges(app: Quaver, client) -> None:
    @app.get("/plain")
    async def plain():
        return await Response("0123456789").make_conditional(request)

    response = await client.get("/plain", headers={"Range": "bytes=0-1"})
    assert response.status_code == 200
    assert "Accept-Ranges" not in response.headers
    assert await response.get_data() == b"0123456789"


async def test_range_on_a_streamed_body(app: Quaver, client) -> None:
    @app.get("/stream")
    async def stream():
        async def generate():
            yield b"abc"
            yield b"def"

        return await Response(generate()).make_conditional(request, accept_ranges=True)

    response = await client.get("/stream", headers={"Range": "bytes=2-3"})
    assert response.status_code == 206
    assert await response.get_data() == b"cd"


async def test_head_with_range_gets_206_headers_and_no_body(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.head("/doc", headers={"Range": "bytes=2-4"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 2-4/10"
    assert await response.get_data() == b""


@pytest.mark.parametrize("asked", ["lines=1-2", "bytes=oops"])
async def test_range_in_an_unknown_unit_or_malformed_gets_416(app: Quaver, client, asked: str) -> None:
    _conditional_app(app)  # as Werkzeug (Flask) and Quart answer it
    response = await client.get("/doc", headers={"Range": asked})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"


async def test_range_with_if_range_date_matching_last_modified_gets_206(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get(
        "/doc", headers={"Range": "bytes=0-0", "If-Range": "Wed, 01 Jan 2020 00:00:00 GMT"}
    )
    assert response.status_code == 206
    assert await response.get_data() == b"0"


async def test_range_with_if_range_date_before_last_modified_gets_the_whole_body(app: Quaver, client) -> None:
    _conditional_app(app)
    response = await client.get(
        "/doc", headers={"Range": "bytes=0-0", "If-Range": "Tue, 31 Dec 2019 00:00:00 GMT"}
    )
    assert response.status_code == 200
    assert await response.get_data() == b"0123456789"


async def test_response_without_validators_is_never_304(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return await Response("x").make_conditional(request)

    response = await client.get("/", headers={"If-None-Match": '"anything"'})
    assert response.status_code == 200
    assert await response.get_data() == b"x"


async def test_body_from_a_file_like_iterator_is_streamed(app: Quaver, client, tmp_path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"line one\nline two\n")

    @app.get("/")
    async def index():
        return Response(open(path, "rb"), mimetype="text/plain")

    response = await client.get("/")
    assert await response.get_data() == b"line one\nline two\n"


async def test_a_location_set_any_way_goes_out_percent_encoded(app: Quaver, client) -> None:
    @app.get("/by-hand")
    async def by_hand():
        return "", 301, {"Location": "/café au lait"}

    @app.get("/app-redirect")
    async def app_redirect():
        return app.redirect("/€/x y")

    response = await client.get("/by-hand")
    assert response.status_code == 301
    assert response.headers["Location"] == "/caf%C3%A9%20au%20lait"
    response = await client.get("/app-redirect")
    assert response.headers["Location"] == "/%E2%82%AC/x%20y"


# --- Quart's body wrappers -------------------------------------------------------------------


async def _read_wrapper(wrapper) -> list[bytes]:
    chunks = []
    async with wrapper as body:
        async for chunk in body:
            chunks.append(chunk)
    return chunks


async def test_body_wrappers_are_entered_then_iterated(tmp_path) -> None:
    import io

    from quaver.wrappers.response import DataBody, FileBody, IOBody, IterableBody

    async def generate():
        yield b"ab"
        yield b"cd"

    path = tmp_path / "four.txt"
    path.write_bytes(b"wxyz")
    assert await _read_wrapper(DataBody(b"whole")) == [b"whole"]
    assert await _read_wrapper(IterableBody([b"a", b"b"])) == [b"a", b"b"]
    assert await _read_wrapper(IterableBody(iter([b"c", b"d"]))) == [b"c", b"d"]
    assert await _read_wrapper(IterableBody(generate())) == [b"ab", b"cd"]
    assert await _read_wrapper(FileBody(path, buffer_size=3)) == [b"wxy", b"z"]
    stream = io.BytesIO(b"12345")
    stream.seek(5)
    assert await _read_wrapper(IOBody(stream, buffer_size=2)) == [b"12", b"34", b"5"]
    assert not stream.closed  # a BytesIO handed to IOBody is the caller's to close


async def test_leaving_an_iterable_body_closes_its_generator() -> None:
    from quaver.wrappers.response import IterableBody

    closed = []

    async def generate():
        try:
            yield b"first"
            yield b"never read"
        finally:
            closed.append(True)

    async with IterableBody(generate()) as body:
        async for _ in body:
            break
    assert closed == [True]


async def test_body_wrappers_cut_themselves_to_a_range(tmp_path) -> None:
    from werkzeug.exceptions import RequestedRangeNotSatisfiable

    from quaver.wrappers.response import DataBody, FileBody

    data = DataBody(b"abcdef")
    assert await data.make_conditional(1, 3) == 6
    assert await _read_wrapper(data) == [b"bc"]
    path = tmp_path / "six.txt"
    path.write_bytes(b"abcdef")
    file = FileBody(path)
    assert await file.make_conditional(4, None) == 6
    assert (file.begin, file.end) == (4, 6)
    assert await _read_wrapper(file) == [b"ef"]
    with pytest.raises(RequestedRangeNotSatisfiable):
        await DataBody(b"abc").make_conditional(5, 8)


async def test_a_response_sends_a_body_wrapper(app: Quaver, client, tmp_path) -> None:
    from quaver.wrappers.response import DataBody, FileBody

    path = tmp_path / "doc.txt"
    path.write_bytes(b"0123456789")

    @app.get("/data")
    async def data():
        return Response(DataBody(b"in memory"))

    @app.get("/file")
    async def file():
        return await Response(FileBody(path), mimetype="text/plain").make_conditional(request, accept_ranges=True)

    assert await (await client.get("/data")).get_data() == b"in memory"
    part = await client.get("/file", headers={"Range": "bytes=2-4"})
    assert (part.status_code, part.headers["Content-Range"], await part.get_data()) == (206, "bytes 2-4/10", b"234")


async def test_a_complete_length_alone_lets_a_range_be_answered() -> None:
    from werkzeug.datastructures import Headers

    from quaver.wrappers import Request

    scope = {"type": "http", "headers": [], "client": None, "server": None}
    asked = Request("GET", "http", "/", b"", Headers({"Range": "bytes=0-99"}), "", "1.1", scope)
    response = await Response(b"abcdef").make_conditional(asked, complete_length=6)
    assert response.status_code == 206  # as in Quart; the range is clipped to the body
    assert response.headers["Content-Range"] == "bytes 0-5/6"
    assert await response.get_data() == b"abcdef"


async def test_iter_encode_gives_a_streamed_bodys_chunks_as_bytes() -> None:
    async def words():
        yield "tea "
        yield b"and "
        yield "cake"

    response = Response(words())
    assert [chunk async for chunk in response.iter_encode()] == [b"tea ", b"and ", b"cake"]
    assert [chunk async for chunk in Response("whole").iter_encode()] == [b"whole"]


def test_an_io_body_names_its_stream_io_stream() -> None:
    import io

    from quaver.wrappers.response import IOBody

    stream = io.BytesIO(b"12345")
    assert IOBody(stream).io_stream is stream
