"""examples/films: the films and reviews JSON API, on SQLite and on PostgreSQL.

Every test runs twice, once per database. The PostgreSQL server is the one
``scripts/postgres.sh`` sets up (``scripts/test.sh`` runs it and passes the URL
in ``TEST_POSTGRES_URL``; without that variable the fixture runs the script
itself). Each test gets a schema of its own, dropped afterwards. No server
means the PostgreSQL tests fail: they are never skipped.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
FILMS = ROOT / "examples" / "films"
EXAMPLE_MODULES = ("database", "films", "reviews")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a running PostgreSQL server with a database we may use."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    script = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")], capture_output=True, text=True, timeout=900
    )
    if script.returncode != 0 or not script.stdout.strip():
        pytest.fail(f"no PostgreSQL server: scripts/postgres.sh exited {script.returncode}\n{script.stderr}")
    return script.stdout.strip().splitlines()[-1]


def with_settings(url: str, **settings: str) -> str:
    """``url`` with server settings added as query parameters (asyncpg passes them on)."""
    query = "&".join(f"{name}={value}" for name, value in settings.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


class Store:
    """Where one test's films live, and a way to look at them directly."""

    def __init__(self, kind: str, url: str, admin_url: str | None = None, name: str = "") -> None:
        self.kind = kind
        self.url = url
        self.admin_url = admin_url
        self.name = name

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                return [tuple(row) for row in connection.execute(sql)]
        connection = await asyncpg.connect(self.admin_url, server_settings={"search_path": self.name})
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    async def reviews(self) -> list[tuple[int, int]]:
        rows = await self.rows("SELECT film_id, rating FROM reviews ORDER BY id")
        return [(film_id, rating) for film_id, rating in rows]

    async def connections(self) -> int:
        """PostgreSQL connections this test's app holds open."""
        connection = await asyncpg.connect(self.admin_url)
        try:
            return await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", self.name
            )
        finally:
            await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        yield Store("sqlite", f"sqlite:///{tmp_path / 'films.sqlite'}")
        return
    admin_url = request.getfixturevalue("postgres_url")
    schema = f"films_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
    finally:
        await connection.close()
    url = with_settings(admin_url, search_path=schema, application_name=schema)
    try:
        yield Store("postgresql", url, admin_url, schema)
    finally:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await connection.close()


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh import of examples/films/app.py (and its modules), with no DATABASE_URL set."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.syspath_prepend(str(FILMS))
    for name in EXAMPLE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    spec = importlib.util.spec_from_file_location("films_example", FILMS / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "films_example", module)
    spec.loader.exec_module(module)
    yield module
    for name in EXAMPLE_MODULES:  # the example's modules must not leak into other tests
        sys.modules.pop(name, None)


@pytest.fixture
async def app(example: Any, store: Store) -> AsyncIterator[Any]:
    app = example.create_app(store.url)
    app.config["TESTING"] = True
    async with app.test_app():
        yield app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


async def get_json(client: Any, path: str) -> tuple[int, Any]:
    response = await client.get(path)
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, await response.get_json()


async def test_first_run_creates_1000_sample_films(client: Any) -> None:
    status, films = await get_json(client, "/films/")
    assert status == 200
    assert [film["id"] for film in films] == list(range(1, 1001))
    for film in films:
        assert set(film) == {"id", "title", "year"}
        assert isinstance(film["title"], str) and film["title"]
        assert isinstance(film["year"], int)
    assert len({film["title"] for film in films}) > 100
    assert len({film["year"] for film in films}) > 50


@pytest.mark.parametrize("year", [1950, 2000, 2020])
async def test_year_filter_keeps_only_films_made_after_it(client: Any, year: int) -> None:
    _, every_film = await get_json(client, "/films/")
    status, later = await get_json(client, f"/films/?year.gt={year}")
    assert status == 200
    assert later == [film for film in every_film if film["year"] > year]
    assert 0 < len(later) < len(every_film)


async def test_year_filter_beyond_any_film(client: Any) -> None:
    assert await get_json(client, "/films/?year.gt=99999999999999999999") == (200, [])
    status, films = await get_json(client, "/films/?year.gt=-99999999999999999999")
    assert status == 200 and len(films) == 1000


@pytest.mark.parametrize("value", ["", "recent", "1999.5", "2e3", "0x7d0"])
async def test_year_filter_that_is_not_a_year_gets_400(client: Any, value: str) -> None:
    status, body = await get_json(client, f"/films/?year.gt={value}")
    assert status == 400
    assert "year.gt" in body["error"]


async def test_one_film_is_the_one_in_the_list(client: Any) -> None:
    _, every_film = await get_json(client, "/films/")
    for film_id in (1, 17, 1000):
        assert await get_json(client, f"/films/{film_id}/") == (200, every_film[film_id - 1])


@pytest.mark.parametrize("film_id", ["0", "1001", "99999999999999999999999"])
async def test_absent_film_gets_404(client: Any, film_id: str) -> None:
    status, body = await get_json(client, f"/films/{film_id}/")
    assert status == 404
    assert body == {"error": f"There is no film {film_id}."}


async def test_new_reviews_get_201_and_are_stored(client: Any, store: Store) -> None:
    first = await client.post("/reviews/", json={"film_id": 12, "rating": 4})
    second = await client.post("/reviews/", json={"film_id": 1000, "rating": 1})
    assert (first.status_code, second.status_code) == (201, 201)
    one, two = await first.get_json(), await second.get_json()
    assert {key: one[key] for key in ("film_id", "rating")} == {"film_id": 12, "rating": 4}
    assert {key: two[key] for key in ("film_id", "rating")} == {"film_id": 1000, "rating": 1}
    assert isinstance(one["id"], int) and two["id"] > one["id"]
    assert await store.reviews() == [(12, 4), (1000, 1)]


