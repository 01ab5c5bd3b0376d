"""examples/blog: accounts, login form, posts, flash messages, SQLite.

Through the test client (with the app's start-up run, which creates the
tables), then once over a real server with a real HTTP client keeping the
cookies, as a browser would.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

BLOG = Path(__file__).resolve().parent.parent / "examples" / "blog"


@pytest.fixture
def blog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A fresh import of the example (its own ``db`` module), on a database in tmp_path."""
    monkeypatch.syspath_prepend(str(BLOG))
    monkeypatch.delitem(sys.modules, "db", raising=False)
    monkeypatch.setenv("BLOG_DATABASE", str(tmp_path / "blog.sqlite"))
    spec = importlib.util.spec_from_file_location("blog_example", BLOG / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "blog_example", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def app(blog: Any, tmp_path: Path) -> AsyncIterator[Any]:
    app = blog.create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "test.sqlite")})
    async with app.test_app():
        yield app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form token"
    return found.group(1)


class Browser:
    """Fills in the blog's forms the way a person would: load the page, then post."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def page(self, path: str) -> str:
        return await (await self.client.get(path)).get_data(as_text=True)

    async def submit(self, path: str, follow: bool = False, **fields: str) -> Any:
        token = csrf_of(await self.page(path))
        return await self.client.post(path, form={"csrf": token, **fields}, follow_redirects=follow)

    async def register(self, username: str = "ada", password: str = "analytical") -> Any:
        return await self.submit("/register", username=username, password=password)

    async def login(self, username: str = "ada", password: str = "analytical", **extra: str) -> Any:
        return await self.submit("/login", username=username, password=password, **extra)

    async def write(self, title: str, body: str) -> Any:
        return await self.submit("/new", title=title, body=body)


@pytest.fixture
def browser(client: Any) -> Browser:
    return Browser(client)


async def text(response: Any) -> str:
    return await response.get_data(as_text=True)


async def test_an_empty_blog(browser: Browser) -> None:
    page = await browser.page("/")
    assert "Nothing written yet." in page
    assert "Log in" in page and "Register" in page


async def test_register_log_in_write_and_read(browser: Browser, client: Any) -> None:
    response = await browser.register()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Account created; log in below." in await browser.page("/login")

    response = await browser.login()
    assert response.headers["Location"] == "/"
    home = await browser.page("/")
    assert "Welcome back, ada." in home
    assert "Logged in as <strong>ada</strong>" in home

    response = await browser.write("On engines", "They weave algebraic patterns.\n\nLike looms.")
    assert response.status_code == 302
    post_path = response.headers["Location"]
    assert re.fullmatch(r"/post/\d+", post_path)
    post = await browser.page(post_path)
    assert "Published." in post
    assert "<h1>On engines</h1>" in post and "<p>Like looms.</p>" in post
    assert "On engines" in await browser.page("/")


async def test_flash_messages_show_once(browser: Browser) -> None:
    await browser.register()
    assert "Account created" in await browser.page("/login")
    assert "Account created" not in await browser.page("/login")


async def test_wrong_password_and_unknown_user(browser: Browser) -> None:
    await browser.register()
    for username, password in (("ada", "not the password"), ("nobody", "analytical")):
        response = await browser.login(username, password)
        assert response.status_code == 401
        page = await text(response)
        assert '<p class="flash error">Wrong username or password.</p>' in page
        assert f'value="{username}"' in page
    assert "Logged in as" not in await browser.page("/")


async def test_registration_rules(browser: Browser) -> None:
    response = await browser.register("ada", "short")
    assert "a password of 8 characters or more" in await text(response)
    await browser.register("ada", "long enough")
    response = await browser.register("ada", "another one")
    assert "The name ada is taken." in await text(response)


async def test_the_session_cookie_is_safe_and_lasts_only_with_remember_me(
    app: Any, browser: Browser, client: Any
) -> None:
    await browser.register()
    response = await browser.login()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # ends with the browser session

    await client.post("/logout", form={"csrf": csrf_of(await browser.page("/"))})
    response = await browser.login(remember="on")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Expires" in cookie


async def test_logging_out(browser: Browser, client: Any) -> None:
    await browser.register()
    await browser.login()
    token = csrf_of(await browser.page("/"))
    response = await client.post("/logout", form={"csrf": token}, follow_redirects=True)
    page = await text(response)
    assert "Logged out." in page and "Log in" in page
    async with client.session_transaction() as sess:
        assert "user_id" not in sess


async def test_forms_without_the_session_token_are_refused(browser: Browser, client: Any) -> None:
    await browser.register()
    response = await client.post("/login", form={"username": "ada", "password": "analytical"})
    assert response.status_code == 400
    response = await client.post("/login", form={"username": "ada", "password": "analytical", "csrf": "forged"})
    assert response.status_code == 400
    assert "Logged in as" not in await browser.page("/")


async def test_writing_needs_a_login_and_comes_back_after_it(browser: Browser, client: Any) -> None:
    response = await client.get("/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/new"
    assert "Log in first." in await browser.page("/login")

    await browser.register()
    response = await browser.submit("/login?next=/new", username="ada", password="analytical")
    assert response.headers["Location"] == "/new"


async def test_next_cannot_send_you_to_another_site(browser: Browser) -> None:
    await browser.register()
    response = await browser.submit("/login?next=//evil.example/", username="ada", password="analytical")
    assert response.headers["Location"] == "/"


async def test_a_post_needs_a_title_and_body(browser: Browser) -> None:
    await browser.register()
    await browser.login()
    response = await browser.write("", "no title")
    assert response.status_code == 400
    page = await text(response)
    assert "A post needs a title and a body." in page
    assert "no title</textarea>" in page


async def test_only_the_author_edits_or_deletes(browser: Browser, client: Any, app: Any) -> None:
    await browser.register("ada", "analytical")
    await browser.login("ada", "analytical")
    post_path = (await browser.write("Mine", "text")).headers["Location"]
    token = csrf_of(await browser.page("/"))
    await client.post("/logout", form={"csrf": token})

    await browser.register("bob", "builder123")
    await browser.login("bob", "builder123")
    assert "Edit</a>" not in await browser.page(post_path)
    response = await client.get(f"{post_path}/edit")
    assert response.status_code == 403
    assert "That is not yours to change." in await text(response)
    token = csrf_of(await browser.page("/"))
    assert (await client.post(f"{post_path}/delete", form={"csrf": token})).status_code == 403
    assert "Mine" in await browser.page("/")


async def test_edit_and_delete_your_post(browser: Browser, client: Any, app: Any) -> None:
    await browser.register()
    await browser.login()
    post_path = (await browser.write("Draft", "first version")).headers["Location"]
    edit_page = await browser.page(f"{post_path}/edit")
    assert 'value="Draft"' in edit_page and "first version</textarea>" in edit_page

    response = await browser.submit(f"{post_path}/edit", title="Final", body="second version")
    assert response.headers["Location"] == post_path
    page = await browser.page(post_path)
    assert "Saved." in page and "second version" in page

    token = csrf_of(page)
    response = await client.post(f"{post_path}/delete", form={"csrf": token}, follow_redirects=True)
    page = await text(response)
    assert "Deleted." in page and "Nothing written yet." in page
    database = sqlite3.connect(app.config["DATABASE"])
    assert database.execute("SELECT COUNT(*) FROM post").fetchone() == (0,)
    database.close()


async def test_post_content_is_escaped(browser: Browser) -> None:
    await browser.register()
    await browser.login()
    post_path = (await browser.write("<script>alert(1)</script>", "<b>bold?</b>")).headers["Location"]
    page = await browser.page(post_path)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;bold?&lt;/b&gt;" in page


async def test_missing_posts_get_the_404_page(client: Any) -> None:
    response = await client.get("/post/999")
    assert response.status_code == 404
    assert "There is nothing here." in await text(response)


async def test_over_a_real_server_with_a_real_client(blog: Any, tmp_path: Path, free_port: int) -> None:
    app = blog.create_app({"SECRET_KEY": "real", "DATABASE": str(tmp_path / "served.sqlite")})
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{free_port}"]
    config.accesslog = config.errorlog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{free_port}"
    try:
        async with httpx.AsyncClient(base_url=base) as web:
            for _ in range(200):
                try:
                    home = await web.get("/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            assert home.status_code == 200
            token = csrf_of((await web.get("/register")).text)
            created = await web.post("/register", data={"csrf": token, "username": "ada", "password": "analytical"})
            assert created.status_code == 302
            token = csrf_of((await web.get("/login")).text)
            logged_in = await web.post(
                "/login", data={"csrf": token, "username": "ada", "password": "analytical"}, follow_redirects=True
            )
            assert "Welcome back, ada." in logged_in.text
            token = csrf_of(logged_in.text)
            written = await web.post("/new", data={"csrf": token, "title": "Over the wire", "body": "yes"})
            assert written.status_code == 302
            assert "Over the wire" in (await web.get("/")).text
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
