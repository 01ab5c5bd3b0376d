"""The Request object as a view sees it: body, JSON, forms, files, URL parts and limits."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from quaver import Blueprint, Quaver, request

# --- body ------------------------------------------------------------------


async def test_get_data_returns_the_body_bytes(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        data = await request.get_data()
        return repr((type(data).__name__, data))

    response = await client.post("/", data=b"raw \xff bytes")
    assert await response.get_data(as_text=True) == repr(("bytes", b"raw \xff bytes"))


async def test_get_data_as_text_decodes_utf8(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        text = await request.get_data(as_text=True)
        return repr((type(text).__name__, text))

    response = await client.post("/", data="caf\u00e9".encode())
    assert await response.get_data(as_text=True) == repr(("str", "caf\u00e9"))


async def test_get_data_can_be_called_again_and_returns_the_same_body(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        first = await request.get_data()
        second = await request.get_data()
        json_body = await request.get_json()
        return {"same": first == second, "first": first.decode(), "json": json_body}

    response = await client.post("/", data=b'{"a":1}', headers={"Content-Type": "application/json"})
    assert await response.get_json() == {"same": True, "first": '{"a":1}', "json": {"a": 1}}


async def test_request_data_is_awaitable(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return await request.data

    response = await client.post("/", data=b"payload")
    assert await response.get_data() == b"payload"


async def test_empty_body_reads_as_empty_bytes(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"data": (await request.get_data()).decode(), "len": request.content_length}

    response = await client.post("/")
    assert await response.get_json() == {"data": "", "len": None}


async def test_body_iterates_in_the_chunks_the_client_sent(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        chunks = [chunk async for chunk in request.body]
        return {"chunks": [c.decode() for c in chunks]}

    async with client.request("/", method="POST") as connection:
        await connection.send(b"one")
        await connection.send(b"two")
        await connection.send(b"three")
        await connection.send_complete()
        response = await connection.as_response()
    assert await response.get_json() == {"chunks": ["one", "two", "three"]}


async def test_awaiting_the_body_gathers_all_chunks(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return await request.body

    async with client.request("/", method="POST") as connection:
        await connection.send(b"ab")
        await connection.send(b"cd")
        await connection.send_complete()
        response = await connection.as_response()
    assert await response.get_data() == b"abcd"


async def test_view_reads_chunks_as_they_arrive_before_the_body_completes(app: Quaver, client) -> None:
    seen: list[bytes] = []
    first_chunk_read = asyncio.Event()

    @app.post("/")
    async def index():
        async for chunk in request.body:
            seen.append(chunk)
            first_chunk_read.set()
        return str(len(seen))

    async with client.request("/", method="POST") as connection:
        await connection.send(b"early")
        await asyncio.wait_for(first_chunk_read.wait(), 5)
        assert seen == [b"early"]
        await connection.send(b"late")
        await connection.send_complete()
        response = await connection.as_response()
    assert await response.get_data() == b"2"


# --- JSON ------------------------------------------------------------------


async def test_get_json_parses_a_json_body(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        body = await request.get_json()
        return {"got": body, "is_json": request.is_json}

    response = await client.post("/", json={"name": "quaver", "n": [1, 2]})
    assert await response.get_json() == {"got": {"name": "quaver", "n": [1, 2]}, "is_json": True}


async def test_request_json_is_awaitable(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.json}

    response = await client.post("/", json=[1, "two"])
    assert await response.get_json() == {"got": [1, "two"]}


async def test_json_with_vendor_content_type_is_parsed(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.get_json()}

    response = await client.post(
        "/", data=b'{"x": 1}', headers={"Content-Type": "application/vnd.api+json; charset=utf-8"}
    )
    assert await response.get_json() == {"got": {"x": 1}}


async def test_malformed_json_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.get_json()
        return "unreachable"

    response = await client.post("/", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_json_that_is_not_utf8_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.get_json()
        return "unreachable"

    response = await client.post("/", data=b'"\xff\xfe"', headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_get_json_on_non_json_content_type_gets_415(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.get_json()
        return "unreachable"

    response = await client.post("/", data=b'{"a": 1}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


async def test_awaiting_request_json_on_a_form_gets_415(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.json
        return "unreachable"

    response = await client.post("/", form={"a": "1"})
    assert response.status_code == 415


async def test_get_json_silent_returns_none_for_non_json_content_type(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.get_json(silent=True)}

    response = await client.post("/", data=b'{"a": 1}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert await response.get_json() == {"got": None}


async def test_get_json_silent_returns_none_for_malformed_json(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.get_json(silent=True)}

    response = await client.post("/", data=b"[1,", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert await response.get_json() == {"got": None}


async def test_get_json_force_parses_whatever_the_content_type(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.get_json(force=True)}

    response = await client.post("/", data=b'{"forced": true}', headers={"Content-Type": "text/plain"})
    assert await response.get_json() == {"got": {"forced": True}}


async def test_get_json_force_on_malformed_body_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.get_json(force=True)
        return "unreachable"

    response = await client.post("/", data=b"nope")
    assert response.status_code == 400


async def test_silent_failure_then_loud_call_still_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        assert await request.get_json(silent=True) is None
        await request.get_json()
        return "unreachable"

    response = await client.post("/", data=b"{bad", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_json_null_body_is_none_and_parsed_once(app: Quaver, client) -> None:
    calls = []

    @app.post("/")
    async def index():
        loads = request.json_module.loads

        def counting(data, **kwargs):
            calls.append(data)
            return loads(data, **kwargs)

        request.json_module = type("J", (), {"loads": staticmethod(counting)})()
        first = await request.get_json()
        second = await request.get_json()
        return {"first": first, "second": second, "calls": len(calls)}

    response = await client.post("/", data=b"null", headers={"Content-Type": "application/json"})
    assert await response.get_json() == {"first": None, "second": None, "calls": 1}


async def test_on_json_loading_failed_can_be_overridden_by_a_request_subclass(app: Quaver, client) -> None:
    from werkzeug.exceptions import BadRequest

    class Teapot(BadRequest):
        code = 418

    class MyRequest(app.request_class):
        def on_json_loading_failed(self, error):
            raise Teapot()

    app.request_class = MyRequest

    @app.post("/")
    async def index():
        await request.get_json()
        return "unreachable"

    response = await client.post("/", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 418


async def test_get_json_uses_the_apps_json_provider(app: Quaver, client) -> None:
    from decimal import Decimal

    class DecimalProvider(app.json_provider_class):
        def loads(self, s, **kwargs):
            kwargs.setdefault("parse_float", Decimal)
            return super().loads(s, **kwargs)

    app.json = DecimalProvider(app)

    @app.post("/")
    async def index():
        value = (await request.get_json())["price"]
        return type(value).__name__

    response = await client.post("/", data=b'{"price": 1.10}', headers={"Content-Type": "application/json"})
    assert await response.get_data() == b"Decimal"


# --- forms, files and values -----------------------------------------------


async def test_form_fields_are_parsed_from_urlencoded_body(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        form = await request.form
        return {"name": form["name"], "tags": form.getlist("tag")}

    response = await client.post("/", form=MultiDict([("name", "q"), ("tag", "a"), ("tag", "b")]))
    assert await response.get_json() == {"name": "q", "tags": ["a", "b"]}


async def test_form_fields_are_parsed_from_multipart_body(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        form = await request.form
        files = await request.files
        return {"field": form["field"], "files": sorted(files)}

    response = await client.post(
        "/", form={"field": "value"}, files={"upload": FileStorage(io.BytesIO(b"data"), "a.txt")}
    )
    assert await response.get_json() == {"field": "value", "files": ["upload"]}


async def test_form_of_a_json_body_is_empty(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        form = await request.form
        return {"form": dict(form), "json": await request.get_json()}

    response = await client.post("/", json={"a": 1})
    assert await response.get_json() == {"form": {}, "json": {"a": 1}}


async def test_missing_form_key_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return (await request.form)["absent"]

    response = await client.post("/", form={"present": "1"})
    assert response.status_code == 400


async def test_uploaded_file_has_name_type_and_content(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        upload = (await request.files)["doc"]
        return {
            "filename": upload.filename,
            "name": upload.name,
            "mimetype": upload.mimetype,
            "content": upload.read().decode(),
        }

    response = await client.post(
        "/", files={"doc": FileStorage(io.BytesIO(b"hello file"), "notes.txt", content_type="text/plain")}
    )
    assert await response.get_json() == {
        "filename": "notes.txt",
        "name": "doc",
        "mimetype": "text/plain",
        "content": "hello file",
    }


async def test_uploaded_file_save_writes_it_to_a_path(app: Quaver, client, tmp_path) -> None:
    target = tmp_path / "saved.bin"

    @app.post("/")
    async def index():
        upload = (await request.files)["doc"]
        await upload.save(target)
        return "saved"

    payload = bytes(range(256)) * 100
    response = await client.post("/", files={"doc": FileStorage(io.BytesIO(payload), "blob.bin")})
    assert response.status_code == 200
    assert target.read_bytes() == payload


async def test_uploaded_file_save_writes_it_to_a_file_object(app: Quaver, client) -> None:
    sink = io.BytesIO()

    @app.post("/")
    async def index():
        await (await request.files)["doc"].save(sink)
        return "saved"

    await client.post("/", files={"doc": FileStorage(io.BytesIO(b"into a buffer"), "b.txt")})
    assert sink.getvalue() == b"into a buffer"


async def test_several_files_under_one_field_are_all_kept(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        files = (await request.files).getlist("many")
        return {"names": [f.filename for f in files]}

    response = await client.post(
        "/",
        files=MultiDict(
            [("many", FileStorage(io.BytesIO(b"1"), "one.txt")), ("many", FileStorage(io.BytesIO(b"2"), "two.txt"))]
        ),
    )
    assert await response.get_json() == {"names": ["one.txt", "two.txt"]}


async def test_values_combines_args_and_form_on_post(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        values = await request.values
        return {"a": values["a"], "b": values["b"], "all_a": values.getlist("a")}

    response = await client.post("/?a=from-query", form={"a": "from-form", "b": "2"})
    assert await response.get_json() == {"a": "from-query", "b": "2", "all_a": ["from-query", "from-form"]}


async def test_values_on_get_holds_only_args(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        values = await request.values
        return {"keys": sorted(values.keys())}

    response = await client.get("/?x=1&y=2")
    assert await response.get_json() == {"keys": ["x", "y"]}


async def test_get_data_with_parse_form_data_still_returns_the_raw_body(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        raw = await request.get_data(parse_form_data=True)
        form = await request.form
        return {"raw": raw.decode(), "a": form["a"]}

    response = await client.post("/", form={"a": "1"})
    assert await response.get_json() == {"raw": "a=1", "a": "1"}


async def test_malformed_multipart_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.form
        return "unreachable"

    response = await client.post(
        "/",
        data=b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400


async def test_multipart_without_boundary_gets_400(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        await request.files
        return "unreachable"

    response = await client.post("/", data=b"whatever", headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400


async def test_more_form_parts_than_max_form_parts_gets_413(app: Quaver, client) -> None:
    app.config["MAX_FORM_PARTS"] = 3

    @app.post("/")
    async def index():
        await request.form
        return "unreachable"

    fields = {f"f{i}": str(i) for i in range(5)}
    response = await client.post("/", form=fields, files={"file": FileStorage(io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 413


async def test_form_parts_within_max_form_parts_are_accepted(app: Quaver, client) -> None:
    app.config["MAX_FORM_PARTS"] = 3

    @app.post("/")
    async def index():
        return str(len(await request.form))

    response = await client.post("/", form={"a": "1", "b": "2"}, files={"f": FileStorage(io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 200
    assert await response.get_data() == b"2"


async def test_multipart_field_over_max_form_memory_size_gets_413(app: Quaver, client) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 100

    @app.post("/")
    async def index():
        await request.form
        return "unreachable"

    response = await client.post("/", form={"big": "x" * 500}, files={"f": FileStorage(io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 413


async def test_request_max_form_memory_size_overrides_config(app: Quaver, client) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 10

    @app.post("/")
    async def index():
        request.max_form_memory_size = 10_000
        return (await request.form)["big"]

    response = await client.post("/", form={"big": "z" * 500}, files={"f": FileStorage(io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 200
    assert await response.get_data() == b"z" * 500


# --- size and time limits --------------------------------------------------


async def test_declared_content_length_over_max_content_length_gets_413(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    response = await client.post("/", data=b"x" * 11)
    assert response.status_code == 413


async def test_body_at_max_content_length_is_accepted(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    async def index():
        return await request.get_data()

    response = await client.post("/", data=b"x" * 10)
    assert response.status_code == 200
    assert await response.get_data() == b"x" * 10


async def test_form_over_max_content_length_gets_413(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 50

    @app.post("/")
    async def index():
        await request.form
        return "unreachable"

    response = await client.post("/", form={"a": "b" * 100})
    assert response.status_code == 413


async def test_json_body_over_max_content_length_gets_413_even_when_silent(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 8

    @app.post("/")
    async def index():
        await request.get_json(silent=True)
        return "unreachable"

    response = await client.post("/", json={"key": "a long value"})
    assert response.status_code == 413


async def test_streamed_body_without_content_length_over_limit_gets_413(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    async with client.request("/", method="POST") as connection:
        await connection.send(b"123456")
        await connection.send(b"789012")
        await connection.send_complete()
        response = await connection.as_response()
    assert response.status_code == 413


async def test_iterating_a_streamed_body_over_the_limit_gets_413(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 5
    received: list[bytes] = []

    @app.post("/")
    async def index():
        async for chunk in request.body:
            received.append(chunk)
        return "unreachable"

    async with client.request("/", method="POST") as connection:
        await connection.send(b"abc")
        await connection.send(b"defgh")
        await connection.send_complete()
        response = await connection.as_response()
    assert response.status_code == 413
    assert received == [b"abc"]


async def test_request_max_content_length_override_raises_the_limit(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4

    @app.post("/")
    async def index():
        request.max_content_length = 100
        return await request.get_data()

    response = await client.post("/", data=b"more than four")
    assert response.status_code == 200
    assert await response.get_data() == b"more than four"


async def test_request_max_content_length_override_lowers_the_limit(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        request.max_content_length = 3
        await request.get_data()
        return "unreachable"

    response = await client.post("/", data=b"four")
    assert response.status_code == 413


async def test_max_content_length_override_in_before_request_applies(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000

    @app.before_request
    async def tighten():
        request.max_content_length = 2

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    response = await client.post("/", data=b"abc")
    assert response.status_code == 413


async def test_request_max_content_length_reads_the_config_by_default(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1234

    @app.get("/")
    async def index():
        return str(request.max_content_length)

    response = await client.get("/")
    assert await response.get_data() == b"1234"


async def test_no_max_content_length_accepts_a_large_body(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = None

    @app.post("/")
    async def index():
        return str(len(await request.get_data()))

    response = await client.post("/", data=b"z" * 100_000)
    assert await response.get_data() == b"100000"


async def test_streamed_body_that_never_completes_gets_408(app: Quaver, client) -> None:
    app.config["BODY_TIMEOUT"] = 0.2

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    async with client.request("/", method="POST") as connection:
        await connection.send(b"partial")
        response = await asyncio.wait_for(connection.as_response(), 5)
    assert response.status_code == 408


async def test_body_timeout_covers_the_whole_body_not_each_chunk(app: Quaver, client) -> None:
    app.config["BODY_TIMEOUT"] = 0.3

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    async with client.request("/", method="POST") as connection:
        for _ in range(6):  # each chunk well inside the timeout; all of them beyond it
            await connection.send(b"drip")
            await asyncio.sleep(0.1)
        response = await asyncio.wait_for(connection.as_response(), 5)
    assert response.status_code == 408


async def test_body_arriving_within_body_timeout_is_read(app: Quaver, client) -> None:
    app.config["BODY_TIMEOUT"] = 2

    @app.post("/")
    async def index():
        return await request.get_data()

    async with client.request("/", method="POST") as connection:
        await connection.send(b"quick")
        await asyncio.sleep(0.05)
        await connection.send_complete()
        response = await connection.as_response()
    assert response.status_code == 200
    assert await response.get_data() == b"quick"


# --- URL, query and routing ------------------------------------------------


async def test_args_is_a_multidict_keeping_repeated_keys(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        args = request.args
        return {"first": args["k"], "all": args.getlist("k"), "other": args.get("o", type=int)}

    response = await client.get("/?k=1&k=2&o=7")
    assert await response.get_json() == {"first": "1", "all": ["1", "2"], "other": 7}


async def test_args_from_query_string_argument(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"q": request.args.getlist("q"), "qs": request.query_string.decode()}

    response = await client.get("/", query_string=MultiDict([("q", "a b"), ("q", "c")]))
    body = await response.get_json()
    assert body["q"] == ["a b", "c"]
    assert body["qs"] in ("q=a+b&q=c", "q=a%20b&q=c")


async def test_missing_arg_gets_400(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return request.args["missing"]

    response = await client.get("/")
    assert response.status_code == 400


async def test_url_parts(app: Quaver, client) -> None:
    @app.get("/items/<int:item>")
    async def item(item):
        return {
            "url": request.url,
            "base_url": request.base_url,
            "host": request.host,
            "host_url": request.host_url,
            "root_url": request.root_url,
            "url_root": request.url_root,
            "path": request.path,
            "full_path": request.full_path,
            "script_root": request.script_root,
        }

    response = await client.get("/items/3?x=1&y=%C3%A9")
    assert await response.get_json() == {
        "url": "http://localhost/items/3?x=1&y=\u00e9",  # an IRI, as Flask gives
        "base_url": "http://localhost/items/3",
        "host": "localhost",
        "host_url": "http://localhost/",
        "root_url": "http://localhost/",
        "url_root": "http://localhost/",
        "path": "/items/3",
        "full_path": "/items/3?x=1&y=%C3%A9",
        "script_root": "",
    }


async def test_url_parts_under_a_root_path(app: Quaver, client) -> None:
    @app.get("/page")
    async def page():
        return {
            "url": request.url,
            "base_url": request.base_url,
            "root_url": request.root_url,
            "path": request.path,
            "full_path": request.full_path,
            "script_root": request.script_root,
        }

    response = await client.get("/mount/page?a=1", root_path="/mount")
    assert response.status_code == 200
    assert await response.get_json() == {
        "url": "http://localhost/mount/page?a=1",
        "base_url": "http://localhost/mount/page",
        "root_url": "http://localhost/mount/",
        "path": "/page",
        "full_path": "/page?a=1",
        "script_root": "/mount",
    }


async def test_full_path_without_query_string_ends_in_question_mark(app: Quaver, client) -> None:
    @app.get("/p")
    async def p():
        return request.full_path

    response = await client.get("/p")
    assert await response.get_data() == b"/p?"


async def test_host_header_with_port_and_https_scheme(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {
            "host": request.host,
            "scheme": request.scheme,
            "is_secure": request.is_secure,
            "url": request.url,
        }

    response = await client.get("/", headers={"Host": "example.com:8443"}, scheme="https")
    assert await response.get_json() == {
        "host": "example.com:8443",
        "scheme": "https",
        "is_secure": True,
        "url": "https://example.com:8443/",
    }


async def test_view_args_and_endpoint(app: Quaver, client) -> None:
    @app.get("/users/<name>/<int:age>", endpoint="user_page")
    async def user(name, age):
        return {"view_args": request.view_args, "endpoint": request.endpoint, "rule": request.url_rule.rule}

    response = await client.get("/users/ada/36")
    assert await response.get_json() == {
        "view_args": {"name": "ada", "age": 36},
        "endpoint": "user_page",
        "rule": "/users/<name>/<int:age>",
    }


async def test_endpoint_is_none_for_unmatched_url(app: Quaver, client) -> None:
    seen = {}

    @app.errorhandler(404)
    async def not_found(error):
        seen["endpoint"] = request.endpoint
        seen["blueprint"] = request.blueprint
        seen["blueprints"] = request.blueprints
        return "missing", 404

    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert seen == {"endpoint": None, "blueprint": None, "blueprints": []}


async def test_blueprint_and_blueprints_of_nested_blueprint_view(app: Quaver, client) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @child.get("/x")
    async def x():
        return {"endpoint": request.endpoint, "blueprint": request.blueprint, "blueprints": request.blueprints}

    @parent.get("/y")
    async def y():
        return {"endpoint": request.endpoint, "blueprint": request.blueprint, "blueprints": request.blueprints}

    parent.register_blueprint(child)
    app.register_blueprint(parent)

    nested = await client.get("/p/c/x")
    assert await nested.get_json() == {
        "endpoint": "parent.child.x",
        "blueprint": "parent.child",
        "blueprints": ["parent.child", "parent"],
    }
    outer = await client.get("/p/y")
    assert await outer.get_json() == {"endpoint": "parent.y", "blueprint": "parent", "blueprints": ["parent"]}


async def test_app_view_has_no_blueprint(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"blueprint": request.blueprint, "blueprints": request.blueprints}

    response = await client.get("/")
    assert await response.get_json() == {"blueprint": None, "blueprints": []}


# --- headers and negotiation -----------------------------------------------


async def test_headers_are_case_insensitive_and_keep_repeats(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {
            "lower": request.headers.get("x-custom"),
            "title": request.headers["X-Custom"],
            "repeated": request.headers.getlist("X-Multi"),
            "absent": request.headers.get("X-Absent", "default"),
            "user_agent": request.user_agent.string,
        }

    response = await client.get("/", headers=[("X-Custom", "v"), ("X-Multi", "1"), ("X-Multi", "2")])
    assert await response.get_json() == {
        "lower": "v",
        "title": "v",
        "repeated": ["1", "2"],
        "absent": "default",
        "user_agent": "Quaver",
    }


async def test_missing_header_key_gets_400(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return request.headers["X-Missing"]

    response = await client.get("/")
    assert response.status_code == 400


async def test_content_type_mimetype_and_params(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {
            "content_type": request.content_type,
            "mimetype": request.mimetype,
            "params": request.mimetype_params,
            "length": request.content_length,
        }

    response = await client.post("/", data=b"abc", headers={"Content-Type": "Text/Plain; charset=latin-1"})
    assert await response.get_json() == {
        "content_type": "Text/Plain; charset=latin-1",
        "mimetype": "text/plain",
        "params": {"charset": "latin-1"},
        "length": 3,
    }


async def test_cookies_are_parsed_from_the_cookie_header(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return dict(request.cookies)

    response = await client.get("/", headers={"Cookie": "a=1; b=two%20words; c=\"quoted\""})
    assert await response.get_json() == {"a": "1", "b": "two%20words", "c": "quoted"}


async def test_cookies_set_on_the_client_reach_the_request(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return request.cookies.get("flavour", "none")

    client.set_cookie("localhost", "flavour", "oat")
    response = await client.get("/")
    assert await response.get_data() == b"oat"


async def test_accept_mimetypes_picks_the_best_match(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        accept = request.accept_mimetypes
        return {
            "best": accept.best_match(["application/json", "text/html"]),
            "json_quality": accept["application/json"],
            "accept_json": accept.accept_json,
        }

    response = await client.get("/", headers={"Accept": "text/html;q=0.5, application/json"})
    assert await response.get_json() == {"best": "application/json", "json_quality": 1, "accept_json": True}


async def test_accept_languages_orders_by_quality(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        langs = request.accept_languages
        return {"values": list(langs.values()), "best": langs.best_match(["en", "fr"])}

    response = await client.get("/", headers={"Accept-Language": "fr;q=0.8, de, en;q=0.5"})
    assert await response.get_json() == {"values": ["de", "fr", "en"], "best": "fr"}


async def test_authorization_from_basic_auth(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        auth = request.authorization
        return {"type": auth.type, "username": auth.username, "password": auth.password}

    response = await client.get("/", auth=("ada", "s3cr:et"))
    assert await response.get_json() == {"type": "basic", "username": "ada", "password": "s3cr:et"}


async def test_authorization_is_none_without_header(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return repr(request.authorization)

    response = await client.get("/")
    assert await response.get_data() == b"None"


async def test_bearer_token_authorization(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        auth = request.authorization
        return {"type": auth.type, "token": auth.token}

    response = await client.get("/", headers={"Authorization": "Bearer abc.def"})
    assert await response.get_json() == {"type": "bearer", "token": "abc.def"}


# --- connection --------------------------------------------------------------


async def test_remote_addr_scheme_and_http_version(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "http_version": request.http_version,
            "method": request.method,
        }

    response = await client.get("/")
    assert await response.get_json() == {
        "remote_addr": "<local>",  # the test client sends no client address: Quart's word for it
        "scheme": "http",
        "http_version": "1.1",
        "method": "GET",
    }
    given = await client.get("/", scope_base={"client": ("192.0.2.4", 51000)})
    assert (await given.get_json())["remote_addr"] == "192.0.2.4"
    response = await client.get("/", scheme="https", http_version="2")
    body = await response.get_json()
    assert (body["scheme"], body["http_version"]) == ("https", "2")


async def test_remote_addr_from_the_scope_client(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return str(request.remote_addr)

    response = await client.get("/", scope_base={"client": ("203.0.113.9", 5000)})
    assert await response.get_data() == b"203.0.113.9"


async def test_remote_addr_is_local_without_a_client(app: Quaver, client) -> None:
    # A server on a Unix socket gives no client address: Quart's request says
    # "<local>", and access_route (what rate limiters key on) has one entry.
    @app.get("/")
    async def index():
        return {"remote_addr": request.remote_addr, "route": list(request.access_route)}

    response = await client.get("/", scope_base={"client": None})
    assert await response.get_json() == {"remote_addr": "<local>", "route": ["<local>"]}


async def test_trusted_hosts_rejects_other_hosts_with_400(app: Quaver, client) -> None:
    app.config["TRUSTED_HOSTS"] = ["good.example"]

    @app.get("/")
    async def index():
        return request.host

    assert (await client.get("/", headers={"Host": "good.example"})).status_code == 200
    assert (await client.get("/", headers={"Host": "evil.example"})).status_code == 400


# --- request object outside a request ----------------------------------------


async def test_test_request_context_carries_json_body(app: Quaver) -> None:
    async with app.test_request_context("/x?a=1", method="POST", json={"k": "v"}):
        assert request.args["a"] == "1"
        assert await request.get_json() == {"k": "v"}
        assert request.method == "POST"


async def test_test_request_context_carries_form_body(app: Quaver) -> None:
    async with app.test_request_context("/", method="POST", form={"k": "v"}):
        assert (await request.form)["k"] == "v"


async def test_uploaded_files_are_closed_after_the_request(app: Quaver, client) -> None:
    kept = []

    @app.post("/")
    async def index():
        kept.extend((await request.files).getlist("f"))
        return "ok"

    await client.post(
        "/",
        files=MultiDict([("f", FileStorage(io.BytesIO(b"1"), "a")), ("f", FileStorage(io.BytesIO(b"2"), "b"))]),
    )
    assert len(kept) == 2
    assert all(f.stream.closed for f in kept)


# --- a request built by hand -------------------------------------------------------


def _hand_made_request(app: Quaver, **kwargs):
    from werkzeug.datastructures import Headers

    scope = {"type": "http", "path": "/", "headers": [], "client": ("127.0.0.1", 1), "server": ("localhost", 80)}
    headers = Headers({"Content-Type": "application/json", "Host": "localhost"})
    return app.request_class("POST", "http", "/", b"a=1", headers, "", "1.1", scope, **kwargs)


async def test_request_built_by_hand_takes_its_body_with_set_result(app: Quaver) -> None:
    made = _hand_made_request(app)
    made.body.set_result(b'{"hand": "made"}')
    assert made.args["a"] == "1"
    assert await made.get_json() == {"hand": "made"}


async def test_request_built_by_hand_takes_its_body_in_chunks(app: Quaver) -> None:
    made = _hand_made_request(app)
    made.body.append(b"[1, ")

    async def feed():
        await asyncio.sleep(0.01)
        made.body.append(b"2]")
        made.body.set_complete()

    feeder = asyncio.create_task(feed())
    assert await made.get_json() == [1, 2]
    await feeder


async def test_request_built_by_hand_enforces_its_max_content_length(app: Quaver) -> None:
    from werkzeug.exceptions import RequestEntityTooLarge

    made = _hand_made_request(app, max_content_length=3)
    made.body.set_result(b"12345")
    with pytest.raises(RequestEntityTooLarge):
        await made.get_data()


async def test_request_built_by_hand_reads_empty_once_completed_with_nothing(app: Quaver) -> None:
    made = _hand_made_request(app)
    made.body.set_complete()
    assert await made.get_data() == b""


async def test_request_built_by_hand_waits_for_its_body_until_body_timeout(app: Quaver) -> None:
    from werkzeug.exceptions import RequestTimeout

    made = _hand_made_request(app, body_timeout=0.05)
    with pytest.raises(RequestTimeout):
        await made.get_data()


async def test_request_built_by_hand_declaring_too_long_a_body_gets_413_when_read(app: Quaver) -> None:
    from werkzeug.exceptions import RequestEntityTooLarge

    scope = {"type": "http", "headers": [], "client": None, "server": None}
    from werkzeug.datastructures import Headers

    made = app.request_class(
        "POST", "http", "/", b"", Headers({"Content-Length": "6"}), "", "1.1", scope, max_content_length=5
    )
    with pytest.raises(RequestEntityTooLarge):
        await made.get_data()


async def test_body_fed_by_hand_is_awaited_whole_once_complete() -> None:
    from quaver.wrappers.request import Body

    body = Body(None, None)

    async def feed() -> None:
        for part in (b"ab", b"cd", b"ef"):
            body.append(part)
            await asyncio.sleep(0)
        body.set_complete()

    feeder = asyncio.ensure_future(feed())
    assert await body == b"abcdef"
    await feeder


async def test_push_promise_carries_only_the_client_describing_headers(app: Quaver) -> None:
    from werkzeug.datastructures import Headers

    pushed: list[tuple[str, dict[str, str]]] = []

    async def push(path: str, headers: Headers) -> None:
        pushed.append((path, dict(headers)))

    scope = {"type": "http", "headers": [], "client": None, "server": None}
    headers = Headers({"Accept": "*/*", "User-Agent": "ua", "Cookie": "secret=1", "Content-Type": "text/plain"})
    made = app.request_class("GET", "https", "/", b"", headers, "", "2", scope, send_push_promise=push)
    await made.send_push_promise("/style.css")
    assert pushed == [("/style.css", {"Accept": "*/*", "User-Agent": "ua"})]


# --- through a real server -----------------------------------------------------------


class _Served:
    """The app under Hypercorn on a free port, for raw HTTP/1.1 over a socket."""

    def __init__(self, app: Quaver, port: int) -> None:
        from hypercorn.config import Config

        self.app = app
        self.port = port
        self.config = Config()
        self.config.bind = [f"127.0.0.1:{port}"]
        self.config.accesslog = None
        self.config.errorlog = None
        self.stop = asyncio.Event()

    async def __aenter__(self) -> _Served:
        from hypercorn.asyncio import serve

        self.task = asyncio.ensure_future(serve(self.app, self.config, shutdown_trigger=self.stop.wait))
        for _ in range(500):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.01)
            else:
                writer.close()
                return self
        raise TimeoutError("server did not start")

    async def __aexit__(self, *exc_info) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)

    async def open(self, head: bytes):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(head)
        await writer.drain()
        return reader, writer


async def _status_and_body(reader) -> tuple[int, bytes]:
    status_line = await asyncio.wait_for(reader.readline(), 5)
    headers = {}
    while True:
        line = await asyncio.wait_for(reader.readline(), 5)
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), 5)
    return int(status_line.split()[1]), body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_CHUNKED_POST = b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"


async def test_chunked_upload_over_a_real_server_is_read_in_chunks(app: Quaver, free_port: int) -> None:
    @app.post("/")
    async def index():
        sizes = [len(chunk) async for chunk in request.body]
        return {"total": sum(sizes), "chunks": len(sizes) > 1}

    async with _Served(app, free_port) as served:
        reader, writer = await served.open(_CHUNKED_POST)
        for _ in range(3):
            writer.write(_chunk(b"x" * 1000))
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(b"0\r\n\r\n")
        status, body = await _status_and_body(reader)
        writer.close()
    assert status == 200
    assert json.loads(body) == {"total": 3000, "chunks": True}


async def test_chunked_upload_over_max_content_length_gets_413_from_a_real_server(
    app: Quaver, free_port: int
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1500

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    async with _Served(app, free_port) as served:
        reader, writer = await served.open(_CHUNKED_POST)
        for _ in range(2):
            writer.write(_chunk(b"y" * 1000))
            await writer.drain()
        status, _ = await _status_and_body(reader)
        writer.close()
    assert status == 413


async def test_body_that_stalls_gets_408_from_a_real_server(app: Quaver, free_port: int) -> None:
    app.config["BODY_TIMEOUT"] = 0.3

    @app.post("/")
    async def index():
        await request.get_data()
        return "unreachable"

    async with _Served(app, free_port) as served:
        reader, writer = await served.open(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly part"
        )
        status, _ = await _status_and_body(reader)
        writer.close()
    assert status == 408


# --- Quart's Body.clear and Request.body_class ------------------------------------------
async def test_clearing_a_body_drops_the_data_it_holds() -> None:
    from quaver.wrappers.request import Body

    body = Body(None, None)
    body.set_result(b"a large upload")
    assert await body == b"a large upload"
    body.clear()
    assert await body == b""


async def test_clearing_a_body_fed_by_hand_drops_unread_chunks_but_keeps_it_complete() -> None:
    from quaver.wrappers.request import Body

    body = Body(None, None)
    body.append(b"dropped")
    body.set_complete()
    body.clear()
    assert await asyncio.wait_for(body.read(), 1) == b""


async def test_a_body_class_set_on_the_request_class_is_what_requests_read_into(app: Quaver) -> None:
    from quaver.wrappers.request import Body

    class CountingBody(Body):
        reads = 0

        async def read(self) -> bytes:
            type(self).reads += 1
            return await super().read()

    class CountingRequest(app.request_class):  # type: ignore[name-defined, misc]
        body_class = CountingBody

    app.request_class = CountingRequest

    @app.post("/upload")
    async def upload() -> str:
        assert isinstance(request.body, CountingBody)
        return (await request.get_data()).decode()

    response = await app.test_client().post("/upload", data=b"payload")
    assert await response.get_data(as_text=True) == "payload"
    assert CountingBody.reads == 1


async def test_a_body_class_serves_requests_without_a_body_too(app: Quaver) -> None:
    from quaver.wrappers.request import Body

    class MarkedBody(Body):
        pass

    class MarkedRequest(app.request_class):  # type: ignore[name-defined, misc]
        body_class = MarkedBody

    app.request_class = MarkedRequest

    @app.get("/slow")
    async def slow() -> str:
        await asyncio.sleep(0)  # waits: the disconnect watch looks at the (empty) body
        return f"{type(request.body).__name__} {await request.get_data()!r}"

    response = await app.test_client().get("/slow")
    assert await response.get_data(as_text=True) == "MarkedBody b''"
