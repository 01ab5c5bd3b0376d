"""Static files of the app and of blueprints: static_folder, static_url_path,
SEND_FILE_MAX_AGE_DEFAULT, url_for('static', ...), conditional requests and
traversal attempts."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from test_streaming import uvicorn_serving

from quaver import Blueprint, Quaver, url_for


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: static/, assets/, admin/static/, and a secret beside them."""
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "site.css").write_text("body { color: teal }")
    (tmp_path / "static" / "app.js").write_text("console.log('hi')")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.svg").write_text("<svg/>")
    (tmp_path / "admin" / "static").mkdir(parents=True)
    (tmp_path / "admin" / "static" / "admin.css").write_text(".admin {}")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink(tmp_path / "secret.txt", tmp_path / "static" / "leak.txt")
    return tmp_path


def make_app(project: Path, **kwargs) -> Quaver:
    app = Quaver(__name__, root_path=str(project), **kwargs)
    app.config["TESTING"] = True
    return app


async def test_static_folder_is_served_under_static(project: Path) -> None:
    app = make_app(project)
    client = app.test_client()
    css = await client.get("/static/css/site.css")
    assert css.status_code == 200
    assert await css.get_data() == b"body { color: teal }"
    assert css.mimetype == "text/css"
    js = await client.get("/static/app.js")
    assert js.mimetype in ("text/javascript", "application/javascript")
    assert (await client.get("/static/missing.css")).status_code == 404


async def test_static_files_get_send_file_max_age_default(project: Path) -> None:
    app = make_app(project)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    response = await app.test_client().get("/static/app.js")
    assert response.cache_control.max_age == 3600
    assert response.cache_control.public
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 30
    assert (await app.test_client().get("/static/app.js")).cache_control.max_age == 30
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    assert (await app.test_client().get("/static/app.js")).cache_control.no_cache


async def test_static_url_path_and_static_folder_can_be_changed(project: Path) -> None:
    app = make_app(project, static_folder="assets", static_url_path="/media")
    client = app.test_client()
    assert await (await client.get("/media/logo.svg")).get_data() == b"<svg/>"
    assert (await client.get("/static/css/site.css")).status_code == 404
    async with app.test_request_context("/"):
        assert url_for("static", filename="logo.svg") == "/media/logo.svg"


async def test_static_url_path_defaults_to_the_folder_name(project: Path) -> None:
    app = make_app(project, static_folder="assets")
    assert await (await app.test_client().get("/assets/logo.svg")).get_data() == b"<svg/>"


async def test_no_static_folder_means_no_static_route(project: Path) -> None:
    app = make_app(project, static_folder=None)
    assert "static" not in app.view_functions
    assert (await app.test_client().get("/static/app.js")).status_code == 404


async def test_url_for_static_builds_the_url(project: Path) -> None:
    app = make_app(project)

    @app.get("/")
    async def index():
        return url_for("static", filename="css/site.css", v="3")

    assert await (await app.test_client().get("/")).get_data() == b"/static/css/site.css?v=3"
    async with app.test_request_context("/mounted/", root_path="/mounted"):
        assert url_for("static", filename="app.js", _external=True) == "http://localhost/mounted/static/app.js"


async def test_blueprint_static_folder_and_url_for(project: Path) -> None:
    app = make_app(project)
    admin = Blueprint(
        "admin", __name__, root_path=str(project / "admin"), static_folder="static", static_url_path="/files"
    )
    app.register_blueprint(admin, url_prefix="/admin")
    client = app.test_client()
    response = await client.get("/admin/files/admin.css")
    assert response.status_code == 200
    assert await response.get_data() == b".admin {}"
    assert (await client.get("/admin/files/../static/admin.css")).status_code == 404
    async with app.test_request_context("/"):
        assert url_for("admin.static", filename="admin.css") == "/admin/files/admin.css"
        assert url_for("static", filename="app.js") == "/static/app.js"


async def test_blueprint_static_files_get_the_apps_max_age(project: Path) -> None:
    app = make_app(project)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 120
    admin = Blueprint("admin", __name__, root_path=str(project / "admin"), static_folder="static")
    app.register_blueprint(admin, url_prefix="/admin")
    response = await app.test_client().get("/admin/static/admin.css")
    assert response.cache_control.max_age == 120


async def test_a_blueprint_can_set_its_own_static_max_age(project: Path) -> None:
    class LongLived(Blueprint):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 86_400

    app = make_app(project)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 120
    app.register_blueprint(
        LongLived("admin", __name__, root_path=str(project / "admin"), static_folder="static"), url_prefix="/admin"
    )
    client = app.test_client()
    assert (await client.get("/admin/static/admin.css")).cache_control.max_age == 86_400
    assert (await client.get("/static/app.js")).cache_control.max_age == 120


async def test_static_file_answers_304_and_ranges(project: Path) -> None:
    app = make_app(project)
    client = app.test_client()
    first = await client.get("/static/css/site.css")
    again = await client.get("/static/css/site.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    part = await client.get("/static/css/site.css", headers={"Range": "bytes=0-3"})
    assert (part.status_code, await part.get_data()) == (206, b"body")


async def test_static_symlink_out_of_the_folder_is_404(project: Path) -> None:
    app = make_app(project)
    response = await app.test_client().get("/static/leak.txt")
    assert response.status_code == 404
    assert b"SECRET" not in await response.get_data()


async def test_static_traversal_through_a_real_server_is_404(project: Path, free_port: int) -> None:
    app = make_app(project)
    targets = [
        b"/static/../secret.txt",
        b"/static/%2e%2e/secret.txt",
        b"/static/css/%2E%2E/%2E%2E/secret.txt",
        b"/static/..%2Fsecret.txt",
        b"/static/leak.txt",
        b"/static/%2Fetc%2Fpasswd",
    ]
    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        ok = await client.get("/static/css/site.css")
        assert (ok.status_code, ok.content) == (200, b"body { color: teal }")
        for target in targets:
            response = await client.get("/", extensions={"target": target})
            if response.is_redirect:  # '//' merged by routing; followed by hand
                response = await client.get(response.headers["location"])
            assert (target, response.status_code) == (target, 404)
            assert b"SECRET" not in response.content
