"""The test client (``app.test_client()``), streaming test connections and ``app.test_app()``."""

from __future__ import annotations

import asyncio
import io

import pytest
from werkzeug.datastructures import Authorization, FileStorage, Headers, MultiDict

from quaver import (
    Quaver,
    g,
    has_request_context,
    jsonify,
    make_push_promise,
    make_response,
    redirect,
    request,
    session,
    url_for,
    websocket,
)
from quaver.testing import (
    LifespanError,
    QuaverClient,
    TestHTTPConnection,
    TestWebsocketConnection,
    WebsocketResponseError,
    make_test_body_with_headers,
    make_test_headers_path_and_query_string,
    make_test_scope,
)
from quaver.testing.utils import sentinel


@pytest.fixture
def echo_app(app: Quaver) -> Quaver:
    """An app whose ``/echo`` reports everything it was sent."""

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def echo():
        form = await request.form
        files = await request.files
        auth = request.authorization
        return jsonify(
            method=request.method,
            path=request.path,
            args=request.args.to_dict(flat=False),
            form=form.to_dict(flat=False),
            files={
                key: [[f.filename, f.content_type, f.read().decode()] for f in files.getlist(key)] for key in files
            },
            json=await request.get_json(silent=True),
            body="" if form or files else await request.get_data(as_text=True),
            content_type=request.content_type,
            auth=[auth.username, auth.password] if auth else None,
            cookies=request.cookies.to_dict(),
            token=request.headers.get("X-Token"),
        )

    return app


async def echo_of(response) -> dict:
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


# -- the client and its methods ------------------------------------------


def test_test_client_is_a_quaver_client(app: Quaver) -> None:
    assert isinstance(app.test_client(), QuaverClient)


async def test_a_test_client_class_set_on_the_app_is_used(app: Quaver) -> None:
    class MyClient(QuaverClient):
        pass

    app.test_client_class = MyClient
    assert type(app.test_client()) is MyClient


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
async def test_each_method_helper_sends_its_method(echo_app: Quaver, client, method: str) -> None:
    response = await getattr(client, method)("/echo")
    assert (await echo_of(response))["method"] == method.upper()


async def test_open_sends_the_method_given(echo_app: Quaver, client) -> None:
    response = await client.open("/echo", method="PATCH")
    assert (await echo_of(response))["method"] == "PATCH"


async def test_head_gets_the_headers_without_the_body(app: Quaver, client) -> None:
    @app.route("/page")
    async def page():
        return {"words": ["some", "content"]}

    full = await client.get("/page")
    head = await client.head("/page")
    assert head.status_code == 200
    assert await head.get_data() == b""
    assert head.headers["Content-Type"] == "application/json"
    assert head.headers["Content-Length"] == full.headers["Content-Length"] == str(len(await full.get_data()))


async def test_options_lists_the_allowed_methods(app: Quaver, client) -> None:
    @app.route("/thing", methods=["GET", "POST"])
    async def thing():
        return "thing"

    response = await client.options("/thing")
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


async def test_unknown_route_gets_404_and_wrong_method_405(echo_app: Quaver, client) -> None:
    assert (await client.get("/nowhere")).status_code == 404
    wrong = await client.open("/echo", method="TRACE")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


async def test_response_headers_and_status_are_as_the_app_sent_them(app: Quaver, client) -> None:
    @app.route("/teapot")
    async def teapot():
        return "short and stout", 418, {"X-Kind": "teapot"}

    response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.headers["X-Kind"] == "teapot"
    assert response.headers["Content-Length"] == str(len("short and stout"))
    assert await response.get_data(as_text=True) == "short and stout"


# -- bodies ----------------------------------------------------------------


async def test_json_is_sent_encoded_with_its_content_type(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.post("/echo", json={"name": "Quaver", "tags": [1, 2]}))
    assert seen["json"] == {"name": "Quaver", "tags": [1, 2]}
    assert seen["content_type"] == "application/json"


async def test_json_uses_the_apps_json_provider(app: Quaver, client) -> None:
    import decimal

    @app.post("/raw")
    async def raw():
        return await request.get_data(as_text=True)

    response = await client.post("/raw", json={"price": decimal.Decimal("1.50")})
    assert await response.get_data(as_text=True) == '{"price": "1.50"}'


async def test_data_as_str_or_bytes_is_sent_as_is(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.post("/echo", data="plain text é"))
    assert seen["body"] == "plain text é"
    assert seen["content_type"] is None
    seen = await echo_of(await client.post("/echo", data=b"raw bytes", headers={"Content-Type": "text/x-raw"}))
    assert seen["body"] == "raw bytes"
    assert seen["content_type"] == "text/x-raw"


