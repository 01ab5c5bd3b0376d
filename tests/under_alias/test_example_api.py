"""examples/api: films and reviews on quart-schema, quart-auth, quart-cors and
quart-rate-limiter, through the test client, then its Swagger UI page in
headless Chromium against the example served by its own ``app.run()``.

Runs under ``pytest -p quaver.as_quart`` (tests/test_under_alias.py starts it):
the extensions import ``quart``.
"""

from __future__ import annotations

import base64
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

API = Path(__file__).resolve().parents[2] / "examples" / "api"
CHROMIUM = "/usr/bin/chromium"
BASIC = "Basic " + base64.b64encode(b"editor:editor").decode()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the example's module (its app, its store, its limits)."""
    spec = importlib.util.spec_from_file_location("api_example", API / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "api_example", module)
    spec.loader.exec_module(module)
    return module


async def token_headers(client: Any) -> dict[str, str]:
    response = await client.post("/token", headers={"Authorization": BASIC})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {(await response.get_json())['token']}"}


async def test_films_are_listed_and_filtered_by_a_validated_query(api: ModuleType) -> None:
    client = api.app.test_client()
    response = await client.get("/films/", query_string={"year_gt": 1950, "limit": 2})
    assert response.status_code == 200
    assert await response.get_json() == {
        "films": [{"id": 3, "title": "Seven Samurai", "year": 1954}, {"id": 4, "title": "Playtime", "year": 1967}]
    }
    one = await client.get("/films/1/")
    assert await one.get_json() == {"id": 1, "title": "Metropolis", "year": 1927}
    missing = await client.get("/films/99/")
    assert missing.status_code == 404
    assert await missing.get_json() == {"error": "No film 99"}


async def test_a_bad_query_string_gets_400_with_the_validation_detail(api: ModuleType) -> None:
    response = await api.app.test_client().get("/films/?limit=lots")
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "invalid request"
    assert body["detail"][0]["loc"] == ["limit"]
    assert body["detail"][0]["type"] == "int_parsing"


async def test_writes_need_a_token_from_basic_credentials(api: ModuleType) -> None:
    client = api.app.test_client()
    refused = await client.post("/films/", json={"title": "Playtime", "year": 1967})
    assert refused.status_code == 401
    wrong = await client.post("/token", headers={"Authorization": "Basic " + base64.b64encode(b"editor:no").decode()})
    assert wrong.status_code == 401
    headers = await token_headers(client)
    created = await client.post("/films/", json={"title": "Stalker", "year": 1979}, headers=headers)
    assert created.status_code == 201
    assert await created.get_json() == {"id": 6, "title": "Stalker", "year": 1979}
    assert (await client.get("/films/6/")).status_code == 200
    forged = await client.post("/films/", json={"title": "X", "year": 2000}, headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401


async def test_an_invalid_body_gets_400_with_each_failing_field(api: ModuleType) -> None:
    client = api.app.test_client()
    headers = await token_headers(client)
    response = await client.post("/films/", json={"title": "", "year": 1700}, headers=headers)
    assert response.status_code == 400
    detail = (await response.get_json())["detail"]
    assert sorted(error["loc"][0] for error in detail) == ["title", "year"]
    review = await client.post("/reviews/", json={"film_id": 1, "rating": 9}, headers=headers)
    assert review.status_code == 400
    assert (await review.get_json())["detail"][0]["loc"] == ["rating"]
    # A body that is not JSON: 415, as get_json answers in Flask (Quart would give
    # quart-schema None, and so a 400): a difference Quaver keeps, in the README.
    not_json = await client.post("/reviews/", data="rating=4", headers=headers)
    assert not_json.status_code == 415
    good = await client.post("/reviews/", json={"film_id": 2, "rating": 5, "text": "Yes."}, headers=headers)
    assert good.status_code == 201
    assert await good.get_json() == {"id": 1, "film_id": 2, "rating": 5, "text": "Yes."}
    unknown_film = await client.post("/reviews/", json={"film_id": 99, "rating": 3}, headers=headers)
    assert unknown_film.status_code == 404


async def test_posts_past_the_rate_limit_get_429_with_retry_after(api: ModuleType) -> None:
    client = api.app.test_client()
    headers = await token_headers(client)
    statuses = []
    for number in range(11):
        response = await client.post("/films/", json={"title": f"Film {number}", "year": 2001}, headers=headers)
        statuses.append(response.status_code)
    assert statuses == [201] * 10 + [429]
    assert int(response.headers["Retry-After"]) > 0
    assert (await response.get_json())["error"].startswith("This user has exceeded")
    assert (await client.get("/films/")).status_code == 200  # reads are not limited


async def test_cors_answers_the_configured_origin_only(api: ModuleType) -> None:
    client = api.app.test_client()
    preflight = await client.options(
        "/films/", headers={"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    simple = await client.get("/films/", headers={"Origin": "http://localhost:8000"})
    assert simple.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    other = await client.get("/films/", headers={"Origin": "http://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_openapi_describes_every_route(api: ModuleType) -> None:
    response = await api.app.test_client().get("/openapi.json")
    document = await response.get_json()
    assert document["info"] == {"title": "Films API", "version": "1.0"}
    assert set(document["paths"]) == {"/films/", "/films/{film_id}/", "/reviews/", "/token"}
    assert set(document["paths"]["/films/"]) == {"get", "post"}
    post = document["paths"]["/films/"]["post"]
    assert "201" in post["responses"]
    parameters = {parameter["name"] for parameter in document["paths"]["/films/"]["get"]["parameters"]}
    assert parameters == {"year_gt", "limit"}
    assert document["components"]["securitySchemes"] == {"token": {"type": "http", "scheme": "bearer"}}


async def test_docs_page_uses_the_apps_own_copy_of_swagger_ui(api: ModuleType) -> None:
    client = api.app.test_client()
    page = await (await client.get("/docs")).get_data(as_text=True)
    assert '<script src="/docs-assets/swagger-ui-bundle.js"></script>' in page
    assert "https://" not in page
    script = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200, "swagger-ui-dist is missing: run scripts/setup.sh (npm install in examples/api)"
    assert b"SwaggerUIBundle" in await script.get_data()


@pytest.fixture
def api_server() -> Iterator[str]:
    """The example run as a user runs it, on a free port; always stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(API / "app.py"), "--port", str(port)],
        cwd=API,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the example did not start:\n{output}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


async def test_swagger_ui_in_chromium_shows_the_operations(api_server: str) -> None:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run scripts/setup.sh (apt-get install chromium)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        try:
            page = await browser.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await page.goto(f"{api_server}/docs")
            await page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            paths = await page.locator(".opblock-summary-path").all_inner_texts()
            methods = await page.locator(".opblock-summary-method").all_inner_texts()
            title = await page.locator(".info .title").inner_text()
        finally:
            await browser.close()
    operations = sorted(zip(methods, (path.replace("\u200b", "") for path in paths), strict=True))
    assert operations == [
        ("GET", "/films/"),
        ("GET", "/films/{film_id}/"),
        ("POST", "/films/"),
        ("POST", "/reviews/"),
        ("POST", "/token"),
    ]
    assert title.startswith("Films API")
    assert all(url.startswith(api_server) for url in requested), requested
