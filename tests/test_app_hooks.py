"""Request hooks: before_request, after_request, teardown_request,
teardown_appcontext, and the order they run in."""

from __future__ import annotations

import pytest

from quaver import Blueprint, Quaver, Response, abort, g, request


async def test_before_request_runs_before_the_view(app: Quaver) -> None:
    @app.before_request
    async def stamp() -> None:
        g.stamp = "set-by-hook"

    @app.route("/")
    async def index() -> str:
        return g.stamp

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "set-by-hook"


async def test_before_request_returning_a_value_skips_the_view(app: Quaver) -> None:
    calls: list[str] = []

    @app.before_request
    async def gate():
        if request.headers.get("Authorization") is None:
            return "login first", 401
        return None

    @app.route("/")
    async def index() -> str:
        calls.append("view")
        return "secret"

    client = app.test_client()
    response = await client.get("/")
    assert response.status_code == 401
    assert await response.get_data(as_text=True) == "login first"
    assert calls == []

    response = await client.get("/", headers={"Authorization": "Bearer x"})
    assert await response.get_data(as_text=True) == "secret"
    assert calls == ["view"]


async def test_before_request_short_circuit_skips_later_before_hooks(app: Quaver) -> None:
    calls: list[str] = []

    @app.before_request
    async def first():
        calls.append("first")
        return "stopped"

    @app.before_request
    async def second() -> None:
        calls.append("second")

    @app.route("/")
    async def index() -> str:
        return "view"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "stopped"
    assert calls == ["first"]


