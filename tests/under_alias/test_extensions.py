"""Quart's extensions on Quaver, as their documentation uses them, in the two
set-ups a user has: an app written for Quart, unchanged (``from quart import``),
and the same app renamed for Quaver (``from quaver import``). Both need the
alias, since the extensions import ``quart``: this file runs under
``pytest -p quaver.as_quart`` (tests/test_under_alias.py).

quart-schema (pydantic and msgspec models; body, response, query string and
header validation; OpenAPI and its three pages), quart-auth (cookie, bearer,
basic), quart-cors (HTTP and websockets), quart-rate-limiter (memory store and
Redis store, on the server of ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

import quart_style  # noqa: E402
import quaver_style  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[quart_style, quaver_style], ids=["quart-app", "renamed-app"])
def flavour(request: pytest.FixtureRequest) -> ModuleType:
    module: ModuleType = request.param
    return module


@pytest.fixture
def app(flavour: ModuleType) -> Any:
    return flavour.create_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def test_the_quart_names_are_quavers(flavour: ModuleType) -> None:
    import quart

    import quaver

    assert quart is quaver
    assert flavour.AppClass is quaver.Quaver


# -- quart-schema ---------------------------------------------------------
async def test_pydantic_body_is_validated_and_the_response_model_serialised(client: Any) -> None:
    good = await client.post("/films", json={"title": "metropolis", "year": 1927})
    assert good.status_code == 201
    assert await good.get_json() == {"title": "Metropolis", "year": 1927}
    bad = await client.post("/films", json={"title": "", "year": 1700})
    assert bad.status_code == 400
    missing = await client.post("/films", json={"title": "Alien"})
    assert missing.status_code == 400


async def test_msgspec_body_and_response(client: Any) -> None:
    good = await client.post("/reviews", json={"film": "Alien", "rating": 9})
    assert good.status_code == 200
    assert await good.get_json() == {"film": "Alien", "rating": 5}
    bad = await client.post("/reviews", json={"film": "Alien", "rating": "nine"})
    assert bad.status_code == 400


async def test_query_string_and_headers_are_validated(client: Any) -> None:
    assert await (await client.get("/films", query_string={"page": "3"})).get_json() == {"page": 3}
    assert (await client.get("/films", query_string={"page": "third"})).status_code == 400
    assert await (await client.get("/whoami", headers={"X-Client": "cli"})).get_json() == {"client": "cli"}
    assert (await client.get("/whoami")).status_code == 400


async def test_a_response_that_breaks_its_model_is_a_server_error(client: Any) -> None:
    response = await client.get("/bad-response")
    assert response.status_code == 500


async def test_the_test_client_sends_models_as_json(client: Any, flavour: ModuleType) -> None:
    # quart-schema's client mixin (over app.test_client_class) dumps models.
    response = await client.post("/films", json=flavour.Film(title="brazil", year=1985))
    assert await response.get_json() == {"title": "Brazil", "year": 1985}


async def test_openapi_document_and_its_pages(client: Any) -> None:
    document = await (await client.get("/openapi.json")).get_json()
    assert {"/films", "/reviews", "/whoami", "/private"} <= set(document["paths"])
    film_body = document["paths"]["/films"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert film_body["title"] == "Film"
    assert film_body["required"] == ["title", "year"]
    assert film_body["properties"]["year"] == {"minimum": 1888, "title": "Year", "type": "integer"}
    page = document["paths"]["/films"]["get"]["parameters"]
    assert [(parameter["name"], parameter["in"]) for parameter in page] == [("page", "query")]
    for path, marker in (("/docs", "SwaggerUIBundle"), ("/redocs", "redoc"), ("/scalar", "api-reference")):
        page = await client.get(path)
        assert page.status_code == 200
        assert marker in await page.get_data(as_text=True)


# -- quart-auth -----------------------------------------------------------
async def test_cookie_login_and_logout(client: Any) -> None:
    assert (await client.get("/private")).status_code == 401
    await client.post("/login")
    assert await (await client.get("/private")).get_json() == {"user": "7"}
    await client.post("/logout")
    assert (await client.get("/private")).status_code == 401


async def test_authenticated_client_for_tests(app: Any, client: Any) -> None:
    from quart_auth import authenticated_client

    async with authenticated_client(client, "42"):
        assert await (await client.get("/private")).get_json() == {"user": "42"}
    assert (await client.get("/private")).status_code == 401


async def test_basic_auth_then_bearer_token(client: Any) -> None:
    assert (await client.get("/token")).status_code == 401
    wrong = "Basic " + base64.b64encode(b"ada:babbage").decode()
    assert (await client.get("/token", headers={"Authorization": wrong})).status_code == 401
    right = "Basic " + base64.b64encode(b"ada:lovelace").decode()
    token = (await (await client.get("/token", headers={"Authorization": right})).get_json())["token"]
    assert await (await client.get("/api", headers={"Authorization": f"Bearer {token}"})).get_json() == {"user": "9"}
    assert (await client.get("/api", headers={"Authorization": "Bearer nonsense"})).status_code == 401


async def test_the_logged_in_user_reaches_a_websocket(client: Any) -> None:
    await client.post("/login")
    async with client.websocket("/ws", headers={"Origin": "https://films.example"}) as ws:
        assert await ws.receive() == "user 7"


# -- quart-cors -----------------------------------------------------------
async def test_cors_simple_and_preflight(client: Any) -> None:
    simple = await client.get("/films", headers={"Origin": "https://films.example"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://films.example"
    assert "Origin" in simple.headers["Vary"]
    stranger = await client.get("/films", headers={"Origin": "https://else.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    preflight = await client.options(
        "/films", headers={"Origin": "https://films.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://films.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    route = await client.get("/open", headers={"Origin": "https://else.example"})
    assert route.headers["Access-Control-Allow-Origin"] == "*"


async def test_cors_on_websockets(client: Any) -> None:
    from quaver.testing import WebsocketResponseError

    async with client.websocket("/ws", headers={"Origin": "https://films.example"}) as ws:
        assert (await ws.receive()).startswith("user ")
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket("/ws", headers={"Origin": "https://else.example"}) as ws:
            await ws.receive()
    assert refused.value.response.status_code == 400


# -- quart-rate-limiter ---------------------------------------------------
async def limited_statuses(app: Any) -> list[int]:
    async with app.test_app() as test_app:
        client = test_app.test_client()
        statuses = [(await client.post("/limited")).status_code for _ in range(3)]
        refused = await client.post("/limited")
        assert int(refused.headers["Retry-After"]) > 0
        return [*statuses, refused.status_code]


async def test_rate_limit_on_the_memory_store(app: Any) -> None:
    assert await limited_statuses(app) == [200, 200, 429, 429]


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A database of the test Redis server (scripts/redis.sh), emptied after the test."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        script = subprocess.run(
            ["bash", str(ROOT / "scripts" / "redis.sh")], capture_output=True, text=True, timeout=600
        )
        if script.returncode != 0:
            pytest.fail(f"no Redis server: scripts/redis.sh exited {script.returncode}\n{script.stderr}")
        url = script.stdout.strip().splitlines()[-1]
    database = 1 + uuid.uuid4().int % 14  # away from database 0, which the extension suites flush
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    yield f"{base}/{database}"
    from redis import asyncio as aioredis

    connection = aioredis.from_url(f"{base}/{database}")
    await connection.flushdb()
    await connection.aclose()


async def test_rate_limit_on_the_redis_store(flavour: ModuleType, redis_url: str) -> None:
    app = flavour.create_app(redis_url=redis_url)
    assert await limited_statuses(app) == [200, 200, 429, 429]
    # The count lives in Redis: a second app (another worker) sees it.
    other = flavour.create_app(redis_url=redis_url)
    async with other.test_app() as test_app:
        assert (await test_app.test_client().post("/limited")).status_code == 429
