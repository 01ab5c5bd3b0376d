"""Error handling: handlers by code and by class, routing errors, unhandled
errors and how PROPAGATE_EXCEPTIONS, TESTING and DEBUG decide their fate."""

from __future__ import annotations

import logging

import pytest
from werkzeug.exceptions import (
    Forbidden,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
)

from quaver import Blueprint, Quaver, abort, got_request_exception, request


class AppError(Exception):
    pass


class PaymentError(AppError):
    pass


class CardDeclined(PaymentError):
    pass


class Teapot(HTTPException):
    code = 418
    description = "short and stout"


# -- handlers by code -------------------------------------------------------
async def test_errorhandler_by_code_answers_abort(app: Quaver) -> None:
    @app.errorhandler(403)
    async def forbidden(error: HTTPException) -> tuple[str, int]:
        return f"custom {error.code}", 403

    @app.route("/")
    async def index() -> str:
        abort(403)

    response = await app.test_client().get("/")
    assert response.status_code == 403
    assert await response.get_data(as_text=True) == "custom 403"


async def test_register_error_handler_by_code(app: Quaver) -> None:
    async def gone(error: HTTPException) -> tuple[dict, int]:
        return {"error": error.name}, 410

    app.register_error_handler(410, gone)

    @app.route("/")
    async def index() -> str:
        abort(410)

    response = await app.test_client().get("/")
    assert response.status_code == 410
    assert await response.get_json() == {"error": "Gone"}


async def test_handler_by_code_and_by_its_class_are_the_same(app: Quaver) -> None:
    @app.errorhandler(Forbidden)
    async def forbidden(error: Forbidden) -> tuple[str, int]:
        return "by class", 403

    @app.route("/")
    async def index() -> str:
        abort(403)

    assert await (await app.test_client().get("/")).get_data(as_text=True) == "by class"


