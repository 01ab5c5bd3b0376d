"""Blueprints: routes under a prefix or subdomain, nesting, hooks and error
handlers scoped to a blueprint or app-wide, URL processors, and registering
one blueprint more than once."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.exceptions import NotFound

from quaver import Blueprint, Quaver, abort, g, request, url_for


class Refused(Exception):
    pass


# -- routes ------------------------------------------------------------------------
async def test_blueprint_routes_live_under_its_url_prefix(app: Quaver) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/items/<int:n>")
    async def item(n: int) -> str:
        return f"{request.endpoint} {request.blueprint} {n}"

    app.register_blueprint(bp)
    client = app.test_client()
    response = await client.get("/shop/items/4")
    assert await response.get_data(as_text=True) == "shop.item shop 4"
    assert (await client.get("/items/4")).status_code == 404


async def test_url_prefix_given_at_registration_wins(app: Quaver) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/")
    async def index() -> str:
        return request.path

    app.register_blueprint(bp, url_prefix="/store")
    client = app.test_client()
    assert await (await client.get("/store/")).get_data(as_text=True) == "/store/"
    assert (await client.get("/shop/")).status_code == 404


async def test_blueprint_index_route_keeps_strict_slashes(app: Quaver) -> None:
    bp = Blueprint("docs", __name__, url_prefix="/docs")

    @bp.route("/")
    async def index() -> str:
        return "index"

    @bp.route("")
    async def bare() -> str:
        return "bare"

    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/docs/")).get_data(as_text=True) == "index"
    assert await (await client.get("/docs")).get_data(as_text=True) == "bare"


async def test_blueprint_method_shortcuts_and_add_url_rule(app: Quaver) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.get("/thing")
    async def read() -> str:
        return "read"

    @bp.post("/thing")
    async def create() -> tuple[str, int]:
        return "created", 201

    @bp.patch("/thing")
    async def change() -> str:
        return "changed"

    async def listing() -> str:
        return f"listing {request.endpoint}"

    bp.add_url_rule("/list", view_func=listing)
    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/api/thing")).get_data(as_text=True) == "read"
    assert (await client.post("/api/thing")).status_code == 201
    assert await (await client.patch("/api/thing")).get_data(as_text=True) == "changed"
    assert await (await client.get("/api/list")).get_data(as_text=True) == "listing api.listing"
    refused = await client.delete("/api/thing")
    assert refused.status_code == 405
    assert set(refused.allow) == {"GET", "HEAD", "OPTIONS", "POST", "PATCH"}


async def test_blueprint_endpoint_with_a_dot_is_refused() -> None:
    bp = Blueprint("bp", __name__)

    async def view() -> str:
        return "x"

    with pytest.raises(ValueError):
        bp.add_url_rule("/x", "with.dot", view)


async def test_blueprint_name_with_a_dot_is_refused() -> None:
    with pytest.raises(ValueError):
        Blueprint("has.dot", __name__)


async def test_blueprint_on_a_subdomain(app: Quaver) -> None:
    app.config["SERVER_NAME"] = "example.com"
    app.subdomain_matching = True
    bp = Blueprint("api", __name__, subdomain="api")

    @bp.route("/")
    async def index() -> str:
        return f"api index {url_for('.index')}"

    @app.route("/")
    async def main() -> str:
        return f"main, api at {url_for('api.index')}"

    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/", subdomain="api")).get_data(as_text=True) == "api index /"
    assert await (await client.get("/")).get_data(as_text=True) == "main, api at http://api.example.com/"


@pytest.mark.parametrize(
    "parent, child, host_prefix",
    [(None, None, ""), ("shop", None, "shop."), (None, "api", "api."), ("shop", "api", "api.shop.")],
)
async def test_nested_blueprint_subdomains_join_with_only_server_name_set(
    app: Quaver, parent: str | None, child: str | None, host_prefix: str
) -> None:
    # As in Quart: SERVER_NAME is enough, subdomain_matching is not needed.
    app.config["SERVER_NAME"] = "example.com"
    outer = Blueprint("outer", __name__, subdomain=parent)
    inner = Blueprint("inner", __name__, subdomain=child)

    @inner.route("/")
    async def index() -> str:
        return url_for("outer.inner.index")

    outer.register_blueprint(inner)
    app.register_blueprint(outer)
    response = await app.test_client().get("/", headers={"Host": f"{host_prefix}example.com"})
    assert await response.get_data(as_text=True) == "/"
    async with app.app_context():
        assert url_for("outer.inner.index") == f"http://{host_prefix}example.com/"


async def test_blueprint_url_defaults_fill_view_arguments(app: Quaver) -> None:
    bp = Blueprint("pages", __name__, url_defaults={"section": "home"})

    @bp.route("/page")
    async def page(section: str) -> str:
        return f"section {section}"

    app.register_blueprint(bp)
    response = await app.test_client().get("/page")
    assert await response.get_data(as_text=True) == "section home"


# -- nesting -----------------------------------------------------------------------------
def nested_app() -> tuple[Quaver, Blueprint, Blueprint]:
    app = Quaver(__name__, static_folder=None)
    app.config["TESTING"] = True
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @child.route("/view")
    async def view() -> dict[str, Any]:
        return {
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
            "blueprints": request.blueprints,
            "sibling": url_for(".other"),
            "full": url_for("parent.child.other"),
            "parent_view": url_for("parent.index"),
        }

    @child.route("/other")
    async def other() -> str:
        return "other"

    @parent.route("/")
    async def index() -> str:
        return f"parent index {url_for('.child.other')}"

    return app, parent, child


async def test_nested_blueprints_join_their_prefixes_and_names() -> None:
    app, parent, child = nested_app()
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client = app.test_client()
    response = await client.get("/p/c/view")
    assert await response.get_json() == {
        "endpoint": "parent.child.view",
        "blueprint": "parent.child",
        "blueprints": ["parent.child", "parent"],
        "sibling": "/p/c/other",
        "full": "/p/c/other",
        "parent_view": "/p/",
    }
    assert await (await client.get("/p/")).get_data(as_text=True) == "parent index /p/c/other"


async def test_nested_blueprint_prefix_given_at_registration() -> None:
    app, parent, child = nested_app()
    parent.register_blueprint(child, url_prefix="/kid")
    app.register_blueprint(parent, url_prefix="/mom")
    client = app.test_client()
    assert await (await client.get("/mom/kid/other")).get_data(as_text=True) == "other"
    assert (await client.get("/p/c/other")).status_code == 404


async def test_blueprint_cannot_be_registered_on_itself() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError):
        bp.register_blueprint(bp)


# -- hooks: blueprint-scoped and app-wide ------------------------------------------------------
async def test_blueprint_before_request_runs_only_for_its_views(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    calls: list[str] = []

    @bp.before_request
    async def mark() -> None:
        calls.append(request.path)

    @bp.route("/in")
    async def inside() -> str:
        return "in"

    @app.route("/out")
    async def outside() -> str:
        return "out"

    app.register_blueprint(bp)
    client = app.test_client()
    await client.get("/out")
    await client.get("/bp/in")
    await client.get("/bp/missing")
    assert calls == ["/bp/in"]


async def test_before_app_request_from_a_blueprint_runs_for_every_request(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    calls: list[str] = []

    @bp.before_app_request
    async def mark() -> None:
        calls.append(request.path)

    @bp.route("/in")
    async def inside() -> str:
        return "in"

    @app.route("/out")
    async def outside() -> str:
        return "out"

    app.register_blueprint(bp)
    client = app.test_client()
    await client.get("/out")
    await client.get("/bp/in")
    await client.get("/missing")
    assert calls == ["/out", "/bp/in", "/missing"]


async def test_blueprint_before_request_can_answer_for_the_view(app: Quaver) -> None:
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    @bp.before_request
    async def gate() -> Any:
        if "X-Admin" not in request.headers:
            return "admins only", 403
        return None

    @bp.route("/")
    async def panel() -> str:
        return "panel"

    app.register_blueprint(bp)
    client = app.test_client()
    refused = await client.get("/admin/")
    assert refused.status_code == 403
    assert await refused.get_data(as_text=True) == "admins only"
    allowed = await client.get("/admin/", headers={"X-Admin": "1"})
    assert await allowed.get_data(as_text=True) == "panel"


async def test_hooks_run_in_flask_order_across_app_and_nested_blueprints() -> None:
    app, parent, child = nested_app()
    calls: list[str] = []

    def hooks(scope: Any, name: str) -> None:
        @scope.before_request
        def before_first() -> None:
            calls.append(f"before {name} 1")

        @scope.before_request
        def before_second() -> None:
            calls.append(f"before {name} 2")

        @scope.after_request
        def after_first(response: Any) -> Any:
            calls.append(f"after {name} 1")
            return response

        @scope.after_request
        def after_second(response: Any) -> Any:
            calls.append(f"after {name} 2")
            return response

        @scope.teardown_request
        def teardown_first(exc: BaseException | None) -> None:
            calls.append(f"teardown {name} 1")

        @scope.teardown_request
        def teardown_second(exc: BaseException | None) -> None:
            calls.append(f"teardown {name} 2")

    hooks(app, "app")
    hooks(parent, "parent")
    hooks(child, "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    response = await app.test_client().get("/p/c/other")
    assert await response.get_data(as_text=True) == "other"
    assert calls == [
        "before app 1", "before app 2",
        "before parent 1", "before parent 2",
        "before child 1", "before child 2",
        "after child 2", "after child 1",
        "after parent 2", "after parent 1",
        "after app 2", "after app 1",
        "teardown child 2", "teardown child 1",
        "teardown parent 2", "teardown parent 1",
        "teardown app 2", "teardown app 1",
    ]


async def test_blueprint_after_request_changes_only_its_responses(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.after_request
    async def tag(response: Any) -> Any:
        response.headers["X-Blueprint"] = "bp"
        return response

    @bp.after_app_request
    async def tag_all(response: Any) -> Any:
        response.headers["X-Everyone"] = "yes"
        return response

    @bp.route("/in")
    async def inside() -> str:
        return "in"

    @app.route("/out")
    async def outside() -> str:
        return "out"

    app.register_blueprint(bp)
    client = app.test_client()
    inside_response = await client.get("/bp/in")
    outside_response = await client.get("/out")
    assert inside_response.headers["X-Blueprint"] == "bp"
    assert inside_response.headers["X-Everyone"] == "yes"
    assert "X-Blueprint" not in outside_response.headers
    assert outside_response.headers["X-Everyone"] == "yes"


async def test_blueprint_teardown_request_runs_only_for_its_views(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    torn_down: list[tuple[str, str]] = []

    @bp.teardown_request
    async def scoped(exc: BaseException | None) -> None:
        torn_down.append(("bp", request.path))

    @bp.teardown_app_request
    async def everywhere(exc: BaseException | None) -> None:
        torn_down.append(("app", request.path))

    @bp.route("/in")
    async def inside() -> str:
        return "in"

    @app.route("/out")
    async def outside() -> str:
        return "out"

    app.register_blueprint(bp)
    client = app.test_client()
    await client.get("/bp/in")
    await client.get("/out")
    assert torn_down == [("bp", "/bp/in"), ("app", "/bp/in"), ("app", "/out")]


async def test_blueprint_teardown_request_gets_the_unhandled_error(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("bp", __name__)
    seen: list[Any] = []

    @bp.teardown_request
    async def record(exc: BaseException | None) -> None:
        seen.append(exc)

    @bp.route("/boom")
    async def boom() -> str:
        raise Refused("boom")

    app.register_blueprint(bp)
    response = await app.test_client().get("/boom")
    assert response.status_code == 500
    assert len(seen) == 1 and isinstance(seen[0], Refused)


# -- error handlers: blueprint-scoped and app-wide -----------------------------------------------
async def test_blueprint_errorhandler_handles_errors_from_its_views_only(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(Refused)
    async def refused(error: Refused) -> tuple[str, int]:
        return f"bp handled {error}", 409

    @bp.route("/in")
    async def inside() -> str:
        raise Refused("inside")

    @app.route("/out")
    async def outside() -> str:
        raise Refused("outside")

    app.register_blueprint(bp)
    client = app.test_client()
    handled = await client.get("/bp/in")
    assert handled.status_code == 409
    assert await handled.get_data(as_text=True) == "bp handled inside"
    with pytest.raises(Refused):
        await client.get("/out")


async def test_blueprint_404_handler_answers_abort_in_its_views_but_not_unknown_urls(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(404)
    async def not_here(error: NotFound) -> tuple[str, int]:
        return "bp 404", 404

    @bp.route("/gone")
    async def gone() -> str:
        abort(404)

    app.register_blueprint(bp)
    client = app.test_client()
    aborted = await client.get("/bp/gone")
    assert aborted.status_code == 404
    assert await aborted.get_data(as_text=True) == "bp 404"
    unknown = await client.get("/bp/unknown")
    assert unknown.status_code == 404
    assert await unknown.get_data(as_text=True) != "bp 404"


async def test_app_errorhandler_from_a_blueprint_handles_errors_everywhere(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.app_errorhandler(404)
    async def everywhere_404(error: NotFound) -> tuple[str, int]:
        return "site 404", 404

    @bp.app_errorhandler(Refused)
    async def everywhere_refused(error: Refused) -> tuple[str, int]:
        return "site refused", 403

    @app.route("/out")
    async def outside() -> str:
        raise Refused()

    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/nowhere")).get_data(as_text=True) == "site 404"
    refused = await client.get("/out")
    assert refused.status_code == 403
    assert await refused.get_data(as_text=True) == "site refused"


async def test_blueprint_handler_wins_over_the_app_handler_for_its_views(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @app.errorhandler(Refused)
    async def app_handler(error: Refused) -> str:
        return "app handler"

    @bp.errorhandler(Refused)
    async def bp_handler(error: Refused) -> str:
        return "bp handler"

    @bp.route("/in")
    async def inside() -> str:
        raise Refused()

    @app.route("/out")
    async def outside() -> str:
        raise Refused()

    app.register_blueprint(bp)
    client = app.test_client()
    assert await (await client.get("/bp/in")).get_data(as_text=True) == "bp handler"
    assert await (await client.get("/out")).get_data(as_text=True) == "app handler"


async def test_nested_blueprint_errors_fall_back_to_the_parent_handler() -> None:
    app, parent, child = nested_app()

    @parent.errorhandler(Refused)
    async def parent_refused(error: Refused) -> str:
        return f"parent handled {request.endpoint}"

    @child.errorhandler(KeyError)
    async def child_key(error: KeyError) -> str:
        return "child handled key"

    @child.route("/refuse")
    async def refuse() -> str:
        raise Refused()

    @child.route("/key")
    async def key() -> str:
        raise KeyError("k")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client = app.test_client()
    assert await (await client.get("/p/c/refuse")).get_data(as_text=True) == "parent handled parent.child.refuse"
    assert await (await client.get("/p/c/key")).get_data(as_text=True) == "child handled key"


# -- url processors ------------------------------------------------------------------------------
def lang_blueprint() -> Blueprint:
    bp = Blueprint("site", __name__, url_prefix="/<lang>")

    @bp.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = values.pop("lang") if values else None

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("lang", g.lang)

    @bp.route("/")
    async def index() -> str:
        return f"index in {g.lang}, about at {url_for('.about')}, in fr at {url_for('.about', lang='fr')}"

    @bp.route("/about")
    async def about() -> str:
        return f"about in {g.lang}"

    return bp


async def test_blueprint_url_processors_pull_and_put_back_a_prefix_value(app: Quaver) -> None:
    app.register_blueprint(lang_blueprint())
    client = app.test_client()
    response = await client.get("/de/")
    assert await response.get_data(as_text=True) == "index in de, about at /de/about, in fr at /fr/about"
    assert await (await client.get("/it/about")).get_data(as_text=True) == "about in it"


async def test_blueprint_url_processors_do_not_touch_other_views(app: Quaver) -> None:
    app.register_blueprint(lang_blueprint())
    seen: list[Any] = []

    @app.route("/plain/<int:n>")
    async def plain(n: int) -> str:
        seen.append(g.get("lang", "unset"))
        return f"plain {n}"

    response = await app.test_client().get("/plain/3")
    assert await response.get_data(as_text=True) == "plain 3"
    assert seen == ["unset"]


async def test_app_url_processors_from_a_blueprint_apply_everywhere(app: Quaver) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_url_value_preprocessor
    def pull_version(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "version" in values:
            g.version = values.pop("version")

    @bp.app_url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if app.url_map.is_endpoint_expecting(endpoint, "version"):
            values.setdefault("version", g.version)

    @app.route("/v<int:version>/items")
    async def items() -> str:
        return f"items v{g.version}, next {url_for('item', n=1)}"

    @app.route("/v<int:version>/items/<int:n>")
    async def item(n: int) -> str:
        return f"item {n}"

    app.register_blueprint(bp)
    response = await app.test_client().get("/v3/items")
    assert await response.get_data(as_text=True) == "items v3, next /v3/items/1"


async def test_app_url_processors_run_before_the_blueprints(app: Quaver) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    order: list[str] = []

    @app.url_value_preprocessor
    def app_level(endpoint: str | None, values: dict[str, Any] | None) -> None:
        order.append("app")

    @bp.url_value_preprocessor
    def bp_level(endpoint: str | None, values: dict[str, Any] | None) -> None:
        order.append("bp")

    @bp.route("/x")
    async def x() -> str:
        return "x"

    app.register_blueprint(bp)
    await app.test_client().get("/bp/x")
    assert order == ["app", "bp"]


# -- registering one blueprint twice ---------------------------------------------------------------
def counter_blueprint(calls: list[str]) -> Blueprint:
    bp = Blueprint("counter", __name__)

    @bp.before_request
    async def count() -> None:
        calls.append(request.blueprint)

    @bp.errorhandler(Refused)
    async def refused(error: Refused) -> str:
        return f"refused in {request.blueprint}"

    @bp.route("/")
    async def index() -> str:
        return f"{request.endpoint} {url_for('.index')} {url_for('counter.index')} {url_for('other.index')}"

    @bp.route("/refuse")
    async def refuse() -> str:
        raise Refused()

    return bp


async def test_same_blueprint_registered_twice_under_two_names(app: Quaver) -> None:
    calls: list[str] = []
    bp = counter_blueprint(calls)
    app.register_blueprint(bp, url_prefix="/one")
    app.register_blueprint(bp, url_prefix="/two", name="other")
    client = app.test_client()
    first = await client.get("/one/")
    second = await client.get("/two/")
    assert await first.get_data(as_text=True) == "counter.index /one/ /one/ /two/"
    assert await second.get_data(as_text=True) == "other.index /two/ /one/ /two/"
    assert await (await client.get("/two/refuse")).get_data(as_text=True) == "refused in other"
    assert calls == ["counter", "other", "other"]


async def test_registering_a_blueprint_twice_under_one_name_is_refused(app: Quaver) -> None:
    bp = counter_blueprint([])
    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError, match="already registered"):
        app.register_blueprint(bp, url_prefix="/two")


async def test_two_blueprints_with_the_same_name_are_refused(app: Quaver) -> None:
    app.register_blueprint(counter_blueprint([]), url_prefix="/one")
    with pytest.raises(ValueError):
        app.register_blueprint(counter_blueprint([]), url_prefix="/two")


async def test_nested_blueprint_registered_under_two_parents(app: Quaver) -> None:
    child = Blueprint("child", __name__)

    @child.route("/hello")
    async def hello() -> str:
        return f"{request.endpoint} {url_for('.hello')}"

    left = Blueprint("left", __name__, url_prefix="/left")
    right = Blueprint("right", __name__, url_prefix="/right")
    left.register_blueprint(child)
    right.register_blueprint(child)
    app.register_blueprint(left)
    app.register_blueprint(right)
    client = app.test_client()
    assert await (await client.get("/left/hello")).get_data(as_text=True) == "left.child.hello /left/hello"
    assert await (await client.get("/right/hello")).get_data(as_text=True) == "right.child.hello /right/hello"