async def test_body_gets_a_content_length(app: Quaver, client) -> None:
    @app.post("/length")
    async def length():
        return str(request.content_length)

    response = await client.post("/length", data=b"x" * 1234)
    assert await response.get_data(as_text=True) == "1234"


async def test_form_is_sent_url_encoded(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.post("/echo", form={"name": "Ada Lovelace", "lang": ["en", "fr"]}))
    assert seen["form"] == {"name": ["Ada Lovelace"], "lang": ["en", "fr"]}
    assert seen["content_type"] == "application/x-www-form-urlencoded"


async def test_form_as_multidict_keeps_repeated_keys(echo_app: Quaver, client) -> None:
    form = MultiDict([("tag", "a"), ("tag", "b"), ("one", "1")])
    seen = await echo_of(await client.post("/echo", form=form))
    assert seen["form"] == {"tag": ["a", "b"], "one": ["1"]}


async def test_data_as_a_dict_is_a_form(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.post("/echo", data={"name": "value"}))
    assert seen["form"] == {"name": ["value"]}


async def test_files_as_filestorage(echo_app: Quaver, client) -> None:
    upload = FileStorage(io.BytesIO(b"hello file"), filename="hello.txt", content_type="text/plain")
    seen = await echo_of(await client.post("/echo", files={"doc": upload}))
    assert seen["files"] == {"doc": [["hello.txt", "text/plain", "hello file"]]}
    assert seen["content_type"].startswith("multipart/form-data; boundary=")


async def test_files_as_file_and_filename_tuples(echo_app: Quaver, client) -> None:
    seen = await echo_of(
        await client.post(
            "/echo",
            files={
                "doc": (io.BytesIO(b"<p>hi</p>"), "page.html"),
                "blob": (io.BytesIO(b"\x00\x01"), "data.bin", "application/x-thing"),
            },
        )
    )
    assert seen["files"]["doc"] == [["page.html", "text/html", "<p>hi</p>"]]
    assert seen["files"]["blob"] == [["data.bin", "application/x-thing", "\x00\x01"]]


async def test_several_files_under_one_name(echo_app: Quaver, client) -> None:
    files = {"many": [(io.BytesIO(b"one"), "1.txt"), (io.BytesIO(b"two"), "2.txt")]}
    seen = await echo_of(await client.post("/echo", files=files))
    assert [item[0] for item in seen["files"]["many"]] == ["1.txt", "2.txt"]
    assert [item[2] for item in seen["files"]["many"]] == ["one", "two"]


async def test_an_open_file_is_sent_under_its_own_name(echo_app: Quaver, client, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    with path.open("rb") as handle:
        seen = await echo_of(await client.post("/echo", files={"notes": handle}))
    assert seen["files"]["notes"] == [["notes.txt", "text/plain", "my notes"]]


async def test_form_and_files_together(echo_app: Quaver, client) -> None:
    seen = await echo_of(
        await client.post("/echo", form={"title": "Report"}, files={"doc": (io.BytesIO(b"text"), "r.txt")})
    )
    assert seen["form"] == {"title": ["Report"]}
    assert seen["files"]["doc"][0][2] == "text"


async def test_a_file_tuple_in_a_data_dict_makes_it_multipart(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.post("/echo", data={"title": "T", "doc": (io.BytesIO(b"abc"), "a.txt")}))
    assert seen["form"] == {"title": ["T"]}
    assert seen["files"]["doc"] == [["a.txt", "text/plain", "abc"]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {}, "data": "x"},
        {"json": {}, "form": {"a": "b"}},
        {"data": "x", "form": {"a": "b"}},
        {"data": "x", "files": {"f": (io.BytesIO(b""), "f")}},
    ],
    ids=["json+data", "json+form", "data+form", "data+files"],
)
async def test_two_kinds_of_body_at_once_are_refused(echo_app: Quaver, client, kwargs) -> None:
    with pytest.raises(ValueError):
        await client.post("/echo", **kwargs)


# -- query strings, paths, headers, auth -----------------------------------


async def test_query_string_as_a_dict(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.get("/echo", query_string={"q": "owls & bats", "page": 2, "tag": ["a", "b"]}))
    assert seen["args"] == {"q": ["owls & bats"], "page": ["2"], "tag": ["a", "b"]}


