"""flash and get_flashed_messages: messages kept for the next request."""

from __future__ import annotations

from typing import Any

import pytest

from quaver import Quaver, flash, get_flashed_messages, message_flashed, redirect, render_template_string


@pytest.fixture
def fapp(app: Quaver) -> Quaver:
    app.secret_key = "flash secret"

    @app.route("/add/<category>/<message>")
    async def add(category: str, message: str) -> str:
        await flash(message, category)
        return "added"

    @app.route("/add/<message>")
    async def add_default(message: str) -> str:
        await flash(message)
        return "added"

    @app.route("/show")
    async def show() -> Any:
        return {
            "plain": get_flashed_messages(),
            "pairs": [list(pair) for pair in get_flashed_messages(with_categories=True)],
            "errors": get_flashed_messages(category_filter=["error"]),
            "warnings_with_categories": [
                list(pair) for pair in get_flashed_messages(with_categories=True, category_filter=("warning",))
            ],
        }

    return app


async def test_flashed_messages_show_on_the_next_request_then_are_gone(fapp: Quaver) -> None:
    client = fapp.test_client()
    await client.get("/add/first")
    await client.get("/add/second")
    shown = await (await client.get("/show")).get_json()
    assert shown["plain"] == ["first", "second"]
    assert (await (await client.get("/show")).get_json())["plain"] == []


async def test_categories_and_filters(fapp: Quaver) -> None:
    client = fapp.test_client()
    await client.get("/add/error/broken")
    await client.get("/add/info")
    await client.get("/add/warning/careful")
    shown = await (await client.get("/show")).get_json()
    assert shown["plain"] == ["broken", "info", "careful"]
    assert shown["pairs"] == [["error", "broken"], ["message", "info"], ["warning", "careful"]]
    assert shown["errors"] == ["broken"]
    assert shown["warnings_with_categories"] == [["warning", "careful"]]


async def test_messages_flashed_before_a_redirect_show_after_it(fapp: Quaver) -> None:
    @fapp.route("/save", methods=["POST"])
    async def save() -> Any:
        await flash("Saved.", "success")
        return redirect("/page")

    @fapp.route("/page")
    async def page() -> str:
        return await render_template_string(
            "{% for category, message in get_flashed_messages(with_categories=true) %}"
            "<p class='{{ category }}'>{{ message }}</p>{% endfor %}"
        )

    response = await fapp.test_client().post("/save", follow_redirects=True)
    assert await response.get_data(as_text=True) == "<p class='success'>Saved.</p>"


async def test_a_message_flashed_and_read_in_the_same_request_stays_for_the_next_one_only_if_unread(
    fapp: Quaver,
) -> None:
    @fapp.route("/flash-and-read")
    async def flash_and_read() -> Any:
        await flash("now")
        return {"read": get_flashed_messages()}

    client = fapp.test_client()
    assert (await (await client.get("/flash-and-read")).get_json())["read"] == ["now"]
    assert (await (await client.get("/show")).get_json())["plain"] == []


async def test_messages_are_html_escaped_in_templates(fapp: Quaver) -> None:
    client = fapp.test_client()
    async with client.session_transaction() as sess:
        sess["_flashes"] = [("message", "<script>x</script>")]

    @fapp.route("/render")
    async def render() -> str:
        return await render_template_string("{{ get_flashed_messages()[0] }}")

    assert await (await client.get("/render")).get_data(as_text=True) == "&lt;script&gt;x&lt;/script&gt;"


@pytest.mark.parametrize("use_async", [False, True], ids=["sync receiver", "async receiver"])
async def test_flash_sends_message_flashed(fapp: Quaver, use_async: bool) -> None:
    seen: list[tuple[Any, str, str]] = []

    if use_async:

        async def receiver(sender: Any, message: str, category: str, **extra: Any) -> None:
            seen.append((sender, message, category))

    else:

        def receiver(sender: Any, message: str, category: str, **extra: Any) -> None:
            seen.append((sender, message, category))

    with message_flashed.connected_to(receiver, fapp):
        await fapp.test_client().get("/add/error/oops")
    assert seen == [(fapp, "oops", "error")]


async def test_flash_without_a_secret_key_is_a_clear_error(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        await flash("lost")
        return ""

    with pytest.raises(RuntimeError, match="secret key"):
        await app.test_client().get("/")


async def test_flash_outside_a_request_is_a_clear_error(app: Quaver) -> None:
    async with app.app_context():
        with pytest.raises(RuntimeError, match="inside a request"):
            await flash("nowhere")
        with pytest.raises(RuntimeError, match="inside a request"):
            get_flashed_messages()
