"""A Flask tutorial-style app ported by renaming imports and adding await.

``examples/flask_tutorial_port/original`` is the Flask app and ``ported`` the
Quaver one. These tests check that the port is only those edits, run the
Quaver app through its whole story, and run the Flask original too, so the
two are known to be the same app.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "flask_tutorial_port"
ORIGINAL = EXAMPLE / "original" / "flaskr"
PORTED = EXAMPLE / "ported" / "flaskr"


def load_package(path: Path, name: str) -> ModuleType:
    """Import the package at ``path`` under ``name`` (both are called flaskr)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py", submodule_search_locations=[str(path)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def password_hash(password: str) -> str:
    return generate_password_hash(password)  # slow on purpose, so made once per password


def seed(database: Path) -> None:
    """Two users (password = username) and one post by the first."""
    db = sqlite3.connect(database)
    db.executemany(
        "INSERT INTO user (username, password) VALUES (?, ?)",
        [("test", password_hash("test")), ("other", password_hash("other"))],
    )
    db.execute(
        "INSERT INTO post (title, body, author_id, created) VALUES (?, ?, ?, ?)",
        ("first post", "body of the first post", 1, "2024-01-01 00:00:00"),
    )
    db.commit()
    db.close()


# -- the port is renames and await only -----------------------------------


def unport(source: str) -> str:
    """Undo the porting edits: drop ``async ``/``await `` and rename back."""
    source = re.sub(r"\basync (?=def )", "", source)
    source = re.sub(r"\bawait ", "", source)
    source = re.sub(r"\bquaver\b", "flask", source)
    return re.sub(r"\bQuaver\b", "Flask", source)


def files_of(package: Path) -> list[Path]:
    return sorted(
        path.relative_to(package) for path in package.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )


def test_the_port_has_the_same_files() -> None:
    assert files_of(ORIGINAL) == files_of(PORTED)
    assert Path("templates/base.html") in files_of(PORTED)


@pytest.mark.parametrize("name", [str(path) for path in files_of(ORIGINAL)])
def test_each_file_differs_only_by_renames_and_await(name: str) -> None:
    original = (ORIGINAL / name).read_text()
    ported = (PORTED / name).read_text()
    if name.endswith(".py"):
        assert unport(ported) == original
        assert not re.search(r"\b(flask|Flask)\b", ported)
    else:
        assert ported == original  # templates, schema and static files are untouched


def test_the_port_really_awaits() -> None:
    sources = "".join((PORTED / name).read_text() for name in ("auth.py", "blog.py"))
    assert "await render_template(" in sources
    assert "await flash(" in sources
    assert "await request.form" in sources


# -- the Quaver app --------------------------------------------------------


@pytest.fixture
def flaskr(tmp_path: Path) -> Any:
    package = load_package(PORTED, "flaskr_ported")
    database = tmp_path / "flaskr.sqlite"
    app = package.create_app({"TESTING": True, "DATABASE": str(database)}, instance_path=str(tmp_path / "instance"))
    return app, database


@pytest.fixture
async def app(flaskr: Any) -> Any:
    app, database = flaskr
    db_module = sys.modules["flaskr_ported.db"]
    async with app.app_context():
        db_module.init_db()
    seed(database)
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class Auth:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def login(self, username: str = "test", password: str = "test") -> Any:
        return await self.client.post("/auth/login", form={"username": username, "password": password})

    async def logout(self) -> Any:
        return await self.client.get("/auth/logout")


@pytest.fixture
def auth(client: Any) -> Auth:
    return Auth(client)


def query(app: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(app.config["DATABASE"])
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


async def text(response: Any) -> str:
    return await response.get_data(as_text=True)


async def test_index_for_visitors_and_for_users(client: Any, auth: Auth) -> None:
    page = await text(await client.get("/"))
    assert "Log in" in page and "Register" in page
    assert "first post" in page and "by test on 2024-01-01" in page
    assert 'href="/1/update"' not in page

    await auth.login()
    page = await text(await client.get("/"))
    assert "Log out" in page and '<span class="user">test</span>' in page
    assert 'href="/1/update"' in page and 'href="/create"' in page


async def test_static_files_are_served(client: Any) -> None:
    response = await client.get("/static/style.css")
    assert response.status_code == 200
    assert "flash" in await text(response)


async def test_register_then_log_in(app: Any, client: Any, auth: Auth) -> None:
    assert (await client.get("/auth/register")).status_code == 200
    response = await client.post("/auth/register", form={"username": "ada", "password": "engine"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert query(app, "SELECT username FROM user WHERE username = 'ada'") == [("ada",)]
    login_page = await text(await client.get("/auth/login"))
    assert "Registered. Please log in." in login_page

    response = await auth.login("ada", "engine")
    assert response.headers["Location"] == "/"
    async with client.session_transaction() as session:
        assert session["user_id"] == 3


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "x", "Username is required."),
        ("someone", "", "Password is required."),
        ("test", "x", "User test is already registered."),
    ],
)
async def test_register_validation(client: Any, username: str, password: str, message: str) -> None:
    response = await client.post("/auth/register", form={"username": username, "password": password})
    assert response.status_code == 200
    page = await text(response)
    assert f'<div class="flash error">{message}</div>' in page
    assert f'value="{username}"' in page  # the form keeps what was typed