async def test_http_error_without_handler_gets_its_default_page(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        abort(409)

    response = await app.test_client().get("/")
    assert response.status_code == 409
    assert "Conflict" in await response.get_data(as_text=True)


async def test_custom_http_exception_class_gives_its_code(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        raise Teapot()

    response = await app.test_client().get("/")
    assert response.status_code == 418
    assert "short and stout" in await response.get_data(as_text=True)


async def test_errorhandler_for_unknown_code_is_refused(app: Quaver) -> None:
    with pytest.raises(ValueError):
        app.register_error_handler(999, lambda error: "")


async def test_errorhandler_for_a_non_exception_is_refused(app: Quaver) -> None:
    with pytest.raises(ValueError):
        app.register_error_handler(int, lambda error: "")  # type: ignore[arg-type]


# -- routing errors ---------------------------------------------------------
async def test_404_handler_answers_unknown_urls(app: Quaver) -> None:
    @app.errorhandler(404)
    async def not_found(error: NotFound) -> tuple[str, int]:
        return f"no page at {request.path}", 404

    response = await app.test_client().get("/nowhere")
    assert response.status_code == 404
    assert await response.get_data(as_text=True) == "no page at /nowhere"


async def test_405_handler_answers_wrong_methods(app: Quaver) -> None:
    @app.route("/only-get")
    async def only_get() -> str:
        return "ok"

    @app.errorhandler(405)
    async def not_allowed(error: MethodNotAllowed) -> tuple[str, int]:
        return f"use one of {sorted(error.valid_methods)}", 405

    response = await app.test_client().post("/only-get")
    assert response.status_code == 405
    assert await response.get_data(as_text=True) == "use one of ['GET', 'HEAD', 'OPTIONS']"


async def test_405_without_handler_lists_allowed_methods(app: Quaver) -> None:
    @app.route("/thing", methods=["GET", "PUT"])
    async def thing() -> str:
        return "ok"

    response = await app.test_client().delete("/thing")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PUT"}


async def test_http_exception_handler_catches_every_http_error(app: Quaver) -> None:
    @app.errorhandler(HTTPException)
    async def any_http(error: HTTPException) -> tuple[str, int]:
        return f"http {error.code}", error.code

    @app.route("/")
    async def index() -> str:
        abort(401)

    client = app.test_client()
    assert await (await client.get("/")).get_data(as_text=True) == "http 401"
    assert await (await client.get("/missing")).get_data(as_text=True) == "http 404"


async def test_slash_redirect_is_not_sent_to_error_handlers(app: Quaver) -> None:
    @app.errorhandler(HTTPException)
    async def any_http(error: HTTPException) -> tuple[str, int]:
        return "handled", 599

    @app.route("/folder/")
    async def folder() -> str:
        return "folder"

    response = await app.test_client().get("/folder")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/folder/")


async def test_exception_handler_also_catches_http_errors_as_in_flask(app: Quaver) -> None:
    @app.errorhandler(Exception)
    async def anything(error: Exception) -> tuple[str, int]:
        return type(error).__name__, 599

    response = await app.test_client().get("/missing")
    assert response.status_code == 599
    assert await response.get_data(as_text=True) == "NotFound"


# -- handlers by class ------------------------------------------------------
async def test_errorhandler_by_class_gets_the_exception(app: Quaver) -> None:
    @app.errorhandler(AppError)
    async def handle(error: AppError) -> tuple[dict, int]:
        return {"message": str(error)}, 400

    @app.route("/")
    async def index() -> str:
        raise AppError("bad input")

    response = await app.test_client().get("/")
    assert response.status_code == 400
    assert await response.get_json() == {"message": "bad input"}


async def test_errorhandler_for_a_base_class_catches_subclasses(app: Quaver) -> None:
    @app.errorhandler(AppError)
    async def handle(error: AppError) -> tuple[str, int]:
        return type(error).__name__, 400

    @app.route("/")
    async def index() -> str:
        raise CardDeclined()

    assert await (await app.test_client().get("/")).get_data(as_text=True) == "CardDeclined"


async def test_most_specific_error_handler_wins(app: Quaver) -> None:
    # Registered broadest first and narrowest first, to show order does not matter.
    @app.errorhandler(AppError)
    async def app_error(error: AppError) -> tuple[str, int]:
        return "AppError handler", 400

    @app.errorhandler(CardDeclined)
    async def declined(error: CardDeclined) -> tuple[str, int]:
        return "CardDeclined handler", 402

    @app.errorhandler(PaymentError)
    async def payment(error: PaymentError) -> tuple[str, int]:
        return "PaymentError handler", 402

    @app.route("/<kind>")
    async def index(kind: str) -> str:
        raise {"app": AppError, "payment": PaymentError, "declined": CardDeclined}[kind]()

    client = app.test_client()
    assert await (await client.get("/app")).get_data(as_text=True) == "AppError handler"
    assert await (await client.get("/payment")).get_data(as_text=True) == "PaymentError handler"
    assert await (await client.get("/declined")).get_data(as_text=True) == "CardDeclined handler"


async def test_code_handler_wins_over_http_exception_class_handler(app: Quaver) -> None:
    @app.errorhandler(HTTPException)
    async def generic(error: HTTPException) -> tuple[str, int]:
        return "generic", error.code

    @app.errorhandler(404)
    async def missing(error: HTTPException) -> tuple[str, int]:
        return "specific", 404

    client = app.test_client()
    assert await (await client.get("/missing")).get_data(as_text=True) == "specific"


async def test_errors_from_before_request_go_to_error_handlers(app: Quaver) -> None:
    @app.before_request
    async def check() -> None:
        raise PaymentError("no credit")

    @app.errorhandler(PaymentError)
    async def handle(error: PaymentError) -> tuple[str, int]:
        return str(error), 402

    @app.route("/")
    async def index() -> str:
        return "view"

    response = await app.test_client().get("/")
    assert response.status_code == 402
    assert await response.get_data(as_text=True) == "no credit"


async def test_blueprint_error_handler_applies_to_its_own_views(app: Quaver) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.errorhandler(AppError)
    async def api_error(error: AppError) -> tuple[dict, int]:
        return {"error": "api"}, 400

    @app.errorhandler(AppError)
    async def site_error(error: AppError) -> tuple[str, int]:
        return "site", 400

    @bp.route("/")
    async def api_index() -> str:
        raise AppError()

    @app.route("/")
    async def index() -> str:
        raise AppError()

    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/api/")).get_json() == {"error": "api"}
    assert await (await client.get("/")).get_data(as_text=True) == "site"


async def test_blueprint_app_errorhandler_applies_app_wide(app: Quaver) -> None:
    bp = Blueprint("errors", __name__)

    @bp.app_errorhandler(404)
    async def not_found(error: NotFound) -> tuple[str, int]:
        return "from blueprint", 404

    app.register_blueprint(bp)
    response = await app.test_client().get("/missing")
    assert await response.get_data(as_text=True) == "from blueprint"


# -- unhandled errors -------------------------------------------------------
async def test_unhandled_error_reaches_the_test_when_testing(app: Quaver) -> None:
    assert app.testing

    @app.route("/")
    async def index() -> str:
        raise AppError("visible to the test")

    with pytest.raises(AppError, match="visible to the test"):
        await app.test_client().get("/")


async def test_unhandled_error_propagates_when_propagate_exceptions_is_true() -> None:
    app = Quaver(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    assert not app.testing

    @app.route("/")
    async def index() -> str:
        raise AppError("propagated")

    with pytest.raises(AppError):
        await app.test_client().get("/")


async def test_unhandled_error_propagates_in_debug_mode() -> None:
    app = Quaver(__name__)
    app.debug = True

    @app.route("/")
    async def index() -> str:
        raise AppError("debug")

    with pytest.raises(AppError):
        await app.test_client().get("/")


async def test_unhandled_error_gives_500_when_not_testing() -> None:
    app = Quaver(__name__)

    @app.route("/")
    async def index() -> str:
        raise AppError("hidden")

    response = await app.test_client().get("/")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "Internal Server Error" in body
    assert "hidden" not in body


async def test_unhandled_error_is_logged_with_its_traceback(
    app: Quaver, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/broken")
    async def broken() -> str:
        raise AppError("disk on fire")

    with caplog.at_level(logging.ERROR):
        response = await app.test_client().get("/broken")
    assert response.status_code == 500
    records = [record for record in caplog.records if record.name == app.logger.name]
    assert len(records) == 1
    assert "/broken" in records[0].getMessage()
    assert "Traceback (most recent call last)" in caplog.text
    assert "AppError: disk on fire" in caplog.text
    assert "in broken" in caplog.text  # the view's frame is in the traceback


async def test_trap_http_exceptions_raises_unhandled_http_errors_to_the_test(app: Quaver) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.errorhandler(404)
    async def not_found(error: NotFound) -> tuple[str, int]:
        return "handled", 404

    @app.route("/forbidden")
    async def forbidden() -> str:
        abort(403)

    @app.route("/missing")
    async def missing() -> str:
        abort(404)

    client = app.test_client()
    with pytest.raises(Forbidden):
        await client.get("/forbidden")
    # As in Flask, an error that has a handler is still handled.
    assert await (await client.get("/missing")).get_data(as_text=True) == "handled"


async def test_bad_request_key_error_is_trapped_in_debug(app: Quaver) -> None:
    app.debug = True

    @app.route("/", methods=["POST"])
    async def index() -> str:
        return (await request.form)["missing"]

    with pytest.raises(KeyError):
        await app.test_client().post("/", form={"present": "1"})


async def test_bad_request_key_error_gives_400_when_not_trapped() -> None:
    app = Quaver(__name__)

    @app.route("/", methods=["POST"])
    async def index() -> str:
        return (await request.form)["missing"]

    response = await app.test_client().post("/", form={"present": "1"})
    assert response.status_code == 400


async def test_500_handler_catches_unhandled_errors_when_not_propagating(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    @app.errorhandler(500)
    async def server_error(error: InternalServerError) -> tuple[str, int]:
        seen.append(error)
        return "sorry", 500

    @app.route("/")
    async def index() -> str:
        raise AppError("boom")

    response = await app.test_client().get("/")
    assert response.status_code == 500
    assert await response.get_data(as_text=True) == "sorry"
    assert isinstance(seen[0], InternalServerError)
    assert isinstance(seen[0].original_exception, AppError)


async def test_500_handler_by_class_catches_unhandled_errors(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(InternalServerError)
    async def server_error(error: InternalServerError) -> tuple[str, int]:
        return f"wrapped {type(error.original_exception).__name__}", 500

    @app.route("/")
    async def index() -> str:
        raise KeyError("k")

    assert await (await app.test_client().get("/")).get_data(as_text=True) == "wrapped KeyError"


async def test_500_handler_is_skipped_while_propagating(app: Quaver) -> None:
    @app.errorhandler(500)
    async def server_error(error: InternalServerError) -> tuple[str, int]:
        return "sorry", 500

    @app.route("/")
    async def index() -> str:
        raise AppError("boom")

    with pytest.raises(AppError):
        await app.test_client().get("/")


async def test_abort_500_goes_to_the_500_handler_without_original_exception(app: Quaver) -> None:
    @app.errorhandler(500)
    async def server_error(error: InternalServerError) -> tuple[str, int]:
        return f"original={error.original_exception!r}", 500

    @app.route("/")
    async def index() -> str:
        abort(500)

    response = await app.test_client().get("/")
    assert response.status_code == 500
    assert await response.get_data(as_text=True) == "original=None"


async def test_got_request_exception_signal_is_sent_for_unhandled_errors(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    def record(sender, exception, **extra) -> None:
        seen.append((sender, exception))

    @app.route("/")
    async def index() -> str:
        raise AppError("signal me")

    with got_request_exception.connected_to(record, app):
        await app.test_client().get("/")
    assert len(seen) == 1
    assert seen[0][0] is app
    assert isinstance(seen[0][1], AppError)


# -- errors inside error handlers ------------------------------------------
async def test_error_in_error_handler_gives_500_when_not_propagating(
    app: Quaver, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(AppError)
    async def broken_handler(error: AppError) -> str:
        raise LookupError("handler broke")

    @app.route("/")
    async def index() -> str:
        raise AppError("first")

    with caplog.at_level(logging.ERROR):
        response = await app.test_client().get("/")
    assert response.status_code == 500
    assert "LookupError: handler broke" in caplog.text


async def test_error_in_error_handler_reaches_the_500_handler(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(AppError)
    async def broken_handler(error: AppError) -> str:
        raise LookupError("handler broke")

    @app.errorhandler(500)
    async def server_error(error: InternalServerError) -> tuple[str, int]:
        return type(error.original_exception).__name__, 500

    @app.route("/")
    async def index() -> str:
        raise AppError("first")

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "LookupError"


async def test_error_in_error_handler_reaches_the_test_when_testing(app: Quaver) -> None:
    @app.errorhandler(AppError)
    async def broken_handler(error: AppError) -> str:
        raise LookupError("handler broke")

    @app.route("/")
    async def index() -> str:
        raise AppError("first")

    with pytest.raises(LookupError):
        await app.test_client().get("/")


async def test_error_in_500_handler_is_logged_and_the_plain_500_sent(
    app: Quaver, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(500)
    async def broken_500(error: InternalServerError) -> str:
        raise LookupError("500 handler broke")

    @app.route("/")
    async def index() -> str:
        raise AppError("first")

    # Flask lets this error go on to the server. Quaver logs it and answers
    # with the plain 500 page: an ASGI server that got the error after a
    # complete response would drop the connection under a keep-alive client.
    with caplog.at_level(logging.ERROR):
        response = await app.test_client().get("/")
    assert response.status_code == 500
    assert "Internal Server Error" in await response.get_data(as_text=True)
    assert "AppError: first" in caplog.text
    assert "LookupError: 500 handler broke" in caplog.text


async def test_view_returning_none_is_an_error(app: Quaver) -> None:
    @app.route("/")
    async def index() -> None:
        return None

    with pytest.raises(TypeError, match="did not return a valid response"):
        await app.test_client().get("/")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/ok", 200), ("/abort", 404), ("/no-such-page", 404), ("/fails", 500), ("/handled", 402), ("/post-only", 405)],
)
async def test_a_request_ending_in_an_error_is_freed_without_the_garbage_collector(
    path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """No reference cycle through an error's traceback keeps the request (and
    its body) alive until the next full collection."""
    import asyncio
    import gc
    import weakref

    caplog.set_level(logging.CRITICAL)
    app = Quaver(__name__)  # not testing: the 500 is answered, not raised
    requests: list[weakref.ref] = []

    @app.before_request
    async def remember() -> None:
        requests.append(weakref.ref(request._get_current_object()))

    @app.get("/ok")
    async def ok():
        return "ok"

    @app.get("/abort")
    async def aborts():
        abort(404)

    @app.get("/fails")
    async def fails():
        raise RuntimeError("boom")

    @app.get("/handled")
    async def handled():
        raise PaymentError()

    @app.errorhandler(PaymentError)
    async def payment(error):
        return "pay first", 402

    @app.post("/post-only")
    async def post_only():
        return "posted"

    statuses = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
    }
    gc.collect()
    gc.disable()
    try:
        await app(scope, receive, send)
        await asyncio.sleep(0)
        assert statuses == [status]
        assert len(requests) == 1
        assert requests[0]() is None
    finally:
        gc.enable()