@pytest.mark.parametrize("film_id", [0, 1001, 2**31, 10**30])
async def test_review_of_an_unknown_film_gets_404(client: Any, store: Store, film_id: int) -> None:
    response = await client.post("/reviews/", json={"film_id": film_id, "rating": 3})
    assert response.status_code == 404
    assert await response.get_json() == {"error": f"There is no film {film_id}."}
    assert await store.reviews() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"film_id": 5},
        {"rating": 5},
        {"film_id": 5, "rating": 0},
        {"film_id": 5, "rating": 6},
        {"film_id": 5, "rating": 3.5},
        {"film_id": 5, "rating": "4"},
        {"film_id": 5, "rating": True},
        {"film_id": "5", "rating": 4},
        {"film_id": None, "rating": 4},
        {"film_id": 5.0, "rating": 4},
        [5, 4],
        "film 5, rating 4",
    ],
)
async def test_review_that_is_not_a_film_and_rating_gets_400(client: Any, store: Store, body: Any) -> None:
    response = await client.post("/reviews/", json=body)
    assert response.status_code == 400
    assert "error" in await response.get_json()
    assert await store.reviews() == []


@pytest.mark.parametrize(
    "data, content_type",
    [
        ('{"film_id": 5, "rating": 4', "application/json"),  # cut short
        ("film_id=5&rating=4", "application/x-www-form-urlencoded"),
        ('{"film_id": 5, "rating": 4}', "text/plain"),
        ("", "application/json"),
    ],
)
async def test_review_body_that_is_not_json_gets_400(client: Any, store: Store, data: str, content_type: str) -> None:
    response = await client.post("/reviews/", data=data, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert "JSON" in (await response.get_json())["error"]
    assert await store.reviews() == []


async def test_wrong_method_gets_405_in_json_with_allow(client: Any) -> None:
    response = await client.delete("/films/")
    assert response.status_code == 405
    assert {"GET"} <= {method.strip() for method in response.headers["Allow"].split(",")}
    assert "error" in await response.get_json()
    response = await client.get("/reviews/")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


async def test_unknown_path_gets_404_in_json(client: Any) -> None:
    status, body = await get_json(client, "/directors/")
    assert status == 404 and "error" in body


async def test_films_are_created_once_and_reviews_kept_across_restarts(example: Any, store: Store) -> None:
    first = example.create_app(store.url)
    async with first.test_app():
        response = await first.test_client().post("/reviews/", json={"film_id": 3, "rating": 5})
        assert response.status_code == 201
    second = example.create_app(store.url)
    async with second.test_app():
        _, films = await get_json(second.test_client(), "/films/")
        assert len(films) == 1000
    assert await store.reviews() == [(3, 5)]
    assert await store.rows("SELECT count(*) FROM films") == [(1000,)]


async def test_servers_starting_together_on_a_new_database_add_the_films_once(example: Any, store: Store) -> None:
    servers = [example.create_app(store.url).test_app() for _ in range(4)]
    await asyncio.gather(*(server.startup() for server in servers))
    try:
        for server in servers:
            _, films = await get_json(server.test_client(), "/films/")
            assert len(films) == 1000
    finally:
        await asyncio.gather(*(server.shutdown() for server in servers))
    assert await store.rows("SELECT count(*) FROM films") == [(1000,)]


async def test_database_url_comes_from_the_environment(
    example: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", store.url)
    app = example.create_app()
    async with app.test_app():
        response = await app.test_client().post("/reviews/", json={"film_id": 8, "rating": 2})
        assert response.status_code == 201
    assert await store.reviews() == [(8, 2)]


def test_without_database_url_the_films_live_in_sqlite_next_to_the_app(example: Any) -> None:
    database = example.app.extensions["films"]
    assert type(database).__name__ == "SQLiteDatabase"
    assert Path(database.path) == FILMS / "films.sqlite"


@pytest.mark.parametrize("url", ["mysql://localhost/films", "films.sqlite", "sqlite://films.sqlite"])
def test_a_database_url_of_another_kind_is_refused(example: Any, url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        example.create_app(url)


async def test_requests_before_start_up_say_the_database_is_not_open(example: Any, store: Store) -> None:
    app = example.create_app(store.url)  # before_serving has not run
    response = await app.test_client().get("/films/1/")
    assert response.status_code == 500
    app.config["TESTING"] = True  # now the error reaches the caller
    with pytest.raises(RuntimeError, match="before_serving opens it"):
        await app.test_client().get("/films/1/")


async def test_over_a_real_server_with_concurrent_clients(example: Any, store: Store, free_port: int) -> None:
    app = example.create_app(store.url)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port, lifespan="on", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        if store.kind == "postgresql":
            assert await store.connections() >= 1  # the pool opened in before_serving
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port}", timeout=10) as http:
            films = (await http.get("/films/")).json()
            assert len(films) == 1000
            later = await http.get("/films/", params={"year.gt": "1990"})
            assert later.json() == [film for film in films if film["year"] > 1990]
            one = await http.get("/films/42/")
            assert (one.status_code, one.json()) == (200, films[41])
            assert (await http.get("/films/4242/")).status_code == 404

            posts = await asyncio.gather(
                *(http.post("/reviews/", json={"film_id": n, "rating": n % 5 + 1}) for n in range(1, 41)),
                *(http.get(f"/films/{n}/") for n in range(1, 41)),
            )
            assert [response.status_code for response in posts] == [201] * 40 + [200] * 40
            assert len({response.json()["id"] for response in posts[:40]}) == 40
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)
    assert sorted(await store.reviews()) == [(n, n % 5 + 1) for n in range(1, 41)]
    if store.kind == "postgresql":
        assert await store.connections() == 0  # and closed in after_serving