@pytest.mark.parametrize(("username", "password"), [("nobody", "test"), ("test", "wrong")])
async def test_login_failures(client: Any, auth: Auth, username: str, password: str) -> None:
    response = await auth.login(username, password)
    assert response.status_code == 200
    assert "Incorrect username or password." in await text(response)
    async with client.session_transaction() as session:
        assert "user_id" not in session


async def test_logout_clears_the_session(client: Any, auth: Auth) -> None:
    await auth.login()
    response = await auth.logout()
    assert response.headers["Location"] == "/"
    async with client.session_transaction() as session:
        assert "user_id" not in session
    assert "Log in" in await text(await client.get("/"))


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/create"), ("post", "/create"), ("post", "/1/update"), ("post", "/1/delete")]
)
async def test_login_required(client: Any, method: str, path: str) -> None:
    response = await getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


async def test_only_the_author_may_change_a_post(app: Any, client: Any, auth: Auth) -> None:
    await auth.login("other", "other")
    assert (await client.get("/1/update")).status_code == 403
    assert (await client.post("/1/update", form={"title": "x", "body": ""})).status_code == 403
    assert (await client.post("/1/delete")).status_code == 403
    assert 'href="/1/update"' not in await text(await client.get("/"))
    assert query(app, "SELECT title FROM post") == [("first post",)]


@pytest.mark.parametrize("path", ["/2/update", "/2/delete"])
async def test_missing_posts_are_404(client: Any, auth: Auth, path: str) -> None:
    await auth.login()
    response = await client.post(path)
    assert response.status_code == 404
    assert "Post 2 doesn&#39;t exist." in await text(response) or "Post 2 doesn't exist." in await text(response)


async def test_create_a_post(app: Any, client: Any, auth: Auth) -> None:
    await auth.login()
    assert (await client.get("/create")).status_code == 200
    response = await client.post("/create", form={"title": "second <post>", "body": "more"}, follow_redirects=True)
    page = await text(response)
    assert "Post published." in page
    assert "second &lt;post&gt;" in page
    assert query(app, "SELECT COUNT(*) FROM post") == [(2,)]
    assert page.index("second &lt;post&gt;") < page.index("first post")  # newest first


async def test_update_a_post(app: Any, client: Any, auth: Auth) -> None:
    await auth.login()
    form_page = await text(await client.get("/1/update"))
    assert 'value="first post"' in form_page and "body of the first post</textarea>" in form_page
    response = await client.post("/1/update", form={"title": "updated", "body": "new body"})
    assert response.headers["Location"] == "/"
    assert query(app, "SELECT title, body FROM post WHERE id = 1") == [("updated", "new body")]
    assert "Post updated." in await text(await client.get("/"))


@pytest.mark.parametrize("path", ["/create", "/1/update"])
async def test_a_title_is_required(app: Any, client: Any, auth: Auth, path: str) -> None:
    await auth.login()
    response = await client.post(path, form={"title": "  ", "body": "kept body"})
    assert response.status_code == 200
    page = await text(response)
    assert '<div class="flash error">Title is required.</div>' in page
    assert "kept body</textarea>" in page
    assert query(app, "SELECT title FROM post") == [("first post",)]


async def test_delete_a_post(app: Any, client: Any, auth: Auth) -> None:
    await auth.login()
    response = await client.post("/1/delete", follow_redirects=True)
    assert "Post deleted." in await text(response)
    assert "No posts yet." in await text(response)
    assert query(app, "SELECT COUNT(*) FROM post") == [(0,)]


async def test_the_connection_is_closed_when_the_app_context_ends(flaskr: Any) -> None:
    app, _ = flaskr
    db_module = sys.modules["flaskr_ported.db"]
    async with app.app_context():
        db = db_module.get_db()
        assert db is db_module.get_db()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_init_db_command(flaskr: Any) -> None:
    app, database = flaskr
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready." in result.output
    assert query(app, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'post'") == [("post",)]


# -- the Flask original, for comparison -----------------------------------


def test_the_flask_original_tells_the_same_story(tmp_path: Path) -> None:
    package = load_package(ORIGINAL, "flaskr_original")
    database = tmp_path / "original.sqlite"
    app = package.create_app({"TESTING": True, "DATABASE": str(database)}, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        sys.modules["flaskr_original.db"].init_db()
    seed(database)
    client = app.test_client()
    assert client.post("/create").headers["Location"] == "/auth/login"
    assert client.post("/auth/login", data={"username": "test", "password": "test"}).headers["Location"] == "/"
    created = client.post("/create", data={"title": "from flask", "body": "b"}, follow_redirects=True)
    page = created.get_data(as_text=True)
    assert "Post published." in page and "from flask" in page and "first post" in page
    assert client.post("/1/update", data={"title": "", "body": ""}).status_code == 200
    assert client.post("/1/delete").headers["Location"] == "/"