async def test_query_string_as_a_multidict(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.get("/echo", query_string=MultiDict([("k", "1"), ("k", "2")])))
    assert seen["args"] == {"k": ["1", "2"]}


@pytest.mark.parametrize("raw", ["a=1&b=two%20words", b"a=1&b=two%20words"], ids=["str", "bytes"])
async def test_query_string_raw(echo_app: Quaver, client, raw) -> None:
    seen = await echo_of(await client.get("/echo", query_string=raw))
    assert seen["args"] == {"a": ["1"], "b": ["two words"]}


async def test_query_string_in_the_path(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.get("/echo?x=1&x=2&y=%C3%A9"))
    assert seen["path"] == "/echo"
    assert seen["args"] == {"x": ["1", "2"], "y": ["é"]}


async def test_query_string_in_both_path_and_argument_is_refused(echo_app: Quaver, client) -> None:
    with pytest.raises(ValueError):
        await client.get("/echo?x=1", query_string={"y": "2"})


async def test_percent_escapes_in_the_path_are_decoded(app: Quaver, client) -> None:
    @app.route("/files/<name>")
    async def named(name: str):
        return {"name": name, "path": request.path}

    response = await client.get("/files/two%20words%C3%A9")
    assert await response.get_json() == {"name": "two wordsé", "path": "/files/two wordsé"}


async def test_an_escaped_slash_reaches_the_app_still_escaped_in_raw_path(app: Quaver, client) -> None:
    @app.route("/raw/<path:name>")
    async def raw(name: str):
        return {"name": name, "raw_path": request.scope["raw_path"].decode()}

    response = await client.get("/raw/a%2Fb%20c")
    # The path routes decoded, but the bytes on the wire keep the escaped slash.
    assert await response.get_json() == {"name": "a/b c", "raw_path": "/raw/a%2Fb%20c"}


async def test_headers_as_dict_or_headers(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.get("/echo", headers={"X-Token": "abc"}))
    assert seen["token"] == "abc"
    seen = await echo_of(await client.get("/echo", headers=Headers([("X-Token", "def")])))
    assert seen["token"] == "def"


async def test_default_host_is_localhost_or_server_name(app: Quaver, client) -> None:
    @app.route("/host")
    async def host():
        return request.host

    assert await (await client.get("/host")).get_data(as_text=True) == "localhost"
    assert await (await client.get("/host", headers={"Host": "example.org"})).get_data(as_text=True) == "example.org"


async def test_auth_tuple_sends_basic_credentials(echo_app: Quaver, client) -> None:
    seen = await echo_of(await client.get("/echo", auth=("ada", "s3cret:pw")))
    assert seen["auth"] == ["ada", "s3cret:pw"]


async def test_auth_as_an_authorization_object(echo_app: Quaver, client) -> None:
    auth = Authorization("basic", {"username": "bob", "password": "pw"})
    seen = await echo_of(await client.get("/echo", auth=auth))
    assert seen["auth"] == ["bob", "pw"]


async def test_scheme_and_root_path(app: Quaver, client) -> None:
    @app.route("/where")
    async def where():
        return {"url": request.url, "script_root": request.script_root}

    response = await client.get("/mounted/where", scheme="https", root_path="/mounted")
    assert await response.get_json() == {"url": "https://localhost/mounted/where", "script_root": "/mounted"}


# -- the building blocks: make_test_headers_path_and_query_string, make_test_body_with_headers, make_test_scope


def test_the_path_split_from_its_query_comes_back_decoded(app: Quaver) -> None:
    headers, path, query = make_test_headers_path_and_query_string(app, "/two%20words?x=1")
    assert (path, query) == ("/two words", b"x=1")
    assert headers["Host"] == "localhost" and headers["User-Agent"] == "Quaver"


def test_a_test_scope_has_the_keys_quart_gives_it() -> None:
    scope = make_test_scope(
        "http", "/caf\u00e9", "GET", Headers({"X-A": "1"}), b"q=1", scope_base={"client": ("10.0.0.1", 9)}
    )
    assert scope == {
        "type": "http",
        "http_version": "1.1",
        "asgi": {"spec_version": "2.1"},
        "method": "GET",
        "scheme": "http",
        "path": "/caf\u00e9",
        "raw_path": b"/caf%C3%A9",
        "query_string": b"q=1",
        "root_path": "",
        "headers": [(b"x-a", b"1")],
        "extensions": {},
        "_quaver._preserve_context": False,
        "client": ("10.0.0.1", 9),
    }


