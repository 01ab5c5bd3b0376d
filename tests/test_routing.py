"""Routing: registering rules, matching requests to them (methods, slashes,
converters, hosts and subdomains, automatic HEAD and OPTIONS, 404 and 405),
and building URLs back with ``url_for``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from werkzeug.routing import BaseConverter, BuildError, ValidationError

from quaver import Quaver, g, request, url_for, websocket


def make_app(**kwargs: Any) -> Quaver:
    app = Quaver(__name__, static_folder=None, **kwargs)
    app.config["TESTING"] = True
    return app


# -- registering routes -------------------------------------------------------
async def test_route_answers_get_by_default(app: Quaver) -> None:
    @app.route("/hello")
    async def hello() -> str:
        return "hi"

    response = await app.test_client().get("/hello")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "hi"


async def test_route_with_methods_answers_each_of_them(app: Quaver) -> None:
    @app.route("/form", methods=["GET", "POST"])
    async def form() -> str:
        return f"form via {request.method}"

    client = app.test_client()
    assert await (await client.get("/form")).get_data(as_text=True) == "form via GET"
    assert await (await client.post("/form")).get_data(as_text=True) == "form via POST"
    assert (await client.put("/form")).status_code == 405


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
async def test_method_shortcut_answers_only_its_method(app: Quaver, method: str) -> None:
    decorator = getattr(app, method)

    @decorator("/thing")
    async def thing() -> str:
        return f"{request.method} thing"

    client = app.test_client()
    response = await client.open("/thing", method=method.upper())
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == f"{method.upper()} thing"
    other = "POST" if method != "post" else "PUT"
    refused = await client.open("/thing", method=other)
    assert refused.status_code == 405
    assert method.upper() in refused.allow


async def test_method_shortcuts_on_one_path_dispatch_by_method(app: Quaver) -> None:
    @app.get("/items/<int:item_id>")
    async def show(item_id: int) -> str:
        return f"show {item_id}"

    @app.put("/items/<int:item_id>")
    async def replace(item_id: int) -> str:
        return f"replace {item_id}"

    @app.delete("/items/<int:item_id>")
    async def remove(item_id: int) -> tuple[str, int]:
        return "", 204

    client = app.test_client()
    assert await (await client.get("/items/3")).get_data(as_text=True) == "show 3"
    assert await (await client.put("/items/3")).get_data(as_text=True) == "replace 3"
    assert (await client.delete("/items/3")).status_code == 204
    refused = await client.post("/items/3")
    assert refused.status_code == 405
    assert set(refused.allow) == {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


async def test_method_shortcut_refuses_a_methods_argument(app: Quaver) -> None:
    with pytest.raises(TypeError):
        app.get("/x", methods=["POST"])


async def test_add_url_rule_registers_a_view_function(app: Quaver) -> None:
    async def listing() -> str:
        return f"listing as {request.endpoint}"

    app.add_url_rule("/list", view_func=listing)
    app.add_url_rule("/other-list", "renamed", listing, methods=["POST"])
    client = app.test_client()
    assert await (await client.get("/list")).get_data(as_text=True) == "listing as listing"
    assert await (await client.post("/other-list")).get_data(as_text=True) == "listing as renamed"
    assert (await client.get("/other-list")).status_code == 405


async def test_endpoint_decorator_provides_the_view_for_a_rule(app: Quaver) -> None:
    app.add_url_rule("/late", endpoint="late")

    @app.endpoint("late")
    async def late_view() -> str:
        return "late view"

    response = await app.test_client().get("/late")
    assert await response.get_data(as_text=True) == "late view"


async def test_sync_views_are_served_too(app: Quaver) -> None:
    @app.route("/sync/<int:n>")
    def sync_view(n: int) -> str:
        return f"sync {n * 2}"

    response = await app.test_client().get("/sync/21")
    assert await response.get_data(as_text=True) == "sync 42"


async def test_endpoint_defaults_to_the_function_name_and_can_be_set(app: Quaver) -> None:
    @app.route("/a")
    async def first_view() -> str:
        return f"{request.endpoint} {request.url_rule.rule}"

    @app.route("/b", endpoint="custom.name")
    async def second_view() -> str:
        return f"{request.endpoint} {request.url_rule.rule}"

    client = app.test_client()
    assert await (await client.get("/a")).get_data(as_text=True) == "first_view /a"
    assert await (await client.get("/b")).get_data(as_text=True) == "custom.name /b"


async def test_two_views_for_one_endpoint_are_refused(app: Quaver) -> None:
    @app.route("/one")
    async def view() -> str:
        return "one"

    async def another() -> str:
        return "two"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/two", "view", another)


async def test_one_view_can_serve_several_rules(app: Quaver) -> None:
    @app.route("/first")
    @app.route("/second")
    async def both() -> str:
        return request.path

    client = app.test_client()
    assert await (await client.get("/first")).get_data(as_text=True) == "/first"
    assert await (await client.get("/second")).get_data(as_text=True) == "/second"


async def test_view_args_hold_the_converted_values(app: Quaver) -> None:
    @app.route("/u/<name>/<int:age>")
    async def person(name: str, age: int) -> dict[str, Any]:
        return {"view_args": request.view_args, "age_type": type(age).__name__}

    response = await app.test_client().get("/u/ann/33")
    assert await response.get_json() == {"view_args": {"name": "ann", "age": 33}, "age_type": "int"}


# -- defaults -----------------------------------------------------------------------
async def test_defaults_fill_in_a_missing_argument(app: Quaver) -> None:
    @app.route("/page/", defaults={"number": 1})
    @app.route("/page/<int:number>")
    async def page(number: int) -> str:
        return f"page {number}"

    client = app.test_client()
    assert await (await client.get("/page/")).get_data(as_text=True) == "page 1"
    assert await (await client.get("/page/7")).get_data(as_text=True) == "page 7"


async def test_url_equal_to_the_defaults_redirects_to_the_default_rule(app: Quaver) -> None:
    @app.route("/page/", defaults={"number": 1})
    @app.route("/page/<int:number>")
    async def page(number: int) -> str:
        return f"page {number}"

    response = await app.test_client().get("/page/1")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/page/"


async def test_defaults_not_in_the_rule_are_passed_to_the_view(app: Quaver) -> None:
    @app.route("/en", defaults={"lang": "en"})
    @app.route("/fr", defaults={"lang": "fr"})
    async def home(lang: str) -> str:
        return f"home in {lang}"

    client = app.test_client()
    assert await (await client.get("/fr")).get_data(as_text=True) == "home in fr"
    assert await (await client.get("/en")).get_data(as_text=True) == "home in en"


async def test_redirect_to_rule_redirects_with_the_arguments(app: Quaver) -> None:
    app.add_url_rule("/old/<int:n>", "old", redirect_to="/new/<n>")

    @app.route("/new/<int:n>")
    async def new(n: int) -> str:
        return f"new {n}"

    client = app.test_client()
    response = await client.get("/old/5")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/new/5"
    followed = await client.get("/old/5", follow_redirects=True)
    assert await followed.get_data(as_text=True) == "new 5"


# -- slashes --------------------------------------------------------------------------
async def test_missing_trailing_slash_redirects_with_308(app: Quaver) -> None:
    @app.route("/folder/")
    async def folder() -> str:
        return "folder"

    response = await app.test_client().get("/folder")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/folder/"


async def test_slash_redirect_keeps_the_query_string_and_method(app: Quaver) -> None:
    @app.route("/folder/<name>/", methods=["POST"])
    async def folder(name: str) -> str:
        return f"{request.method} {name} {request.args['q']}"

    client = app.test_client()
    response = await client.post("/folder/docs?q=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/folder/docs/?q=1"
    followed = await client.post("/folder/docs?q=1", follow_redirects=True)
    assert await followed.get_data(as_text=True) == "POST docs 1"


async def test_extra_trailing_slash_is_404_when_strict(app: Quaver) -> None:
    @app.route("/file")
    async def file() -> str:
        return "file"

    client = app.test_client()
    assert (await client.get("/file")).status_code == 200
    assert (await client.get("/file/")).status_code == 404


async def test_rule_without_strict_slashes_answers_both_forms(app: Quaver) -> None:
    @app.route("/loose/", strict_slashes=False)
    async def loose() -> str:
        return "loose"

    @app.route("/plain", strict_slashes=False)
    async def plain() -> str:
        return "plain"

    client = app.test_client()
    for path in ("/loose/", "/loose", "/plain", "/plain/"):
        response = await client.get(path)
        assert response.status_code == 200, path
    assert await (await client.get("/loose")).get_data(as_text=True) == "loose"
    assert await (await client.get("/plain/")).get_data(as_text=True) == "plain"


async def test_map_wide_strict_slashes_off_applies_to_later_rules(app: Quaver) -> None:
    app.url_map.strict_slashes = False

    @app.route("/dir/")
    async def directory() -> str:
        return "dir"

    response = await app.test_client().get("/dir")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "dir"


async def test_rule_with_and_without_slash_are_distinct(app: Quaver) -> None:
    @app.route("/both")
    async def without_slash() -> str:
        return "without"

    @app.route("/both/")
    async def with_slash() -> str:
        return "with"

    client = app.test_client()
    assert await (await client.get("/both")).get_data(as_text=True) == "without"
    assert await (await client.get("/both/")).get_data(as_text=True) == "with"


async def test_repeated_slashes_redirect_to_the_merged_url(app: Quaver) -> None:
    @app.route("/a/b")
    async def ab() -> str:
        return "ab"

    response = await app.test_client().get("/a//b")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/a/b"


async def test_leading_slashes_are_collapsed_before_matching(app: Quaver) -> None:
    @app.route("/users/<int:n>")
    async def user(n: int) -> str:
        return f"user {n}"

    response = await app.test_client().open("/", scope_base={"path": "//users/4", "raw_path": b"//users/4"})
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "user 4"


# -- static before dynamic, converter priority ----------------------------------------------
async def test_static_rule_wins_over_a_dynamic_one(app: Quaver) -> None:
    @app.route("/users/<name>")
    async def by_name(name: str) -> str:
        return f"user {name}"

    @app.route("/users/me")
    async def me() -> str:
        return "me"

    client = app.test_client()
    assert await (await client.get("/users/me")).get_data(as_text=True) == "me"
    assert await (await client.get("/users/bob")).get_data(as_text=True) == "user bob"


async def test_int_rule_wins_over_a_string_rule_at_the_same_place(app: Quaver) -> None:
    @app.route("/v/<value>")
    async def as_string(value: str) -> str:
        return f"string {value!r}"

    @app.route("/v/<int:value>")
    async def as_int(value: int) -> str:
        return f"int {value!r}"

    client = app.test_client()
    assert await (await client.get("/v/12")).get_data(as_text=True) == "int 12"
    assert await (await client.get("/v/12a")).get_data(as_text=True) == "string '12a'"


async def test_mixed_static_and_variable_segment(app: Quaver) -> None:
    @app.route("/x-<int:a>-y")
    async def mixed(a: int) -> str:
        return f"mixed {a + 1}"

    @app.route("/report.<any(csv, json):fmt>")
    async def report(fmt: str) -> str:
        return f"report as {fmt}"

    client = app.test_client()
    assert await (await client.get("/x-41-y")).get_data(as_text=True) == "mixed 42"
    assert (await client.get("/x-a-y")).status_code == 404
    assert await (await client.get("/report.json")).get_data(as_text=True) == "report as json"
    assert (await client.get("/report.xml")).status_code == 404


# -- converters ---------------------------------------------------------------------------
async def test_string_converter_takes_one_segment_and_honours_length(app: Quaver) -> None:
    @app.route("/s/<name>")
    async def plain(name: str) -> str:
        return f"plain {name}"

    @app.route("/code/<string(length=2):code>")
    async def code(code: str) -> str:
        return f"code {code}"

    client = app.test_client()
    assert await (await client.get("/s/caf%C3%A9")).get_data(as_text=True) == "plain café"
    assert (await client.get("/s/a/b")).status_code == 404
    assert await (await client.get("/code/fr")).get_data(as_text=True) == "code fr"
    assert (await client.get("/code/fra")).status_code == 404


async def test_int_converter_accepts_digits_only_and_honours_min_max_signed(app: Quaver) -> None:
    @app.route("/n/<int:n>")
    async def n(n: int) -> str:
        return repr(n)

    @app.route("/ranged/<int(min=1, max=10):n>")
    async def ranged(n: int) -> str:
        return repr(n)

    @app.route("/signed/<int(signed=True):n>")
    async def signed(n: int) -> str:
        return repr(n)

    client = app.test_client()
    assert await (await client.get("/n/007")).get_data(as_text=True) == "7"
    for path in ("/n/-1", "/n/1.5", "/n/x", "/ranged/0", "/ranged/11"):
        assert (await client.get(path)).status_code == 404, path
    assert await (await client.get("/ranged/10")).get_data(as_text=True) == "10"
    assert await (await client.get("/signed/-3")).get_data(as_text=True) == "-3"


async def test_float_converter_needs_a_decimal_point(app: Quaver) -> None:
    @app.route("/f/<float:x>")
    async def as_float(x: float) -> str:
        return repr(x * 2)

    client = app.test_client()
    assert await (await client.get("/f/1.25")).get_data(as_text=True) == "2.5"
    assert (await client.get("/f/3")).status_code == 404
    assert (await client.get("/f/-1.5")).status_code == 404


async def test_path_converter_takes_the_rest_of_the_path(app: Quaver) -> None:
    @app.route("/files/<path:name>")
    async def files(name: str) -> str:
        return f"file {name}"

    @app.route("/files/<path:name>/edit")
    async def edit(name: str) -> str:
        return f"edit {name}"

    client = app.test_client()
    assert await (await client.get("/files/a/b/c.txt")).get_data(as_text=True) == "file a/b/c.txt"
    assert await (await client.get("/files/a/b/edit")).get_data(as_text=True) == "edit a/b"
    assert (await client.get("/files/")).status_code == 404


async def test_uuid_converter_gives_a_uuid(app: Quaver) -> None:
    @app.route("/obj/<uuid:key>")
    async def obj(key: uuid.UUID) -> str:
        return f"{type(key).__name__} {key.hex}"

    key = uuid.uuid4()
    client = app.test_client()
    assert await (await client.get(f"/obj/{key}")).get_data(as_text=True) == f"UUID {key.hex}"
    assert (await client.get("/obj/not-a-uuid")).status_code == 404


async def test_any_converter_takes_one_of_its_items(app: Quaver) -> None:
    @app.route("/lang/<any(en, fr, 'pt-br'):lang>")
    async def lang(lang: str) -> str:
        return f"lang {lang}"

    client = app.test_client()
    assert await (await client.get("/lang/pt-br")).get_data(as_text=True) == "lang pt-br"
    assert await (await client.get("/lang/en")).get_data(as_text=True) == "lang en"
    assert (await client.get("/lang/de")).status_code == 404


class ListConverter(BaseConverter):
    """Comma-separated words, as a list."""

    regex = r"\w+(?:,\w+)*"

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: list[str]) -> str:
        return ",".join(value)


class EvenConverter(BaseConverter):
    regex = r"\d+"

    def to_python(self, value: str) -> int:
        if int(value) % 2:
            raise ValidationError()
        return int(value)


async def test_custom_converter_registered_on_the_map_converts_both_ways(app: Quaver) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.route("/tags/<list:tags>")
    async def tags(tags: list[str]) -> dict[str, Any]:
        return {"tags": tags, "back": url_for("tags", tags=list(reversed(tags)))}

    response = await app.test_client().get("/tags/a,b,c")
    assert await response.get_json() == {"tags": ["a", "b", "c"], "back": "/tags/c,b,a"}
    assert (await app.test_client().get("/tags/a,,b")).status_code == 404


async def test_custom_converter_validation_error_means_no_match(app: Quaver) -> None:
    app.url_map.converters["even"] = EvenConverter

    @app.route("/even/<even:n>")
    async def even(n: int) -> str:
        return f"even {n}"

    client = app.test_client()
    assert await (await client.get("/even/4")).get_data(as_text=True) == "even 4"
    assert (await client.get("/even/5")).status_code == 404


# -- automatic HEAD and OPTIONS, 404 and 405 ------------------------------------------------
async def test_head_gets_the_get_headers_without_a_body(app: Quaver) -> None:
    @app.route("/doc")
    async def doc() -> tuple[str, dict[str, str]]:
        return "some document text", {"X-Doc": "yes"}

    client = app.test_client()
    get = await client.get("/doc")
    head = await client.head("/doc")
    assert head.status_code == 200
    assert await head.get_data() == b""
    assert head.headers["X-Doc"] == "yes"
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == str(len("some document text"))


async def test_head_runs_the_get_view(app: Quaver) -> None:
    @app.get("/seen")
    async def seen() -> str:
        return f"method {request.method}"

    response = await app.test_client().head("/seen")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len("method HEAD"))


async def test_options_answers_with_the_allowed_methods(app: Quaver) -> None:
    @app.route("/res", methods=["GET", "POST"])
    async def res() -> str:
        return "res"

    @app.delete("/res")
    async def delete_res() -> str:
        return "deleted"

    response = await app.test_client().options("/res")
    assert response.status_code == 200
    assert set(response.allow) == {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}
    assert await response.get_data() == b""


async def test_automatic_options_can_be_turned_off_for_a_rule(app: Quaver) -> None:
    @app.route("/no-options", provide_automatic_options=False)
    async def no_options() -> str:
        return "x"

    response = await app.test_client().options("/no-options")
    assert response.status_code == 405
    assert "OPTIONS" not in response.allow


async def test_a_view_can_answer_options_itself(app: Quaver) -> None:
    @app.route("/custom", methods=["GET", "OPTIONS"])
    async def custom() -> tuple[str, dict[str, str]]:
        if request.method == "OPTIONS":
            return "my options", {"Allow": "GET"}
        return "get"

    response = await app.test_client().options("/custom")
    assert await response.get_data(as_text=True) == "my options"
    assert response.headers["Allow"] == "GET"


async def test_unknown_url_gets_404(app: Quaver) -> None:
    @app.route("/known")
    async def known() -> str:
        return "known"

    response = await app.test_client().get("/unknown")
    assert response.status_code == 404
    assert "Not Found" in await response.get_data(as_text=True)


async def test_unknown_method_gets_405_with_allow(app: Quaver) -> None:
    @app.route("/only-get")
    async def only_get() -> str:
        return "x"

    response = await app.test_client().post("/only-get")
    assert response.status_code == 405
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS"}
    assert "Method Not Allowed" in await response.get_data(as_text=True)


async def test_405_allow_lists_methods_of_every_rule_matching_the_path(app: Quaver) -> None:
    @app.post("/things/<int:n>")
    async def int_thing(n: int) -> str:
        return "int"

    @app.put("/things/<name>")
    async def named_thing(name: str) -> str:
        return "named"

    response = await app.test_client().delete("/things/3")
    assert response.status_code == 405
    assert set(response.allow) == {"POST", "PUT", "OPTIONS"}


async def test_a_later_rule_answers_when_the_first_matching_rule_refuses_the_method(app: Quaver) -> None:
    @app.post("/v/<int:n>")
    async def post_int(n: int) -> str:
        return f"post int {n}"

    @app.get("/v/<name>")
    async def get_name(name: str) -> str:
        return f"get name {name}"

    client = app.test_client()
    assert await (await client.get("/v/5")).get_data(as_text=True) == "get name 5"
    assert await (await client.post("/v/5")).get_data(as_text=True) == "post int 5"


async def test_websocket_only_route_refuses_plain_http_with_400(app: Quaver) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        return None

    response = await app.test_client().get("/ws")
    assert response.status_code == 400


async def test_build_only_rule_builds_urls_but_is_not_served(app: Quaver) -> None:
    async def external() -> str:
        return "served"

    app.add_url_rule("/elsewhere/<int:n>", "elsewhere", external, build_only=True)

    @app.route("/")
    async def index() -> str:
        return url_for("elsewhere", n=3)

    client = app.test_client()
    assert await (await client.get("/")).get_data(as_text=True) == "/elsewhere/3"
    assert (await client.get("/elsewhere/3")).status_code == 404


async def test_rules_added_after_a_request_are_routed(app: Quaver) -> None:
    @app.route("/first")
    async def first() -> str:
        return "first"

    client = app.test_client()
    assert (await client.get("/first")).status_code == 200
    app.url_map.add(app.url_rule_class("/second", endpoint="first"))
    assert await (await client.get("/second")).get_data(as_text=True) == "first"


# -- host and subdomain matching -------------------------------------------------------------
async def test_subdomain_routes_match_under_server_name() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    async def index() -> str:
        return "main"

    @app.route("/", subdomain="api")
    async def api_index() -> str:
        return "api"

    @app.route("/", subdomain="<user>")
    async def user_index(user: str) -> str:
        return f"user {user}"

    client = app.test_client()
    assert await (await client.get("/")).get_data(as_text=True) == "main"
    assert await (await client.get("/", headers={"Host": "api.example.com"})).get_data(as_text=True) == "api"
    assert await (await client.get("/", subdomain="api")).get_data(as_text=True) == "api"
    assert await (await client.get("/", headers={"Host": "bob.example.com"})).get_data(as_text=True) == "user bob"
    assert await (await client.get("/", headers={"Host": "EXAMPLE.com:80"})).get_data(as_text=True) == "main"


async def test_url_for_builds_full_urls_across_subdomains() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    async def index() -> str:
        return f"{url_for('api_index')} {url_for('user_index', user='ann')} {url_for('index')}"

    @app.route("/", subdomain="api")
    async def api_index() -> str:
        return f"{url_for('index')} {url_for('api_index')}"

    @app.route("/", subdomain="<user>")
    async def user_index(user: str) -> str:
        return user

    client = app.test_client()
    main = await client.get("/")
    assert await main.get_data(as_text=True) == "http://api.example.com/ http://ann.example.com/ /"
    api = await client.get("/", subdomain="api")
    assert await api.get_data(as_text=True) == "http://example.com/ /"


async def test_subdomain_rules_match_under_server_name_without_subdomain_matching() -> None:
    # As in Quart: SERVER_NAME alone routes api.example.com to the "api" rules.
    app = make_app()
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    async def index() -> str:
        return "main"

    @app.route("/api", subdomain="api")
    async def api() -> str:
        return "api"

    client = app.test_client()
    assert await (await client.get("/api", headers={"Host": "api.example.com"})).get_data(as_text=True) == "api"
    assert (await client.get("/", headers={"Host": "api.example.com"})).status_code == 404
    assert await (await client.get("/", headers={"Host": "example.com"})).get_data(as_text=True) == "main"
    async with app.app_context():
        assert url_for("api") == "http://api.example.com/api"


async def test_a_host_outside_server_name_is_served_unless_subdomains_are_matched() -> None:
    lenient = make_app()
    strict = make_app(subdomain_matching=True)
    for app in (lenient, strict):
        app.config["SERVER_NAME"] = "example.com"
        app.add_url_rule("/", "index", lambda: "main")
    # Flask 3.1: SERVER_NAME does not restrict the hosts served (a health check by IP works)...
    assert (await lenient.test_client().get("/", headers={"Host": "10.0.0.5"})).status_code == 200
    # ...but where subdomains are matched, a host outside it matches no rule (and warns).
    with pytest.warns(UserWarning, match="doesn't match configured server name"):
        assert (await strict.test_client().get("/", headers={"Host": "10.0.0.5"})).status_code == 404


def test_bind_to_request_takes_the_subdomain_from_the_host() -> None:
    from quaver.routing import QuaverMap, QuaverRule
    from quaver.testing import make_test_request

    url_map = QuaverMap()
    url_map.add(QuaverRule("/", endpoint="user", subdomain="<user>"))
    app = make_app()
    request = make_test_request(app, "/", headers={"Host": "Ada.Example.com"})
    adapter = url_map.bind_to_request(request, None, "example.com")
    assert adapter.match("/") == ("user", {"user": "ada"})
    with pytest.warns(UserWarning):
        outside = url_map.bind_to_request(request, None, "example.org")
    assert outside.subdomain == "<invalid>"
    assert url_map.bind_to_request(request, None, "example.org", strict=False).subdomain == ""


async def test_host_matching_routes_by_the_host_header() -> None:
    app = make_app(host_matching=True)

    @app.route("/", host="example.com")
    async def example() -> str:
        return f"example {url_for('user_site', user='ann')} {url_for('example')}"

    @app.route("/", host="<user>.example.org")
    async def user_site(user: str) -> str:
        return f"site of {user}"

    client = app.test_client()
    response = await client.get("/", headers={"Host": "example.com"})
    assert await response.get_data(as_text=True) == "example http://ann.example.org/ /"
    assert await (await client.get("/", headers={"Host": "ann.example.org"})).get_data(as_text=True) == "site of ann"
    assert (await client.get("/", headers={"Host": "localhost"})).status_code == 404
    assert (await client.get("/", headers={"Host": "example.com:8080"})).status_code == 404


# -- url_for -------------------------------------------------------------------------------
async def test_url_for_builds_the_path_with_converted_values(app: Quaver) -> None:
    @app.route("/users/<int:user_id>/posts/<slug>")
    async def post(user_id: int, slug: str) -> str:
        return "post"

    @app.route("/")
    async def index() -> str:
        return url_for("post", user_id=5, slug="hello world")

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "/users/5/posts/hello%20world"


async def test_url_for_puts_unknown_arguments_in_the_query_string(app: Quaver) -> None:
    @app.route("/search")
    async def search() -> str:
        return url_for("search", q="a b", page=2, tag=["x", "y"])

    response = await app.test_client().get("/search")
    assert await response.get_data(as_text=True) == "/search?q=a+b&page=2&tag=x&tag=y"


async def test_url_for_external_uses_the_request_host_and_scheme(app: Quaver) -> None:
    @app.route("/here")
    async def here() -> str:
        return url_for("here", _external=True)

    client = app.test_client()
    plain = await client.get("/here", headers={"Host": "shop.test:8000"})
    assert await plain.get_data(as_text=True) == "http://shop.test:8000/here"
    secure = await client.get("/here", scheme="https")
    assert await secure.get_data(as_text=True) == "https://localhost/here"


async def test_url_for_scheme_makes_the_url_external(app: Quaver) -> None:
    @app.route("/here")
    async def here() -> str:
        return url_for("here", _scheme="https")

    response = await app.test_client().get("/here")
    assert await response.get_data(as_text=True) == "https://localhost/here"


async def test_url_for_scheme_without_external_is_refused(app: Quaver) -> None:
    @app.route("/here")
    async def here() -> str:
        try:
            url_for("here", _scheme="https", _external=False)
        except ValueError as error:
            return f"refused: {error}"
        return "built"

    response = await app.test_client().get("/here")
    assert await response.get_data(as_text=True) == "refused: When specifying '_scheme', '_external' must be True."


async def test_url_for_anchor_is_quoted_and_appended(app: Quaver) -> None:
    @app.route("/doc")
    async def doc() -> str:
        return url_for("doc", _anchor="part 2/b?", q="1")

    response = await app.test_client().get("/doc")
    assert await response.get_data(as_text=True) == "/doc?q=1#part%202/b?"


async def test_url_for_method_picks_the_rule_for_that_method(app: Quaver) -> None:
    app.add_url_rule("/read/<int:n>", "item", methods=["GET"])
    app.add_url_rule("/write/<int:n>", "item", methods=["POST"])

    @app.endpoint("item")
    async def item(n: int) -> str:
        return f"{url_for('item', n=n)} {url_for('item', n=n, _method='POST')} {url_for('item', n=n, _method='GET')}"

    response = await app.test_client().get("/read/1")
    assert await response.get_data(as_text=True) == "/read/1 /write/1 /read/1"


async def test_url_for_uses_the_request_root_path(app: Quaver) -> None:
    @app.route("/page")
    async def page() -> str:
        return f"{url_for('page')} {url_for('page', _external=True)}"

    response = await app.test_client().get("/mounted/page", root_path="/mounted")
    assert await response.get_data(as_text=True) == "/mounted/page http://localhost/mounted/page"


async def test_url_for_outside_a_request_uses_server_name(app: Quaver) -> None:
    app.config.update(SERVER_NAME="example.com", APPLICATION_ROOT="/root", PREFERRED_URL_SCHEME="https")

    @app.route("/page/<int:n>")
    async def page(n: int) -> str:
        return "page"

    async with app.app_context():
        assert url_for("page", n=3) == "https://example.com/root/page/3"
        assert url_for("page", n=3, _external=False) == "/root/page/3"
        assert url_for("page", n=3, extra="y") == "https://example.com/root/page/3?extra=y"
    assert app.url_for("page", n=4) == "https://example.com/root/page/4"


async def test_url_for_outside_a_request_without_server_name_raises(app: Quaver) -> None:
    @app.route("/page")
    async def page() -> str:
        return "page"

    async with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("page")


async def test_url_for_unknown_endpoint_raises_build_error(app: Quaver) -> None:
    @app.route("/page/<int:n>")
    async def page(n: int) -> str:
        try:
            url_for("nowhere")
        except BuildError as error:
            unknown = error.endpoint
        try:
            url_for("page", other=1)
        except BuildError as error:
            missing = f"{error.endpoint} {error.values}"
        return f"{unknown} | {missing}"

    response = await app.test_client().get("/page/1")
    assert await response.get_data(as_text=True) == "nowhere | page {'other': 1}"


async def test_url_build_error_handler_can_supply_a_url(app: Quaver) -> None:
    def external_endpoint(error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
        if endpoint == "docs":
            return "https://docs.example.com/"
        raise error

    app.url_build_error_handlers.append(external_endpoint)

    @app.route("/")
    async def index() -> str:
        return url_for("docs")

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "https://docs.example.com/"


async def test_unhandled_build_error_in_a_view_gives_500_when_not_testing() -> None:
    app = make_app()
    app.config["TESTING"] = False

    @app.route("/")
    async def index() -> str:
        return url_for("nowhere")

    response = await app.test_client().get("/")
    assert response.status_code == 500


async def test_url_for_dot_name_outside_a_blueprint_means_the_app_endpoint(app: Quaver) -> None:
    @app.route("/target")
    async def target() -> str:
        return "t"

    @app.route("/")
    async def index() -> str:
        return url_for(".target")

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "/target"


# -- url_value_preprocessor and url_defaults ----------------------------------------------------
async def test_url_value_preprocessor_and_url_defaults_carry_a_value_through_urls(app: Quaver) -> None:
    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None:
            g.lang = values.pop("lang", None)

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang"):
            return
        values["lang"] = g.lang

    @app.route("/<lang>/about")
    async def about() -> str:
        return f"about in {g.lang}, see {url_for('contact')} and {url_for('plain')}"

    @app.route("/<lang>/contact")
    async def contact() -> str:
        return "contact"

    @app.route("/plain")
    async def plain() -> str:
        return "plain"

    response = await app.test_client().get("/de/about")
    assert await response.get_data(as_text=True) == "about in de, see /de/contact and /plain"


async def test_url_value_preprocessor_runs_before_before_request(app: Quaver) -> None:
    order: list[str] = []

    @app.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, Any] | None) -> None:
        order.append(f"preprocess {endpoint} {values}")

    @app.before_request
    async def before() -> None:
        order.append("before")

    @app.route("/n/<int:n>")
    async def view(n: int) -> str:
        order.append("view")
        return "ok"

    await app.test_client().get("/n/2")
    assert order == ["preprocess view {'n': 2}", "before", "view"]


async def test_url_defaults_apply_outside_a_request_too(app: Quaver) -> None:
    app.config["SERVER_NAME"] = "example.com"

    @app.url_defaults
    def version(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("v", 2)

    @app.route("/api/v<int:v>/items")
    async def items(v: int) -> str:
        return "items"

    async with app.app_context():
        assert url_for("items", _external=False) == "/api/v2/items"
        assert url_for("items", v=1, _external=False) == "/api/v1/items"


async def test_websocket_and_http_rules_on_one_path_are_told_apart(app: Quaver) -> None:
    @app.websocket("/live/<int:n>")
    async def live(n: int) -> None:
        await websocket.send(f"websocket {n} {websocket.endpoint}")

    @app.route("/live/<int:n>")
    async def live_page(n: int) -> str:
        return f"page {n}"

    client = app.test_client()
    assert await (await client.get("/live/3")).get_data(as_text=True) == "page 3"
    async with client.websocket("/live/4") as connection:
        assert await connection.receive() == "websocket 4 live"


async def test_routes_and_hooks_added_after_the_first_request_take_effect(app: Quaver) -> None:
    @app.get("/first")
    async def first() -> str:
        return "first"

    client = app.test_client()
    assert await (await client.get("/first")).get_data(as_text=True) == "first"

    @app.get("/later")  # Quart allows it; Flask would refuse
    async def later() -> str:
        return "later"

    @app.after_request
    async def mark(response: Any) -> Any:
        response.headers["X-Late-Hook"] = "ran"
        return response

    late = await client.get("/later")
    assert (late.status_code, await late.get_data(as_text=True)) == (200, "later")
    assert (await client.get("/first")).headers["X-Late-Hook"] == "ran"


async def test_bind_to_request_takes_the_subdomain_from_the_host_under_server_name() -> None:
    from quaver.routing import QuaverMap, QuaverRule

    url_map = QuaverMap(host_matching=False)
    url_map.add(QuaverRule("/", endpoint="api_index", subdomain="api"))
    app = make_app()
    async with app.test_request_context("/", headers={"Host": "api.example.com:80"}):
        adapter = url_map.bind_to_request(request, subdomain=None, server_name="example.com")
        assert adapter.subdomain == "api"
        assert adapter.match("/") == ("api_index", {})


async def test_bind_to_request_warns_when_the_host_is_not_under_server_name() -> None:
    from quaver.routing import QuaverMap

    app = make_app()
    async with app.test_request_context("/", headers={"Host": "elsewhere.org"}):
        with pytest.warns(UserWarning, match="doesn't match configured server name"):
            adapter = QuaverMap().bind_to_request(request, subdomain=None, server_name="example.com")
        assert adapter.subdomain == "<invalid>"


async def test_a_rule_says_whether_it_answers_options_itself(app: Quaver) -> None:
    from quaver.routing import QuaverRule

    @app.route("/auto")
    async def auto() -> str:
        return "ok"

    @app.route("/manual", methods=["GET", "OPTIONS"], provide_automatic_options=False)
    async def manual() -> str:
        return "the view's own answer"

    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    assert rules["auto"].provide_automatic_options is True
    assert rules["manual"].provide_automatic_options is False
    assert QuaverRule("/bare").provide_automatic_options is False
    assert QuaverRule("/given", provide_automatic_options=True).provide_automatic_options is True
    response = await app.test_client().options("/manual")
    assert await response.get_data(as_text=True) == "the view's own answer"