async def test_after_request_still_runs_when_before_request_short_circuits(app: Quaver) -> None:
    @app.before_request
    async def gate() -> str:
        return "early"

    @app.after_request
    async def tag(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    @app.route("/")
    async def index() -> str:
        return "view"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "early"
    assert response.headers["X-After"] == "1"


async def test_before_request_can_abort(app: Quaver) -> None:
    @app.before_request
    async def forbid() -> None:
        abort(403)

    @app.route("/")
    async def index() -> str:
        return "view"

    assert (await app.test_client().get("/")).status_code == 403


async def test_after_request_can_change_the_response(app: Quaver) -> None:
    @app.after_request
    async def add_header(response: Response) -> Response:
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.route("/")
    async def index() -> str:
        return "hello"

    response = await app.test_client().get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert await response.get_data(as_text=True) == "hello"


async def test_after_request_can_replace_the_response(app: Quaver) -> None:
    @app.after_request
    async def replace(response: Response) -> Response:
        return Response("replaced", status=202, headers={"X-Was": str(response.status_code)})

    @app.route("/")
    async def index() -> tuple[str, int]:
        return "original", 200

    response = await app.test_client().get("/")
    assert response.status_code == 202
    assert response.headers["X-Was"] == "200"
    assert await response.get_data(as_text=True) == "replaced"


async def test_after_request_runs_on_error_handler_responses(app: Quaver) -> None:
    @app.errorhandler(404)
    async def missing(error) -> tuple[str, int]:
        return "nothing here", 404

    @app.after_request
    async def tag(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    response = await app.test_client().get("/nope")
    assert response.status_code == 404
    assert response.headers["X-After"] == "1"


async def test_after_request_runs_on_the_500_for_an_unhandled_error(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.after_request
    async def tag(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    @app.route("/")
    async def index() -> str:
        raise ValueError("boom")

    response = await app.test_client().get("/")
    assert response.status_code == 500
    assert response.headers["X-After"] == "1"


async def test_teardown_request_gets_none_after_a_good_request(app: Quaver) -> None:
    seen: list[object] = []

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    async def index() -> str:
        return "ok"

    await app.test_client().get("/")
    assert seen == [None]


async def test_teardown_request_gets_the_unhandled_exception(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    async def index() -> str:
        raise ValueError("boom")

    response = await app.test_client().get("/")
    assert response.status_code == 500
    assert len(seen) == 1
    assert isinstance(seen[0], ValueError)
    assert str(seen[0]) == "boom"


async def test_teardown_request_gets_the_exception_that_propagates_in_testing(app: Quaver) -> None:
    seen: list[object] = []

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    async def index() -> str:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await app.test_client().get("/")
    assert len(seen) == 1
    assert isinstance(seen[0], KeyError)


async def test_teardown_request_gets_none_when_an_error_handler_took_the_error(app: Quaver) -> None:
    seen: list[object] = []

    @app.errorhandler(ValueError)
    async def handle(error: ValueError) -> tuple[str, int]:
        return "handled", 400

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    async def index() -> str:
        raise ValueError("boom")

    response = await app.test_client().get("/")
    assert response.status_code == 400
    assert seen == [None]


async def test_teardown_request_runs_after_the_response_is_built(app: Quaver) -> None:
    order: list[str] = []

    @app.after_request
    async def after(response: Response) -> Response:
        order.append("after_request")
        return response

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        order.append("teardown_request")

    @app.teardown_appcontext
    async def teardown_app(exc: BaseException | None) -> None:
        order.append("teardown_appcontext")

    @app.route("/")
    async def index() -> str:
        order.append("view")
        return "ok"

    await app.test_client().get("/")
    assert order == ["view", "after_request", "teardown_request", "teardown_appcontext"]


async def test_teardown_appcontext_gets_the_unhandled_exception(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    @app.teardown_appcontext
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    async def index() -> str:
        raise RuntimeError("db down")

    assert (await app.test_client().get("/")).status_code == 500
    assert len(seen) == 1
    assert isinstance(seen[0], RuntimeError)


async def test_error_in_teardown_request_reaches_the_caller_in_testing(app: Quaver) -> None:
    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        raise LookupError("teardown failed")

    @app.route("/")
    async def index() -> str:
        return "ok"

    with pytest.raises(LookupError):
        await app.test_client().get("/")


async def test_multiple_hooks_run_in_flask_order(app: Quaver) -> None:
    order: list[str] = []

    def record(name: str, returns_arg: bool = False):
        async def hook(*args):
            order.append(name)
            return args[0] if returns_arg else None

        hook.__name__ = name
        return hook

    app.before_request(record("before 1"))
    app.before_request(record("before 2"))
    app.after_request(record("after 1", returns_arg=True))
    app.after_request(record("after 2", returns_arg=True))
    app.teardown_request(record("teardown 1"))
    app.teardown_request(record("teardown 2"))
    app.teardown_appcontext(record("appcontext 1"))
    app.teardown_appcontext(record("appcontext 2"))

    @app.route("/")
    async def index() -> str:
        order.append("view")
        return "ok"

    await app.test_client().get("/")
    assert order == [
        "before 1",
        "before 2",
        "view",
        "after 2",
        "after 1",
        "teardown 2",
        "teardown 1",
        "appcontext 2",
        "appcontext 1",
    ]


async def test_blueprint_hooks_nest_inside_the_apps(app: Quaver) -> None:
    order: list[str] = []
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @app.before_request
    async def app_before() -> None:
        order.append("app before")

    @bp.before_request
    async def bp_before() -> None:
        order.append("bp before")

    @app.after_request
    async def app_after(response: Response) -> Response:
        order.append("app after")
        return response

    @bp.after_request
    async def bp_after(response: Response) -> Response:
        order.append("bp after")
        return response

    @app.teardown_request
    async def app_teardown(exc: BaseException | None) -> None:
        order.append("app teardown")

    @bp.teardown_request
    async def bp_teardown(exc: BaseException | None) -> None:
        order.append("bp teardown")

    @bp.route("/")
    async def bp_index() -> str:
        order.append("bp view")
        return "bp"

    @app.route("/")
    async def index() -> str:
        order.append("app view")
        return "app"

    app.register_blueprint(bp)
    client = app.test_client()

    await client.get("/bp/")
    assert order == [
        "app before",
        "bp before",
        "bp view",
        "bp after",
        "app after",
        "bp teardown",
        "app teardown",
    ]

    order.clear()
    await client.get("/")
    assert order == ["app before", "app view", "app after", "app teardown"]


async def test_a_hook_registered_after_the_first_request_runs_from_then_on(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        return "ok"

    client = app.test_client()
    assert "X-Late" not in (await client.get("/")).headers

    async def late(response: Response) -> Response:
        response.headers["X-Late"] = "yes"
        return response

    app.after_request(late)  # as Quart allows (Flask refuses)
    assert (await client.get("/")).headers["X-Late"] == "yes"


async def test_before_request_runs_for_unknown_urls(app: Quaver) -> None:
    calls: list[str] = []

    @app.before_request
    async def hook() -> None:
        calls.append(request.path)

    assert (await app.test_client().get("/missing")).status_code == 404
    assert calls == ["/missing"]


async def test_sync_hooks_can_use_request_and_g(app: Quaver) -> None:
    @app.before_request
    def before() -> None:
        g.agent = request.headers["User-Agent"]

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-Agent"] = g.agent
        return response

    @app.route("/")
    async def index() -> str:
        return g.agent

    response = await app.test_client().get("/", headers={"User-Agent": "probe/1"})
    assert await response.get_data(as_text=True) == "probe/1"
    assert response.headers["X-Agent"] == "probe/1"


async def test_request_started_and_finished_signals_are_sent(app: Quaver) -> None:
    from quaver import request_finished, request_started

    seen: list[object] = []

    def started(sender, **extra) -> None:
        seen.append(("started", sender, request.path))

    def finished(sender, response, **extra) -> None:
        seen.append(("finished", sender, response.status_code))

    @app.route("/")
    async def index() -> str:
        return "ok"

    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        await app.test_client().get("/")
    assert seen == [("started", app, "/"), ("finished", app, 200)]


# -- the dispatch steps an app may call itself (Quart's and Flask's names) -----
async def test_preprocess_request_runs_the_before_request_hooks_and_gives_the_first_answer(app: Quaver) -> None:
    ran: list[str] = []
    shop = Blueprint("shop", __name__)

    @app.url_value_preprocessor
    def pull(endpoint, values) -> None:
        ran.append(f"preprocessor {endpoint} {values}")

    @app.before_request
    async def app_hook() -> None:
        ran.append("app")

    @shop.before_request
    def shop_hook() -> str:
        ran.append("shop")
        return "closed for stocktaking"

    @shop.route("/items/<int:number>")
    async def item(number: int) -> str:
        return "never"

    app.register_blueprint(shop)
    async with app.test_request_context("/items/7") as ctx:
        assert await app.preprocess_request() == "closed for stocktaking"
        assert ran == ["preprocessor shop.item {'number': 7}", "app", "shop"]
        ran.clear()
        assert await app.preprocess_request(ctx) == "closed for stocktaking"
        assert ran == ["preprocessor shop.item {'number': 7}", "app", "shop"]


async def test_preprocess_request_is_none_when_no_hook_answers(app: Quaver) -> None:
    @app.before_request
    def quiet() -> None:
        pass

    @app.route("/")
    async def index() -> str:
        return "ok"

    async with app.test_request_context("/"):
        assert await app.preprocess_request() is None


async def test_raise_routing_exception_raises_what_matching_the_url_gave(app: Quaver) -> None:
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    @app.route("/notes", methods=["GET"])
    async def notes() -> str:
        return "ok"

    async with app.test_request_context("/nowhere") as ctx:
        with pytest.raises(NotFound):
            app.raise_routing_exception(ctx.request)
    async with app.test_request_context("/notes", method="DELETE") as ctx:
        with pytest.raises(MethodNotAllowed):
            app.raise_routing_exception(ctx.request)


async def test_make_shell_context_has_app_g_and_the_processors_names(app: Quaver) -> None:
    @app.shell_context_processor
    def extras() -> dict[str, object]:
        return {"answer": 42}

    async with app.app_context():
        context = app.make_shell_context()
        assert context["app"] is app
        assert context["g"] is g
        assert context["answer"] == 42


async def test_app_test_app_is_a_test_app_class(app: Quaver) -> None:
    from quaver.testing import TestApp

    started: list[str] = []

    class RecordingTestApp(TestApp):
        async def startup(self) -> None:
            started.append("startup")
            await super().startup()

    app.test_app_class = RecordingTestApp
    async with app.test_app() as test_app:
        assert isinstance(test_app, RecordingTestApp)
    assert started == ["startup"]
    assert isinstance(app.shutdown_event, app.event_class)


async def test_a_subclass_overriding_the_dispatch_steps_has_them_called() -> None:
    calls: list[str] = []

    class Audited(Quaver):
        async def preprocess_request(self, ctx=None):  # type: ignore[no-untyped-def]
            calls.append("preprocess_request")
            return await super().preprocess_request(ctx)

        async def dispatch_request(self, ctx=None):  # type: ignore[no-untyped-def]
            calls.append("dispatch_request")
            return f"audited: {await super().dispatch_request(ctx)}"

    app = Audited(__name__)

    @app.before_request
    def hook() -> None:
        calls.append("before_request")

    @app.route("/")
    async def index() -> str:
        return "the view"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "audited: the view"
    assert calls == ["preprocess_request", "before_request", "dispatch_request"]
    assert (await app.test_client().get("/missing")).status_code == 404


async def test_a_subclass_whose_preprocess_request_answers_skips_the_view() -> None:
    class Closed(Quaver):
        async def preprocess_request(self, ctx=None):  # type: ignore[no-untyped-def]
            return "closed", 503

    app = Closed(__name__)

    @app.route("/")
    async def index() -> str:
        return "open"

    response = await app.test_client().get("/")
    assert response.status_code == 503
    assert await response.get_data(as_text=True) == "closed"


async def test_do_teardown_request_runs_the_teardown_functions_of_the_context_given(app: Quaver) -> None:
    torn: list[object] = []

    @app.teardown_request
    def note(exc: BaseException | None) -> None:
        torn.append((request.path, exc))

    @app.route("/page")
    async def page() -> str:
        return "ok"

    error = ValueError("gone wrong")
    async with app.test_request_context("/page") as ctx:
        await app.do_teardown_request(error, ctx)
        assert torn == [("/page", error)]