def test_a_multipart_body_can_be_spelled_out_files_first() -> None:
    body, headers = make_test_body_with_headers(
        form={"note": "hi"}, files={"doc": FileStorage(io.BytesIO(b"text"), filename="a.txt")}
    )
    assert headers["Content-Type"] == "multipart/form-data; boundary=----QuaverBoundary"
    assert body == (
        b'\r\n------QuaverBoundary\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n\r\ntext'
        b'\r\n------QuaverBoundary\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi'
        b"\r\n------QuaverBoundary--\r\n"
    )


def test_a_file_holding_the_usual_boundary_gets_another(app: Quaver) -> None:
    content = b"before\r\n------QuaverBoundary--\r\nafter"
    body, headers = make_test_body_with_headers(files={"doc": FileStorage(io.BytesIO(content), filename="x.bin")})
    boundary = headers["Content-Type"].partition("boundary=")[2]
    assert boundary != "----QuaverBoundary" and boundary.encode() not in content
    assert content in body


async def test_a_file_holding_the_usual_boundary_arrives_whole(echo_app: Quaver, client) -> None:
    content = b"x\r\n------QuaverBoundary\r\ny"
    seen = await echo_of(await client.post("/echo", files={"doc": (io.BytesIO(content), "x.bin")}))
    assert seen["files"] == {"doc": [["x.bin", "application/octet-stream", content.decode()]]}


# -- HTTP/2 server push ----------------------------------------------------


async def test_push_promises_are_recorded_for_http_2_requests(app: Quaver, client) -> None:
    @app.route("/page")
    async def page():
        await make_push_promise("/static/style.css")
        return "page"

    await client.get("/page", http_version="2", headers={"Accept": "text/css"})
    assert [path for path, _ in client.push_promises] == ["/static/style.css"]
    assert client.push_promises[0][1]["Accept"] == "text/css"
    await client.get("/page", http_version="2")
    assert len(client.push_promises) == 1  # each request starts a fresh list
    await client.get("/page")  # HTTP/1.1 has no server push
    assert client.push_promises == []


# -- redirects -------------------------------------------------------------


@pytest.fixture
def redirect_app(echo_app: Quaver) -> Quaver:
    @echo_app.route("/go/<int:code>", methods=["GET", "POST", "PUT", "HEAD"])
    async def go(code: int):
        return redirect("/echo?from=go", code)

    return echo_app


async def test_without_follow_redirects_the_redirect_is_returned(redirect_app: Quaver, client) -> None:
    response = await client.get("/go/302")
    assert response.status_code == 302
    assert response.headers["Location"] == "/echo?from=go"


@pytest.mark.parametrize("code", [301, 302, 303])
async def test_post_redirected_by_301_302_303_becomes_a_get_without_body(
    redirect_app: Quaver, client, code: int
) -> None:
    response = await client.post(f"/go/{code}", json={"secret": 1}, follow_redirects=True)
    seen = await echo_of(response)
    assert seen["method"] == "GET"
    assert seen["args"] == {"from": ["go"]}
    assert seen["json"] is None
    assert seen["body"] == ""
    assert seen["content_type"] is None


@pytest.mark.parametrize("code", [307, 308])
async def test_307_and_308_keep_the_method_and_body(redirect_app: Quaver, client, code: int) -> None:
    response = await client.post(f"/go/{code}", json={"keep": "me"}, follow_redirects=True)
    seen = await echo_of(response)
    assert seen["method"] == "POST"
    assert seen["json"] == {"keep": "me"}
    assert seen["args"] == {"from": ["go"]}


async def test_307_resends_an_uploaded_file(redirect_app: Quaver, client) -> None:
    response = await client.put(
        "/go/307", files={"doc": (io.BytesIO(b"file body"), "f.txt")}, follow_redirects=True
    )
    seen = await echo_of(response)
    assert seen["method"] == "PUT"
    assert seen["files"]["doc"][0][2] == "file body"


async def test_head_stays_head_through_a_302(redirect_app: Quaver, client) -> None:
    response = await client.head("/go/302", follow_redirects=True)
    assert response.status_code == 200
    assert await response.get_data() == b""
    assert response.headers["Content-Type"] == "application/json"


async def test_redirects_are_followed_through_a_chain_and_relative_locations(app: Quaver, client) -> None:
    @app.route("/a/start")
    async def start():
        response = await make_response("", 302)
        response.headers["Location"] = "next"  # relative to /a/
        return response

    @app.route("/a/next")
    async def next_():
        return redirect("/end?done=1")

    @app.route("/end")
    async def end():
        return f"end {request.args['done']}"

    response = await client.get("/a/start", follow_redirects=True)
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "end 1"


