"""The app and request contexts: ``current_app``, ``g``, ``request``, and the
helpers that carry or extend a context (``copy_current_*_context``,
``after_this_request``)."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from quaver import (
    Quaver,
    after_this_request,
    copy_current_app_context,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    url_for,
)
from quaver.globals import _cv_request


# -- outside any context ----------------------------------------------------
async def test_current_app_outside_context_raises_runtime_error() -> None:
    assert not has_app_context()
    with pytest.raises(RuntimeError, match="application context"):
        _ = current_app.name  # reading it is what raises


async def test_g_outside_context_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        g.value = 1


async def test_request_outside_context_raises_runtime_error() -> None:
    assert not has_request_context()
    with pytest.raises(RuntimeError, match="request context"):
        _ = request.method  # reading it is what raises


# -- app context ------------------------------------------------------------
async def test_app_context_binds_current_app(app: Quaver) -> None:
    async with app.app_context():
        assert has_app_context()
        assert not has_request_context()
        assert current_app._get_current_object() is app
        assert current_app.name == app.name
    assert not has_app_context()


async def test_g_lives_as_long_as_its_app_context(app: Quaver) -> None:
    async with app.app_context():
        g.user = "ada"
        assert g.user == "ada"
    async with app.app_context():
        assert "user" not in g
        assert g.get("user") is None


async def test_g_supports_get_pop_setdefault_contains_and_iteration(app: Quaver) -> None:
    async with app.app_context():
        assert g.get("missing", 7) == 7
        assert g.setdefault("items", []) == []
        g.items.append(1)
        assert g.setdefault("items", ["other"]) == [1]
        assert "items" in g
        assert list(g) == ["items"]
        assert g.pop("items") == [1]
        assert g.pop("items", "gone") == "gone"
        with pytest.raises(KeyError):
            g.pop("items")


async def test_nested_app_contexts_restore_the_outer_app() -> None:
    first, second = Quaver("first"), Quaver("second")
    async with first.app_context():
        async with second.app_context():
            assert current_app.name == "second"
        assert current_app.name == "first"


async def test_app_context_is_separate_per_task(app: Quaver) -> None:
    seen: list[bool] = []

    async def other_task() -> None:
        seen.append(has_app_context())

    task = asyncio.get_running_loop().create_task(other_task(), context=None)
    async with app.app_context():
        # A task started before the context was pushed does not see it.
        await task
        inside = asyncio.get_running_loop().create_task(other_task())
        await inside
    assert seen == [False, True]


async def test_url_for_in_app_context_needs_server_name(app: Quaver) -> None:
    @app.route("/users/<int:user_id>")
    async def user(user_id: int) -> str:
        return ""

    async with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("user", user_id=1)
    app.config["SERVER_NAME"] = "example.com"
    async with app.app_context():
        assert url_for("user", user_id=1) == "http://example.com/users/1"


async def test_teardown_appcontext_runs_when_app_context_exits(app: Quaver) -> None:
    seen: list[object] = []

    @app.teardown_appcontext
    async def close(exc: BaseException | None) -> None:
        seen.append(exc)

    async with app.app_context():
        assert seen == []
    assert seen == [None]


async def test_teardown_appcontext_gets_the_exception_that_ended_the_context(app: Quaver) -> None:
    seen: list[object] = []

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        seen.append(exc)

    with pytest.raises(ValueError):
        async with app.app_context():
            raise ValueError("boom")
    assert len(seen) == 1
    assert isinstance(seen[0], ValueError)


# -- request context --------------------------------------------------------
async def test_test_request_context_exposes_request_fields(app: Quaver) -> None:
    async with app.test_request_context(
        "/search?q=cats&page=2", method="POST", headers={"X-Token": "abc"}
    ):
        assert has_request_context()
        assert has_app_context()
        assert current_app._get_current_object() is app
        assert request.method == "POST"
        assert request.path == "/search"
        assert request.args["q"] == "cats"
        assert request.args.get("page", type=int) == 2
        assert request.headers["X-Token"] == "abc"
    assert not has_request_context()
    assert not has_app_context()


async def test_test_request_context_sends_a_json_body(app: Quaver) -> None:
    async with app.test_request_context("/", method="POST", json={"a": 1}):
        assert request.is_json
        assert await request.get_json() == {"a": 1}


async def test_url_for_in_test_request_context_builds_relative_urls(app: Quaver) -> None:
    @app.route("/users/<int:user_id>")
    async def user(user_id: int) -> str:
        return ""

    async with app.test_request_context("/"):
        assert url_for("user", user_id=3) == "/users/3"
        assert url_for("user", user_id=3, tab="x") == "/users/3?tab=x"
        assert url_for("user", user_id=3, _external=True) == "http://localhost/users/3"


async def test_test_request_context_matches_the_url_rule(app: Quaver) -> None:
    @app.route("/items/<name>")
    async def item(name: str) -> str:
        return name

    async with app.test_request_context("/items/pen"):
        assert request.endpoint == "item"
        assert request.view_args == {"name": "pen"}


async def test_pushing_a_request_context_matches_its_request(app: Quaver) -> None:
    from werkzeug.exceptions import NotFound

    from quaver.testing import make_test_request

    @app.route("/items/<name>")
    async def item(name: str) -> str:
        return name

    found = make_test_request(app, "/items/cup")
    assert found.url_rule is None  # not matched until a context is pushed
    async with app.request_context(found):
        assert (found.endpoint, found.view_args, found.routing_exception) == ("item", {"name": "cup"}, None)
    missing = make_test_request(app, "/nowhere")
    async with app.request_context(missing):
        assert missing.url_rule is None
        assert isinstance(missing.routing_exception, NotFound)


async def test_pushing_a_websocket_context_matches_websocket_rules_only(app: Quaver) -> None:
    from werkzeug.datastructures import Headers
    from werkzeug.exceptions import BadRequest

    @app.websocket("/live")
    async def live() -> None:
        pass

    @app.route("/page")
    async def page() -> str:
        return ""

    def websocket_to(path: str):
        return app.websocket_class(
            path, b"", "ws", Headers({"Host": "localhost"}), "", "1.1", [], None, None, None, None
        )

    live_socket = websocket_to("/live")
    async with app.websocket_context(live_socket):
        assert live_socket.endpoint == "live"
    page_socket = websocket_to("/page")
    async with app.websocket_context(page_socket):
        assert isinstance(page_socket.routing_exception, BadRequest)  # an HTTP-only rule


async def test_request_context_inside_app_context_reuses_its_g(app: Quaver) -> None:
    async with app.app_context():
        g.marker = "outer"
        async with app.test_request_context("/"):
            assert g.marker == "outer"
        assert has_app_context()
        assert not has_request_context()


async def test_request_and_g_are_visible_in_a_view(app: Quaver) -> None:
    @app.before_request
    async def load_user() -> None:
        g.user = request.args.get("user", "anonymous")

    @app.route("/")
    async def index() -> dict:
        return {"user": g.user, "method": request.method, "app": current_app.name}

    client = app.test_client()
    response = await client.get("/?user=ada")
    assert await response.get_json() == {"user": "ada", "method": "GET", "app": app.name}
    response = await client.get("/")
    assert (await response.get_json())["user"] == "anonymous"


async def test_g_is_not_shared_between_requests(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        seen = g.get("count", 0)
        g.count = seen + 1
        return str(seen)

    client = app.test_client()
    assert await (await client.get("/")).get_data(as_text=True) == "0"
    assert await (await client.get("/")).get_data(as_text=True) == "0"


async def test_concurrent_requests_see_their_own_request(app: Quaver) -> None:
    @app.route("/<name>")
    async def echo(name: str) -> str:
        await asyncio.sleep(0.01)
        g.name = name
        await asyncio.sleep(0.01)
        return f"{request.path}:{g.name}"

    client = app.test_client()
    responses = await asyncio.gather(*(client.get(f"/{i}") for i in range(20)))
    bodies = [await response.get_data(as_text=True) for response in responses]
    assert bodies == [f"/{i}:{i}" for i in range(20)]


# -- copying contexts -------------------------------------------------------
async def test_copy_current_app_context_outside_context_raises(app: Quaver) -> None:
    with pytest.raises(RuntimeError):
        copy_current_app_context(lambda: None)


async def test_copy_current_request_context_outside_request_raises(app: Quaver) -> None:
    async with app.app_context():
        with pytest.raises(RuntimeError):
            copy_current_request_context(lambda: None)


async def test_copy_current_app_context_carries_app_and_g_into_a_task(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    @app.route("/")
    async def index() -> str:
        g.job = "report"

        @copy_current_app_context
        async def work() -> None:
            await asyncio.sleep(0.01)  # the request has finished by now
            done.set_result((current_app.name, g.job, has_request_context()))

        # A fresh contextvars.Context: only the copy gives the task an app.
        asyncio.get_running_loop().create_task(work(), context=contextvars.Context())
        return "started"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "started"
    assert await asyncio.wait_for(done, 2) == (app.name, "report", False)


async def test_copy_current_request_context_lets_a_spawned_task_read_the_request(
    app: Quaver,
) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    @app.route("/jobs/<name>", methods=["POST"])
    async def start(name: str) -> str:
        @copy_current_request_context
        async def work() -> None:
            await asyncio.sleep(0.01)  # the view has returned by now
            body = await request.get_data(as_text=True)
            done.set_result((request.path, request.method, request.headers["X-Job"], body))

        # A fresh contextvars.Context: only the copy gives the task a request.
        asyncio.get_running_loop().create_task(work(), context=contextvars.Context())
        return "accepted", 202

    response = await app.test_client().post("/jobs/a", headers={"X-Job": "7"}, data="payload")
    assert response.status_code == 202
    assert await asyncio.wait_for(done, 2) == ("/jobs/a", "POST", "7", "payload")


async def test_copy_current_request_context_works_with_sync_functions(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()

    @app.route("/")
    async def index() -> str:
        @copy_current_request_context
        def work() -> str:
            return request.args["who"]

        async def run() -> None:
            done.set_result(await work())

        loop.create_task(run())
        return ""

    await app.test_client().get("/?who=bob")
    assert await asyncio.wait_for(done, 2) == "bob"


# -- after_this_request -----------------------------------------------------
async def test_after_this_request_outside_request_raises(app: Quaver) -> None:
    async with app.app_context():
        with pytest.raises(RuntimeError):
            after_this_request(lambda response: response)


async def test_after_this_request_changes_only_this_response(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        if "mark" in request.args:

            @after_this_request
            async def add_header(response):
                response.headers["X-Marked"] = "yes"
                return response

        return "ok"

    client = app.test_client()
    assert (await client.get("/?mark=1")).headers.get("X-Marked") == "yes"
    assert "X-Marked" not in (await client.get("/")).headers


async def test_after_this_request_runs_before_after_request_hooks(app: Quaver) -> None:
    order: list[str] = []

    @app.after_request
    async def app_hook(response):
        order.append("after_request")
        return response

    @app.route("/")
    async def index() -> str:
        @after_this_request
        def first(response):
            order.append("after_this_request")
            return response

        return "ok"

    await app.test_client().get("/")
    assert order == ["after_this_request", "after_request"]


async def test_after_this_request_can_replace_the_response(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        @after_this_request
        async def swap(response):
            return current_app.response_class("replaced", status=201)

        return "original"

    response = await app.test_client().get("/")
    assert response.status_code == 201
    assert await response.get_data(as_text=True) == "replaced"


# -- the test client keeping the last request's context ---------------------
async def test_test_client_as_context_manager_keeps_the_last_request(app: Quaver) -> None:
    @app.route("/search")
    async def search() -> str:
        return "ok"

    async with app.test_client() as client:
        await client.get("/search?q=owls")
        # As in Flask and Quart: the request stays inspectable until the block ends.
        assert request.path == "/search"
        assert request.args["q"] == "owls"
        await client.get("/search?q=bats")
        assert request.args["q"] == "bats"
    assert not has_request_context()


async def test_test_client_without_context_manager_keeps_nothing(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        return "ok"

    await app.test_client().get("/")
    assert not has_request_context()
    assert not has_app_context()


# -- copying a context, and popping it unless it is kept (Quart's names) ------
async def test_a_copied_app_context_shares_g_in_another_task(app: Quaver) -> None:
    async with app.app_context() as ctx:
        g.user = "ada"
        copied = ctx.copy()

    async def elsewhere() -> tuple[object, str]:
        async with copied:
            return current_app._get_current_object(), g.user

    assert await asyncio.create_task(elsewhere()) == (app, "ada")


async def test_a_copied_request_context_serves_the_same_request_in_another_task(app: Quaver) -> None:
    app.secret_key = "not a secret"
    async with app.test_request_context("/basket?item=tea") as ctx:
        ctx.session["items"] = 1
        copied = ctx.copy()
        assert copied is not ctx
        assert type(copied) is type(ctx)

    async def elsewhere() -> tuple[str, int]:
        async with copied:
            return request.args["item"], copied.session["items"]

    assert await asyncio.create_task(elsewhere()) == ("tea", 1)


async def test_auto_pop_pops_a_context_nobody_keeps(app: Quaver) -> None:
    ctx = app.test_request_context("/")
    await ctx.push()
    await ctx.auto_pop(None)
    assert not ctx.preserved
    assert not has_request_context()


async def test_auto_pop_keeps_a_context_after_an_error_with_preserve_context_on_exception(app: Quaver) -> None:
    app.config["PRESERVE_CONTEXT_ON_EXCEPTION"] = True
    ctx = app.test_request_context("/broken")
    await ctx.push()
    await ctx.auto_pop(ValueError("the view failed"))
    assert ctx.preserved
    assert request.path == "/broken"  # still there to inspect
    await ctx.pop(None)
    assert not has_request_context()



# -- the proxies forward what a view reads ------------------------------------
async def test_proxies_forward_reads_writes_and_missing_names_as_the_objects_do() -> None:
    app = Quaver(__name__)
    app.config["ANSWER"] = 42

    @app.get("/")
    async def index() -> dict[str, object]:
        g.user = "ada"
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = request.nope
        return {
            "method": request.method,
            "path": request.path,
            "user": g.user,
            "got": g.get("user"),
            "answer": current_app.config["ANSWER"],
            "class": request.__class__.__name__,
            "is_request": isinstance(request, app.request_class),
            "current": request._get_current_object() is request_ctx_request(),
            "empty_name": getattr(request, "", "fallback"),
        }

    def request_ctx_request() -> object:
        return _cv_request.get().request

    response = await app.test_client().get("/")
    assert await response.get_json() == {
        "method": "GET", "path": "/", "user": "ada", "got": "ada", "answer": 42, "class": "Request",
        "is_request": True, "current": True, "empty_name": "fallback",
    }
    with pytest.raises(RuntimeError, match="request context"):
        _ = request.method
