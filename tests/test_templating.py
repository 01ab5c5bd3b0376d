"""Templates: rendering and streaming, folders, context, filters, escaping."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from quaver import (
    Blueprint,
    Markup,
    Quaver,
    flash,
    g,
    get_template_attribute,
    render_template,
    render_template_string,
    session,
    stream_template,
    stream_template_string,
)


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    return tmp_path


@pytest.fixture
def tapp(root: Path) -> Quaver:
    app = Quaver("templated", root_path=str(root))
    app.config["TESTING"] = True
    app.secret_key = "test secret"
    return app


async def test_render_template_from_the_app_folder(tapp: Quaver, root: Path) -> None:
    write(root / "templates", "hello.html", "<p>Hello {{ name }}!</p>")

    @tapp.route("/<name>")
    async def hello(name: str) -> str:
        return await render_template("hello.html", name=name)

    response = await tapp.test_client().get("/Ada")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "<p>Hello Ada!</p>"
    assert response.mimetype == "text/html"


async def test_html_templates_escape_variables_and_text_templates_do_not(tapp: Quaver, root: Path) -> None:
    write(root / "templates", "page.html", "{{ value }}|{{ safe }}")
    write(root / "templates", "mail.txt", "{{ value }}")

    @tapp.route("/html")
    async def html() -> str:
        return await render_template("page.html", value="<b>&", safe=Markup("<i>ok</i>"))

    @tapp.route("/text")
    async def text() -> str:
        return await render_template("mail.txt", value="<b>&")

    client = tapp.test_client()
    assert await (await client.get("/html")).get_data(as_text=True) == "&lt;b&gt;&amp;|<i>ok</i>"
    assert await (await client.get("/text")).get_data(as_text=True) == "<b>&"


async def test_render_template_string_escapes(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        return await render_template_string("{{ a }} {{ b|safe }}", a="<x>", b="<y>")

    assert await (await app.test_client().get("/")).get_data(as_text=True) == "&lt;x&gt; <y>"


async def test_a_list_of_names_uses_the_first_that_exists(tapp: Quaver, root: Path) -> None:
    write(root / "templates", "fallback.html", "fallback")
    async with tapp.app_context():
        assert await render_template(["missing.html", "fallback.html"]) == "fallback"
        with pytest.raises(TemplateNotFound):
            await render_template("missing.html")


async def test_blueprint_template_folder_is_searched_after_the_app(tapp: Quaver, root: Path) -> None:
    write(root / "bp_templates", "only_bp.html", "from blueprint")
    write(root / "bp_templates", "both.html", "blueprint's")
    write(root / "templates", "both.html", "app's")
    bp = Blueprint("bp", __name__, template_folder=str(root / "bp_templates"))

    @bp.route("/one")
    async def one() -> str:
        return await render_template("only_bp.html")

    @bp.route("/two")
    async def two() -> str:
        return await render_template("both.html")

    tapp.register_blueprint(bp)
    client = tapp.test_client()
    assert await (await client.get("/one")).get_data(as_text=True) == "from blueprint"
    assert await (await client.get("/two")).get_data(as_text=True) == "app's"


async def test_request_session_g_config_url_for_and_flashes_in_templates(tapp: Quaver) -> None:
    tapp.config["SITE"] = "Quaver site"
    source = (
        "{{ request.path }}|{{ request.args['q'] }}|{{ session['user'] }}|{{ g.who }}|"
        "{{ config['SITE'] }}|{{ url_for('page', q='x') }}|{{ get_flashed_messages()|join(',') }}"
    )

    @tapp.route("/page")
    async def page() -> str:
        session["user"] = "ada"
        g.who = "from g"
        await flash("saved")
        return await render_template_string(source)

    body = await (await tapp.test_client().get("/page?q=1")).get_data(as_text=True)
    assert body == "/page|1|ada|from g|Quaver site|/page?q=x|saved"


async def test_context_processors_app_wide_and_blueprint_only(tapp: Quaver) -> None:
    bp = Blueprint("bp", __name__)

    @tapp.context_processor
    def from_app() -> dict[str, str]:
        return {"a": "app"}

    @bp.context_processor
    async def from_blueprint() -> dict[str, str]:
        return {"b": "blueprint"}

    @bp.app_context_processor
    def everywhere() -> dict[str, str]:
        return {"c": "everywhere"}

    source = "{{ a }}-{{ b }}-{{ c }}"

    @tapp.route("/outside")
    async def outside() -> str:
        return await render_template_string(source)

    @bp.route("/inside")
    async def inside() -> str:
        return await render_template_string(source)

    tapp.register_blueprint(bp)
    client = tapp.test_client()
    assert await (await client.get("/outside")).get_data(as_text=True) == "app--everywhere"
    assert await (await client.get("/inside")).get_data(as_text=True) == "app-blueprint-everywhere"


async def test_values_passed_to_render_beat_context_processors(tapp: Quaver) -> None:
    @tapp.context_processor
    def defaults() -> dict[str, str]:
        return {"title": "default", "g": "processor g"}

    async with tapp.test_request_context("/"):
        assert await render_template_string("{{ title }}", title="given") == "given"
        assert await render_template_string("{{ title }}") == "default"
        # a processor may replace what Quaver puts in every template
        assert await render_template_string("{{ g }}") == "processor g"


async def test_filters_tests_and_globals_from_app_and_blueprint(tapp: Quaver) -> None:
    bp = Blueprint("bp", __name__)

    @tapp.template_filter()
    def shout(value: str) -> str:
        return value.upper() + "!"

    tapp.add_template_filter(lambda value: value[::-1], "backwards")

    @tapp.template_test()
    def even(value: int) -> bool:
        return value % 2 == 0

    @tapp.template_global()
    def answer() -> int:
        return 42

    @bp.app_template_filter("twice")
    def twice(value: str) -> str:
        return value * 2

    @bp.app_template_test("short")
    def short(value: str) -> bool:
        return len(value) < 3

    @bp.app_template_global("site")
    def site() -> str:
        return "bp site"

    tapp.register_blueprint(bp)
    async with tapp.app_context():
        rendered = await render_template_string(
            "{{ 'hi'|shout }} {{ 'abc'|backwards }} {{ 4 is even }} {{ 3 is even }} {{ answer() }} "
            "{{ 'ab'|twice }} {{ 'ab' is short }} {{ site() }}"
        )
    assert rendered == "HI! cba True False 42 abab True bp site"


async def test_async_functions_can_be_called_from_templates(tapp: Quaver) -> None:
    async def fetch(value: str) -> str:
        await asyncio.sleep(0)
        return value.title()

    tapp.add_template_global(fetch)
    async with tapp.app_context():
        assert await render_template_string("{{ fetch('quaver') }}") == "Quaver"


async def test_rendering_in_an_app_context_without_a_request(tapp: Quaver) -> None:
    tapp.config["SERVER_NAME"] = "example.com"

    @tapp.route("/about")
    async def about() -> str:
        return ""

    async with tapp.app_context():
        g.value = "g works"
        rendered = await render_template_string(
            "{{ g.value }} {{ url_for('about') }} {{ request is defined }} {{ config['SERVER_NAME'] }}"
        )
    assert rendered == "g works http://example.com/about False example.com"


async def test_rendering_outside_an_app_context_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        await render_template_string("x")


async def test_a_template_not_reading_the_session_leaves_it_unopened(tapp: Quaver) -> None:
    from quaver.sessions import SecureCookieSessionInterface

    opened: list[str] = []

    class CountingInterface(SecureCookieSessionInterface):
        def open_session(self, app: Quaver, request: object) -> object:
            opened.append(request.path)  # type: ignore[attr-defined]
            return super().open_session(app, request)

    tapp.session_interface = CountingInterface()
    tapp.config["SESSION_REFRESH_EACH_REQUEST"] = False

    @tapp.route("/plain")
    async def plain() -> str:
        return await render_template_string("plain")

    @tapp.route("/reads")
    async def reads() -> str:
        return await render_template_string("{{ session.get('x', 'none') }}")

    client = tapp.test_client()
    assert await (await client.get("/plain")).get_data(as_text=True) == "plain"
    assert opened == []
    assert await (await client.get("/reads")).get_data(as_text=True) == "none"
    assert opened == ["/reads"]


async def test_stream_template_streams_with_the_request_available(tapp: Quaver, root: Path) -> None:
    write(root / "templates", "list.html", "{% for item in items %}[{{ item }} {{ request.path }}]{% endfor %}")

    @tapp.route("/items")
    async def items() -> object:
        return await stream_template("list.html", items=["a", "<b>"])

    @tapp.route("/string")
    async def string() -> object:
        return await stream_template_string("{{ request.args['x'] }}")

    client = tapp.test_client()
    response = await client.get("/items")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "[a /items][&lt;b&gt; /items]"
    assert await (await client.get("/string?x=7")).get_data(as_text=True) == "7"


async def test_stream_template_sends_chunks_as_it_renders(tapp: Quaver) -> None:
    @tapp.route("/")
    async def index() -> object:
        return await stream_template_string("{% for i in range(3) %}{{ i }}{% endfor %}")

    chunks = []
    async with tapp.test_client().request("/") as connection:
        await connection.send_complete()
        while chunk := await connection.receive():
            chunks.append(chunk)
    assert b"".join(chunks) == b"012"
    assert len([chunk for chunk in chunks if chunk]) > 1


async def test_get_template_attribute_gives_macros_and_variables(tapp: Quaver, root: Path) -> None:
    write(
        root / "templates",
        "macros.html",
        "{% set version = 3 %}{% macro greet(name) %}Hi <em>{{ name }}</em>{% endmacro %}",
    )
    async with tapp.app_context():
        greet = get_template_attribute("macros.html", "greet")
        assert greet("<Ada>") == Markup("Hi <em>&lt;Ada&gt;</em>")
        assert get_template_attribute("macros.html", "version") == 3


async def test_templates_reload_when_auto_reload_is_on(tapp: Quaver, root: Path) -> None:
    tapp.config["TEMPLATES_AUTO_RELOAD"] = True
    write(root / "templates", "changing.html", "first")
    async with tapp.app_context():
        assert await render_template("changing.html") == "first"
        path = root / "templates" / "changing.html"
        path.write_text("second")
        stat = path.stat()
        import os

        os.utime(path, (stat.st_atime, stat.st_mtime + 5))
        assert await render_template("changing.html") == "second"


async def test_jinja_options_are_used_by_the_environment(root: Path) -> None:
    class TrimmingApp(Quaver):
        jinja_options = {"trim_blocks": True}

    app = TrimmingApp("trimming", root_path=str(root))
    async with app.app_context():
        assert await render_template_string("{% if true %}\nyes{% endif %}") == "yes"


async def test_websocket_handlers_can_render_with_the_websocket_in_context(tapp: Quaver) -> None:
    from quaver import websocket

    @tapp.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        await websocket.send(await render_template_string("{{ websocket.path }}"))

    async with tapp.test_client().websocket("/ws") as connection:
        assert await connection.receive() == "/ws"