async def test_a_redirect_under_a_root_path_stays_under_it(app: Quaver, client) -> None:
    @app.route("/from")
    async def from_():
        return redirect(url_for("to"))

    @app.route("/to")
    async def to():
        return f"{request.script_root} {request.path}"

    response = await client.get("/mounted/from", root_path="/mounted", follow_redirects=True)
    assert await response.get_data(as_text=True) == "/mounted /to"


async def test_a_redirect_to_an_absolute_url_uses_its_host(app: Quaver, client) -> None:
    @app.route("/away")
    async def away():
        return redirect("http://other.example/landing")

    @app.route("/landing")
    async def landing():
        return request.host

    response = await client.get("/away", follow_redirects=True)
    assert await response.get_data(as_text=True) == "other.example"


async def test_a_cookie_set_by_a_redirect_is_sent_to_its_target(app: Quaver, client) -> None:
    @app.route("/login", methods=["POST"])
    async def login():
        response = redirect("/home")
        response.set_cookie("user", "ada")
        return response

    @app.route("/home")
    async def home():
        return f"hello {request.cookies.get('user')}"

    response = await client.post("/login", follow_redirects=True)
    assert await response.get_data(as_text=True) == "hello ada"


async def test_a_redirect_loop_raises(app: Quaver, client) -> None:
    @app.route("/loop")
    async def loop():
        return redirect("/loop")

    with pytest.raises(RuntimeError, match="redirects"):
        await client.get("/loop", follow_redirects=True)


# -- cookies ---------------------------------------------------------------


@pytest.fixture
def cookie_app(echo_app: Quaver) -> Quaver:
    @echo_app.route("/set")
    async def set_cookies():
        response = await make_response("set")
        for name, value in request.args.items():
            response.set_cookie(name, value)
        return response

    @echo_app.route("/set-at/<path:where>")
    async def set_at(where: str):
        response = await make_response("set")
        response.set_cookie("scoped", "yes", path="/" + where)
        return response

    @echo_app.route("/set-for/<int:seconds>")
    async def set_for(seconds: int):
        response = await make_response("set")
        response.set_cookie("brief", "here", max_age=seconds)
        return response

    @echo_app.route("/forget/<name>")
    async def forget(name: str):
        response = await make_response("forgotten")
        response.delete_cookie(name)
        return response

    @echo_app.route("/<path:anything>")
    async def anything(anything: str):
        return request.cookies.to_dict()

    return echo_app


async def test_a_cookie_from_the_app_is_sent_back(cookie_app: Quaver, client) -> None:
    await client.get("/set?flavour=lemon&size=big")
    seen = await echo_of(await client.get("/echo"))
    assert seen["cookies"] == {"flavour": "lemon", "size": "big"}
    assert client.get_cookie("flavour") == "lemon"


async def test_a_cookie_value_that_needs_quoting_comes_back_intact(cookie_app: Quaver, client) -> None:
    await client.get("/set", query_string={"note": 'two words; "quoted", \\slash'})
    seen = await echo_of(await client.get("/echo"))
    assert seen["cookies"] == {"note": 'two words; "quoted", \\slash'}
    assert client.get_cookie("note") == 'two words; "quoted", \\slash'


async def test_a_cookie_is_only_sent_under_its_path(cookie_app: Quaver, client) -> None:
    await client.get("/set-at/docs")
    assert await (await client.get("/docs")).get_json() == {"scoped": "yes"}
    assert await (await client.get("/docs/page")).get_json() == {"scoped": "yes"}
    assert await (await client.get("/docsets")).get_json() == {}
    assert await (await client.get("/other")).get_json() == {}


async def test_an_expired_cookie_is_not_sent(cookie_app: Quaver, client) -> None:
    await client.get("/set-for/1")
    assert await (await client.get("/x")).get_json() == {"brief": "here"}
    await asyncio.sleep(1.2)
    assert await (await client.get("/x")).get_json() == {}
    assert client.get_cookie("brief") is None


async def test_a_cookie_deleted_by_the_app_is_dropped(cookie_app: Quaver, client) -> None:
    await client.get("/set?keep=1&drop=2")
    await client.get("/forget/drop")
    assert await (await client.get("/x")).get_json() == {"keep": "1"}


