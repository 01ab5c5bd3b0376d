"""What a view may return, and how it becomes the response the client sees; make_response, redirect, abort."""

from __future__ import annotations

import asyncio

import pytest
from werkzeug.datastructures import Headers
from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from quaver import Quaver, Response, abort, jsonify, make_response, redirect, request, url_for

# --- plain bodies --------------------------------------------------------------


async def test_str_is_an_html_utf8_response(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "caf\u00e9"

    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == str(len("caf\u00e9".encode()))
    assert await response.get_data() == "caf\u00e9".encode()


async def test_bytes_are_sent_as_they_are(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return b"\x00\xffraw"

    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "5"
    assert await response.get_data() == b"\x00\xffraw"


async def test_bytearray_is_sent_as_bytes(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return bytearray(b"mutable")

    response = await client.get("/")
    assert await response.get_data() == b"mutable"


async def test_sync_view_returning_str(app: Quaver, client) -> None:
    @app.get("/")
    def index():
        return "from a thread"

    response = await client.get("/")
    assert await response.get_data() == b"from a thread"


async def test_dict_is_a_json_response(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"a": 1, "nested": {"b": [True, None]}}

    response = await client.get("/")
    assert response.headers["Content-Type"] == "application/json"
    assert await response.get_json() == {"a": 1, "nested": {"b": [True, None]}}


async def test_list_is_a_json_response(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return [1, "two", {"three": 3}]

    response = await client.get("/")
    assert response.mimetype == "application/json"
    assert await response.get_json() == [1, "two", {"three": 3}]


async def test_str_return_follows_a_custom_response_class_mimetype(client) -> None:
    class PlainResponse(Response):
        default_mimetype = "text/plain"

    class PlainApp(Quaver):
        response_class = PlainResponse

    app = PlainApp(__name__)
    app.config["TESTING"] = True

    @app.get("/")
    async def index():
        return "text"

    response = await app.test_client().get("/")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


# --- tuples ------------------------------------------------------------------------


async def test_body_and_int_status(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return "created", 201

    response = await client.post("/")
    assert response.status_code == 201
    assert await response.get_data() == b"created"


async def test_body_and_status_string_with_reason(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return "made", "201 CREATED"

    response = await client.post("/")
    assert response.status_code == 201
    assert response.status == "201 CREATED"


async def test_status_string_with_custom_reason_is_kept(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "odd", "299 SOMETHING ODD"

    response = await client.get("/")
    assert response.status_code == 299


async def test_status_string_with_only_digits(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "teapot", "418"

    response = await client.get("/")
    assert response.status_code == 418


async def test_dict_and_status(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"error": "bad"}, 422

    response = await client.post("/")
    assert response.status_code == 422
    assert await response.get_json() == {"error": "bad"}


async def test_list_and_status(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return [1, 2], 202

    response = await client.get("/")
    assert response.status_code == 202
    assert await response.get_json() == [1, 2]


async def test_body_and_headers_dict(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "with headers", {"X-One": "1", "Content-Type": "text/plain"}

    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["X-One"] == "1"
    assert response.headers["Content-Type"] == "text/plain"


async def test_body_and_headers_list_keeps_repeated_names(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "x", [("X-Multi", "a"), ("X-Multi", "b")]

    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers.getlist("X-Multi") == ["a", "b"]


async def test_body_and_headers_object(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "x", Headers({"X-From-Headers": "yes"})

    response = await client.get("/")
    assert response.headers["X-From-Headers"] == "yes"


async def test_body_status_and_headers(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"ok": False}, 409, {"X-Reason": "conflict"}

    response = await client.get("/")
    assert response.status_code == 409
    assert response.headers["X-Reason"] == "conflict"
    assert await response.get_json() == {"ok": False}


async def test_body_status_and_headers_list(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "gone", 410, [("X-A", "1")]

    response = await client.get("/")
    assert (response.status_code, response.headers["X-A"]) == (410, "1")


async def test_response_with_status_and_headers_overrides_them(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return Response("r", headers={"X-A": "original"}), 202, {"X-A": "replaced", "X-B": "added"}

    response = await client.get("/")
    assert response.status_code == 202
    assert response.headers.getlist("X-A") == ["replaced"]
    assert response.headers["X-B"] == "added"
    assert await response.get_data() == b"r"


async def test_tuple_of_wrong_length_raises_type_error(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return "a", 200, {}, "extra"

    with pytest.raises(TypeError):
        await client.get("/")


# --- other response objects ----------------------------------------------------------


async def test_response_object_is_used_as_is(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return Response("plain", status=203, mimetype="text/plain", headers={"X-Kept": "k"})

    response = await client.get("/")
    assert response.status_code == 203
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Kept"] == "k"
    assert await response.get_data() == b"plain"


async def test_werkzeug_response_is_converted(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = WerkzeugResponse("from werkzeug", status=207, mimetype="text/csv")
        response.headers.add("X-Multi", "1")
        response.headers.add("X-Multi", "2")
        response.set_cookie("w", "z")
        return response

    response = await client.get("/")
    assert response.status_code == 207
    assert response.mimetype == "text/csv"
    assert response.headers.getlist("X-Multi") == ["1", "2"]
    assert "w=z" in response.headers["Set-Cookie"]
    assert await response.get_data() == b"from werkzeug"


async def test_streamed_werkzeug_response_is_converted(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return WerkzeugResponse(iter([b"a", b"b", b"c"]), mimetype="text/plain")

    response = await client.get("/")
    assert response.status_code == 200
    assert await response.get_data() == b"abc"


async def test_returned_http_exception_is_its_error_page(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return NotFound("nothing here")

    response = await client.get("/")
    assert response.status_code == 404
    assert b"nothing here" in await response.get_data()


async def test_returned_http_exception_goes_around_error_handlers(app: Quaver, client) -> None:
    @app.errorhandler(403)
    async def handler(error):
        return "handled", 403

    @app.get("/")
    async def index():
        return Forbidden()

    response = await client.get("/")
    assert response.status_code == 403
    body = await response.get_data()
    assert b"Forbidden" in body
    assert b"handled" not in body


# --- streaming ---------------------------------------------------------------------------


async def test_async_generator_is_streamed(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        async def generate():
            for part in ("a", "b", "c"):
                yield part

        return generate()

    response = await client.get("/")
    assert response.status_code == 200
    assert "Content-Length" not in response.headers
    assert await response.get_data() == b"abc"


async def test_sync_generator_is_streamed(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        def generate():
            yield b"x"
            yield "y"
            yield b"z"

        return generate()

    response = await client.get("/")
    assert response.status_code == 200
    assert await response.get_data() == b"xyz"


async def test_generator_from_a_sync_view_is_streamed(app: Quaver, client) -> None:
    @app.get("/")
    def index():
        def generate():
            yield "1"
            yield "2"

        return generate()

    response = await client.get("/")
    assert await response.get_data() == b"12"


async def test_generator_with_status_and_headers(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        async def generate():
            yield "data: 1\n\n"

        return generate(), 201, {"Content-Type": "text/event-stream"}

    response = await client.get("/")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "text/event-stream"
    assert await response.get_data() == b"data: 1\n\n"


async def test_streamed_chunks_reach_the_client_before_the_generator_ends(app: Quaver, client) -> None:
    release = asyncio.Event()

    @app.get("/")
    async def index():
        async def generate():
            yield b"first"
            await release.wait()
            yield b"second"

        return generate()

    async with client.request("/") as connection:
        await connection.send_complete()
        first = await asyncio.wait_for(connection.receive(), 5)
        assert first == b"first"
        release.set()
        second = await asyncio.wait_for(connection.receive(), 5)
        assert second == b"second"
        assert await connection.receive() == b""
    assert connection.status_code == 200


async def test_head_request_to_a_streaming_view_sends_no_body(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        async def generate():
            yield b"body"

        return generate()

    response = await client.head("/")
    assert response.status_code == 200
    assert await response.get_data() == b""


# --- invalid return values ---------------------------------------------------------------


async def test_none_raises_type_error_while_testing(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return None

    with pytest.raises(TypeError, match="did not return a valid response"):
        await client.get("/")


async def test_none_gets_500_when_exceptions_do_not_propagate(app: Quaver, client) -> None:
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/")
    async def index():
        pass

    response = await client.get("/")
    assert response.status_code == 500


async def test_none_body_with_status_raises_type_error(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return None, 200

    with pytest.raises(TypeError):
        await client.get("/")


async def test_int_return_raises_type_error(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return 42

    with pytest.raises(TypeError):
        await client.get("/")


# --- make_response ---------------------------------------------------------------------------


async def test_make_response_lets_a_view_add_headers(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = await make_response("body", 201)
        response.headers["X-Added"] = "yes"
        return response

    response = await client.get("/")
    assert response.status_code == 201
    assert response.headers["X-Added"] == "yes"
    assert await response.get_data() == b"body"


async def test_make_response_takes_a_tuple_as_one_argument(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return await make_response(("tuple", 202, {"X-T": "t"}))

    response = await client.get("/")
    assert (response.status_code, response.headers["X-T"]) == (202, "t")


async def test_make_response_without_arguments_is_empty_200(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = await make_response()
        return response, {"X-Empty": "1"}

    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["X-Empty"] == "1"
    assert await response.get_data() == b""


async def test_make_response_of_a_dict_is_json(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        response = await make_response({"k": "v"}, 200, {"X-J": "j"})
        assert isinstance(response, Response)
        return response

    response = await client.get("/")
    assert response.headers["X-J"] == "j"
    assert await response.get_json() == {"k": "v"}


async def test_make_response_returns_a_given_response_unchanged(app: Quaver, client) -> None:
    made = {}

    @app.get("/")
    async def index():
        original = jsonify(same=True)
        made["same"] = (await make_response(original)) is original
        return original

    await client.get("/")
    assert made == {"same": True}


async def test_app_make_response_outside_a_view(app: Quaver) -> None:
    async with app.app_context():
        response = await app.make_response(("text", 203))
    assert response.status_code == 203
    assert await response.get_data() == b"text"


async def test_make_response_of_none_outside_any_context_is_a_type_error(app: Quaver) -> None:
    for value in (None, (None, 201)):
        with pytest.raises(TypeError, match="did not return a valid response"):
            await app.make_response(value)


async def test_make_response_leaves_a_werkzeug_response_one_as_quart_does(app: Quaver) -> None:
    given = WerkzeugResponse("hello")
    made = await app.make_response((given, 201, {"X-Header": "bob"}))
    assert made is given
    assert (made.status_code, made.headers["X-Header"], made.get_data()) == (201, "bob", b"hello")


async def test_make_response_of_an_http_error_is_its_response(app: Quaver) -> None:
    made = await app.make_response(NotFound("nothing here"))
    assert made.status_code == 404
    assert b"nothing here" in made.get_data()


async def test_after_request_sees_the_apps_response_class_for_a_werkzeug_one(app: Quaver, client) -> None:
    seen = []

    @app.after_request
    async def look(response):
        seen.append((type(response), await response.get_data()))
        return response

    @app.get("/")
    async def index():
        return await make_response(WerkzeugResponse("converted"), 202)

    response = await client.get("/")
    assert (response.status_code, await response.get_data()) == (202, b"converted")
    assert seen == [(app.response_class, b"converted")]


# --- redirect and abort ---------------------------------------------------------------------------


async def test_redirect_defaults_to_302_with_location(app: Quaver, client) -> None:
    @app.get("/old")
    async def old():
        return redirect("/new?x=1")

    response = await client.get("/old")
    assert response.status_code == 302
    assert response.headers["Location"] == "/new?x=1"
    assert b"/new?x=1" in await response.get_data()


async def test_redirect_with_code(app: Quaver, client) -> None:
    @app.get("/old")
    async def old():
        return redirect("https://example.com/", 301)

    response = await client.get("/old")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/"


async def test_redirect_to_url_for_is_followed(app: Quaver, client) -> None:
    @app.get("/start")
    async def start():
        return redirect(url_for("end", n=3))

    @app.get("/end/<int:n>")
    async def end(n):
        return f"arrived {n}"

    response = await client.get("/start", follow_redirects=True)
    assert response.status_code == 200
    assert await response.get_data() == b"arrived 3"


async def test_redirect_outside_an_app_makes_a_response() -> None:
    response = redirect("/elsewhere", 307)
    assert isinstance(response, Response)
    assert (response.status_code, response.headers["Location"]) == (307, "/elsewhere")


async def test_abort_with_code(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        abort(403)

    response = await client.get("/")
    assert response.status_code == 403


async def test_abort_with_description(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        abort(404, "no such widget")

    response = await client.get("/")
    assert response.status_code == 404
    assert b"no such widget" in await response.get_data()


async def test_abort_with_a_response(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        abort(Response("custom refusal", 451, {"X-Why": "law"}))

    response = await client.get("/")
    assert response.status_code == 451
    assert response.headers["X-Why"] == "law"
    assert await response.get_data() == b"custom refusal"


async def test_abort_with_a_json_response(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        abort(jsonify(error="nope"))

    response = await client.get("/")
    assert response.status_code == 200
    assert await response.get_json() == {"error": "nope"}


async def test_abort_is_handled_by_the_error_handler_for_its_code(app: Quaver, client) -> None:
    @app.errorhandler(404)
    async def missing(error):
        return {"error": error.description}, 404

    @app.get("/")
    async def index():
        abort(404, "gone")

    response = await client.get("/")
    assert response.status_code == 404
    assert await response.get_json() == {"error": "gone"}


async def test_abort_in_before_request_stops_the_view(app: Quaver, client) -> None:
    called = []

    @app.before_request
    async def guard():
        if request.args.get("key") != "ok":
            abort(401)

    @app.get("/")
    async def index():
        called.append(True)
        return "in"

    assert (await client.get("/")).status_code == 401
    assert called == []
    assert (await client.get("/?key=ok")).status_code == 200
