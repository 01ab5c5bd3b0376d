"""USE_X_SENDFILE: send_file and send_from_directory leave a file given by
path to the front server (an X-Sendfile header, an empty body that is
valid on the wire), keep the file's headers, answer 304 without the
header, and leave ranges to the front server; file objects and the
default setting send the content themselves."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from test_streaming import uvicorn_serving

from quaver import Quaver, send_file, send_from_directory

CONTENT = b"0123456789" * 100


@pytest.fixture
def sendfile_app(tmp_path: Path) -> Quaver:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "report.pdf").write_bytes(CONTENT)
    app = Quaver(__name__, root_path=str(tmp_path))
    app.config["TESTING"] = True
    app.config["USE_X_SENDFILE"] = True

    @app.get("/report")
    async def report():
        return await send_file("public/report.pdf")

    @app.get("/download")
    async def download():
        return await send_file(tmp_path / "public" / "report.pdf", as_attachment=True, download_name="r.pdf")

    @app.get("/public/<path:name>")
    async def public(name: str):
        return await send_from_directory("public", name)

    @app.get("/memory")
    async def memory():
        return await send_file(io.BytesIO(b"made in memory"), mimetype="text/plain")

    return app


async def test_send_file_sets_x_sendfile_and_sends_no_body(sendfile_app: Quaver, tmp_path: Path) -> None:
    response = await sendfile_app.test_client().get("/report")
    assert response.status_code == 200
    assert response.headers["X-Sendfile"] == str(tmp_path / "public" / "report.pdf")  # relative to root_path
    assert await response.get_data() == b""
    assert response.headers["Content-Length"] == "0"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=report.pdf"
    assert "ETag" in response.headers
    assert "Last-Modified" in response.headers


async def test_attachment_headers_are_kept(sendfile_app: Quaver, tmp_path: Path) -> None:
    response = await sendfile_app.test_client().get("/download")
    assert response.headers["X-Sendfile"] == str(tmp_path / "public" / "report.pdf")
    assert response.headers["Content-Disposition"] == "attachment; filename=r.pdf"
    assert await response.get_data() == b""


async def test_send_from_directory_names_the_file_inside_the_directory(sendfile_app: Quaver, tmp_path: Path) -> None:
    client = sendfile_app.test_client()
    response = await client.get("/public/report.pdf")
    assert response.status_code == 200
    assert response.headers["X-Sendfile"] == str((tmp_path / "public" / "report.pdf").resolve())
    assert await response.get_data() == b""
    response = await client.get("/public/../public/report.pdf")
    assert response.status_code == 404
    assert "X-Sendfile" not in response.headers
    response = await client.get("/public/missing.pdf")
    assert response.status_code == 404
    assert "X-Sendfile" not in response.headers


async def test_a_fresh_copy_gets_304_without_x_sendfile(sendfile_app: Quaver) -> None:
    client = sendfile_app.test_client()
    first = await client.get("/report")
    response = await client.get("/report", headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert "X-Sendfile" not in response.headers
    assert await response.get_data() == b""


async def test_a_failed_precondition_gets_412_without_x_sendfile(sendfile_app: Quaver) -> None:
    response = await sendfile_app.test_client().get("/report", headers={"If-Match": '"another"'})
    assert response.status_code == 412
    assert "X-Sendfile" not in response.headers


async def test_ranges_are_left_to_the_front_server(sendfile_app: Quaver, tmp_path: Path) -> None:
    response = await sendfile_app.test_client().get("/report", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert "Content-Range" not in response.headers
    assert response.headers["X-Sendfile"] == str(tmp_path / "public" / "report.pdf")
    response = await sendfile_app.test_client().get("/report", headers={"Range": "bytes=5000-6000"})
    assert response.status_code == 200  # not 416: the front server judges the range against the file


async def test_a_file_object_is_sent_by_the_app(sendfile_app: Quaver) -> None:
    response = await sendfile_app.test_client().get("/memory")
    assert "X-Sendfile" not in response.headers
    assert await response.get_data() == b"made in memory"


async def test_without_use_x_sendfile_the_app_sends_the_file(sendfile_app: Quaver) -> None:
    sendfile_app.config["USE_X_SENDFILE"] = False
    response = await sendfile_app.test_client().get("/report")
    assert "X-Sendfile" not in response.headers
    assert await response.get_data() == CONTENT
    assert response.headers["Content-Length"] == str(len(CONTENT))


async def test_the_empty_body_is_valid_http_through_a_real_server(sendfile_app: Quaver, free_port: int) -> None:
    # A Content-Length of the file's size over an empty body (what Flask sends) makes an ASGI
    # server abort the response; the front server gets a complete, empty response instead.
    async with uvicorn_serving(sendfile_app, free_port) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/report")
        assert response.status_code == 200
        assert response.headers["x-sendfile"].endswith("report.pdf")
        assert response.content == b""
        again = await client.head("/report")
        assert again.status_code == 200
        assert again.headers["x-sendfile"] == response.headers["x-sendfile"]