async def test_set_cookie_and_delete_cookie_on_the_client(cookie_app: Quaver, client) -> None:
    client.set_cookie("localhost", "k", "v")
    assert await (await client.get("/x")).get_json() == {"k": "v"}
    client.delete_cookie("localhost", "k")
    assert await (await client.get("/x")).get_json() == {}


async def test_set_cookie_for_another_server_is_not_sent_here(cookie_app: Quaver, client) -> None:
    client.set_cookie("example.org", "k", "v")
    assert await (await client.get("/x")).get_json() == {}
    assert await (await client.get("/x", headers={"Host": "example.org"})).get_json() == {"k": "v"}


async def test_set_cookie_with_a_path(cookie_app: Quaver, client) -> None:
    client.set_cookie("localhost", "k", "v", path="/admin")
    assert await (await client.get("/x")).get_json() == {}
    assert await (await client.get("/admin/x")).get_json() == {"k": "v"}


async def test_a_domain_cookie_reaches_subdomains(cookie_app: Quaver, client) -> None:
    client.set_cookie("example.org", "wide", "1", domain="example.org")
    client.set_cookie("example.org", "narrow", "2")
    seen = await (await client.get("/x", headers={"Host": "api.example.org"})).get_json()
    assert seen == {"wide": "1"}


async def test_a_secure_cookie_is_only_sent_over_https(cookie_app: Quaver, client) -> None:
    client.set_cookie("films.example", "token", "t", secure=True)
    here = {"Host": "films.example"}
    assert await (await client.get("/x", headers=here)).get_json() == {}
    assert await (await client.get("/x", headers=here, scheme="https")).get_json() == {"token": "t"}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "api.localhost"])
async def test_a_secure_cookie_goes_to_localhost_over_http_as_browsers_send_it(
    cookie_app: Quaver, client, host: str
) -> None:
    # Browsers count http://localhost as a secure context; so does the test client,
    # whose default host it is (quart-auth's Secure session cookie works in tests).
    client.set_cookie(host, "token", "t", secure=True)
    assert await (await client.get("/x", headers={"Host": host})).get_json() == {"token": "t"}


async def test_set_cookie_without_a_server_name_is_for_localhost(cookie_app: Quaver, client) -> None:
    client.set_cookie(None, "token", "t")
    assert await (await client.get("/x")).get_json() == {"token": "t"}
    client.delete_cookie(None, "token")
    assert await (await client.get("/x")).get_json() == {}


async def test_an_explicit_cookie_header_wins_over_the_jar(cookie_app: Quaver, client) -> None:
    client.set_cookie("localhost", "k", "from-jar")
    seen = await (await client.get("/x", headers={"Cookie": "k=mine"})).get_json()
    assert seen == {"k": "mine"}


async def test_without_cookies_nothing_is_kept(cookie_app: Quaver) -> None:
    client = cookie_app.test_client(use_cookies=False)
    await client.get("/set?flavour=lemon")
    assert await (await client.get("/x")).get_json() == {}
    with pytest.raises(RuntimeError):
        client.set_cookie("localhost", "k", "v")


async def test_the_session_lives_in_the_cookie_jar(app: Quaver) -> None:
    app.secret_key = "testing"

    @app.route("/count")
    async def count():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    assert [await (await client.get("/count")).get_data(as_text=True) for _ in range(3)] == ["1", "2", "3"]
    other = app.test_client()
    assert await (await other.get("/count")).get_data(as_text=True) == "1"


async def test_session_transaction_changes_what_the_next_request_sees(app: Quaver, client) -> None:
    app.secret_key = "testing"

    @app.route("/who")
    async def who():
        return session.get("user", "nobody")

    async with client.session_transaction() as sess:
        sess["user"] = "ada"
    assert await (await client.get("/who")).get_data(as_text=True) == "ada"


# -- keeping the request context ------------------------------------------


async def test_async_with_client_keeps_the_last_request_until_the_block_ends(app: Quaver) -> None:
    torn_down = []

    @app.route("/mark/<name>")
    async def mark(name: str):
        g.name = name
        return name

    @app.teardown_request
    async def teardown(error) -> None:
        torn_down.append(request.path)

    async with app.test_client() as client:
        await client.get("/mark/first?x=1")
        assert request.path == "/mark/first"
        assert request.args["x"] == "1"
        assert g.name == "first"
        assert torn_down == []
        await client.get("/mark/second")
        assert g.name == "second"
        assert torn_down == ["/mark/first"]
    assert torn_down == ["/mark/first", "/mark/second"]
    assert not has_request_context()


async def test_without_async_with_no_request_context_is_left(app: Quaver, client) -> None:
    @app.route("/")
    async def index():
        return "ok"

    await client.get("/")
    assert not has_request_context()


# -- streaming connections -------------------------------------------------


async def test_a_streaming_request_and_response_both_flow_in_chunks(app: Quaver, client) -> None:
    @app.route("/stream", methods=["POST"])
    async def stream():
        body = request.body  # the generator runs after the view has returned

        async def shout():
            async for chunk in body:
                yield chunk.upper()
            yield b"<end>"

        return shout(), 201, {"X-Streaming": "yes"}

    async with client.request("/stream", method="POST") as connection:
        assert isinstance(connection, TestHTTPConnection)
        await connection.send(b"first ")
        # The response chunk arrives while the request body is still open.
        assert await asyncio.wait_for(connection.receive(), 5) == b"FIRST "
        assert connection.status_code == 201
        assert connection.headers["X-Streaming"] == "yes"
        await connection.send(b"second")
        assert await asyncio.wait_for(connection.receive(), 5) == b"SECOND"
        await connection.send_complete()
        assert await asyncio.wait_for(connection.receive(), 5) == b"<end>"
        assert await asyncio.wait_for(connection.receive(), 5) == b""
    response = await connection.as_response()
    assert response.status_code == 201
    assert await response.get_data() == b"FIRST SECOND<end>"


async def test_a_streamed_upload_is_read_whole_by_the_view(app: Quaver, client) -> None:
    @app.route("/upload", methods=["POST"])
    async def upload():
        data = await request.get_data()
        return {"size": len(data), "start": data[:5].decode()}

    async with client.request("/upload", method="POST") as connection:
        for _ in range(10):
            await connection.send(b"x" * 1000)
        await connection.send_complete()
        response = await connection.as_response()
    assert response.status_code == 200
    assert await response.get_json() == {"size": 10000, "start": "xxxxx"}


async def test_a_streamed_upload_over_max_content_length_gets_413(app: Quaver, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/count", methods=["POST"])
    async def count():
        size = 0
        async for chunk in request.body:
            size += len(chunk)
        return str(size)

    async with client.request("/count", method="POST") as connection:
        await connection.send(b"123456")
        await connection.send(b"789012")  # 12 bytes: over the limit before the body ends
    assert (await connection.as_response()).status_code == 413

    async with client.request("/count", method="POST") as connection:
        await connection.send(b"12345")
        await connection.send_complete()
    response = await connection.as_response()
    assert (response.status_code, await response.get_data(as_text=True)) == (200, "5")


async def test_a_streaming_get_can_be_read_chunk_by_chunk(app: Quaver, client) -> None:
    release = asyncio.Event()

    @app.route("/ticks")
    async def ticks():
        async def generate():
            yield b"tick 1\n"
            await release.wait()
            yield b"tick 2\n"

        return generate()

    async with client.request("/ticks") as connection:
        assert await asyncio.wait_for(connection.receive(), 5) == b"tick 1\n"
        release.set()
        assert await asyncio.wait_for(connection.receive(), 5) == b"tick 2\n"
        assert await asyncio.wait_for(connection.receive(), 5) == b""


async def test_a_streaming_connection_sends_and_keeps_cookies(app: Quaver, client) -> None:
    @app.route("/cookie-stream", methods=["POST"])
    async def cookie_stream():
        body = await request.get_data(as_text=True)
        response = await make_response(f"{request.cookies.get('before')} {body}")
        response.set_cookie("after", "yes")
        return response

    client.set_cookie("localhost", "before", "there")
    async with client.request("/cookie-stream", method="POST") as connection:
        await connection.send(b"body")
        await connection.send_complete()
    response = await connection.as_response()
    assert await response.get_data(as_text=True) == "there body"
    assert client.get_cookie("after") == "yes"


async def test_leaving_a_streaming_block_with_an_error_disconnects_the_app(app: Quaver, client) -> None:
    stopped = asyncio.Event()

    @app.route("/endless")
    async def endless():
        async def generate():
            try:
                while True:
                    yield b"."
                    await asyncio.sleep(0.01)
            finally:
                stopped.set()

        return generate()

    with pytest.raises(KeyError):
        async with client.request("/endless") as connection:
            await asyncio.wait_for(connection.receive(), 5)
            raise KeyError("test leaves")
    await asyncio.wait_for(stopped.wait(), 5)


async def test_an_error_in_a_streaming_app_is_raised_to_the_test(app: Quaver, client) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/broken", methods=["POST"])
    async def broken():
        await request.get_data()
        raise ZeroDivisionError("broken view")

    with pytest.raises(ZeroDivisionError):
        async with client.request("/broken", method="POST") as connection:
            await connection.send_complete()
            await asyncio.wait_for(connection.receive(), 5)


# -- app.test_app() --------------------------------------------------------


async def test_test_app_runs_startup_and_shutdown_around_the_block(app: Quaver) -> None:
    events = []

    @app.before_serving
    async def starting() -> None:
        events.append("before_serving")

    @app.while_serving
    async def lifespan():
        events.append("while_serving start")
        yield
        events.append("while_serving end")

    @app.after_serving
    async def stopping() -> None:
        events.append("after_serving")

    @app.route("/")
    async def index():
        return ",".join(events)

    async with app.test_app() as test_app:
        assert events == ["before_serving", "while_serving start"]
        response = await test_app.test_client().get("/")
        assert await response.get_data(as_text=True) == "before_serving,while_serving start"
    assert events == ["before_serving", "while_serving start", "while_serving end", "after_serving"]


async def test_test_app_reports_a_failing_startup(app: Quaver) -> None:
    @app.before_serving
    async def broken() -> None:
        raise RuntimeError("no database")

    with pytest.raises(LifespanError, match="no database"):
        async with app.test_app():
            pass


def test_test_client_class_is_the_client_and_a_subclass_is_used(app: Quaver) -> None:
    assert app.test_client_class is QuaverClient
    assert type(app.test_client()) is QuaverClient

    class Client(QuaverClient):
        pass

    app.test_client_class = Client
    assert type(app.test_client()) is Client


async def test_make_request_is_the_hook_every_request_goes_through(app: Quaver) -> None:
    # Extensions (quart-schema) subclass the client and override _make_request,
    # called with Quart's positional arguments, to rewrite what is sent.
    @app.post("/echo")
    async def echo():
        return {"json": await request.get_json(), "query": request.args.to_dict()}

    @app.post("/moved")
    async def moved():
        return redirect("/echo", 307)

    calls = []

    class Client(QuaverClient):
        async def _make_request(self, path, method, headers, data, form, files, query_string, json,
                                scheme, root_path, http_version, scope_base, auth=None, subdomain=None):
            calls.append((path, method))
            if json is not sentinel:
                json = {key.upper(): value for key, value in json.items()}
            return await super()._make_request(path, method, headers, data, form, files, query_string, json,
                                               scheme, root_path, http_version, scope_base, auth, subdomain)

    app.test_client_class = Client
    client = app.test_client()
    response = await client.post("/echo", json={"title": "Alien"}, query_string={"page": "2"})
    assert await response.get_json() == {"json": {"TITLE": "Alien"}, "query": {"page": "2"}}
    followed = await client.post("/moved", json={"title": "Brazil"}, follow_redirects=True)
    assert await followed.get_json() == {"json": {"TITLE": "Brazil"}, "query": {}}
    assert calls == [("/echo", "POST"), ("/moved", "POST"), ("/echo", "POST")]


# -- the client's websocket connection class, and a refusal's parts -----------
async def test_a_websocket_connection_class_set_on_the_client_makes_its_websockets(app: Quaver) -> None:
    class CountingConnection(TestWebsocketConnection):
        sent = 0

        async def send(self, data: str | bytes) -> None:
            type(self).sent += 1
            await super().send(data)

    @app.websocket("/echo")
    async def echo() -> None:
        await websocket.send(await websocket.receive())

    client = app.test_client()
    client.websocket_connection_class = CountingConnection
    async with client.websocket("/echo") as ws:
        assert isinstance(ws, CountingConnection)
        await ws.send("ping")
        assert await ws.receive() == "ping"
    assert CountingConnection.sent == 1


async def test_a_refused_websockets_status_headers_and_body_are_on_the_connection(app: Quaver) -> None:
    @app.websocket("/private")
    async def private() -> object:
        return "members only", 401, {"WWW-Authenticate": "Basic"}

    connection = app.test_client().websocket("/private")
    assert connection.status_code is None
    assert connection.headers is None
    with pytest.raises(WebsocketResponseError):
        async with connection as ws:
            await ws.receive()
    assert connection.status_code == 401
    assert connection.headers["WWW-Authenticate"] == "Basic"
    assert bytes(connection.response_data) == b"members only"
