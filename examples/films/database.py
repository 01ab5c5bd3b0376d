"""The films and their reviews, kept in SQLite or in PostgreSQL.

Both stores answer the same three questions for the views:

- ``await db.films(year_gt=None)``: every film (newer than ``year_gt``), by id;
- ``await db.film(film_id)``: one film, or None;
- ``await db.add_review(film_id, rating)``: the new review, or None when there
  is no such film.

Each is opened in ``before_serving`` (which creates the tables and the 1000
sample films on first use) and closed in ``after_serving``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from quaver import current_app

SAMPLE_FILMS = 1000
# Ids beyond PostgreSQL's integer column: no film has one, so no query is sent.
MAX_ID = 2**31 - 1
T = TypeVar("T")
NOT_OPEN = "the database is not open yet: before_serving opens it (in tests, use app.test_app())"

_ADJECTIVES = (
    "Silent", "Crimson", "Last", "Endless", "Hidden", "Northern", "Paper", "Iron", "Golden", "Broken",
    "Midnight", "Distant", "Electric", "Quiet", "Burning", "Glass", "Wandering", "Lonely", "Final", "Secret",
)
_NOUNS = (
    "Harbour", "Orchard", "Signal", "Frontier", "Lantern", "Witness", "Garden", "Express", "Horizon", "Letter",
    "Carnival", "Mirror", "Summer", "Engine", "Voyage", "Cathedral", "Island", "Stranger", "Meadow", "Tide",
)


def sample_films(count: int = SAMPLE_FILMS) -> list[tuple[int, str, int]]:
    """``count`` made-up films as (id, title, year); the same ones on every call."""
    rng = random.Random(7)
    films = []
    for film_id in range(1, count + 1):
        title = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        if rng.random() < 0.3:
            title += f" {rng.choice(('II', 'III', 'Returns', 'Reborn'))}"
        films.append((film_id, title, rng.randint(1925, 2024)))
    return films


class Database(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def films(self, year_gt: int | None = None) -> list[dict[str, Any]]: ...
    async def film(self, film_id: int) -> dict[str, Any] | None: ...
    async def add_review(self, film_id: int, rating: int) -> dict[str, Any] | None: ...


def get_database() -> Database:
    """The store of the app handling this request (see ``create_app``)."""
    database: Database = current_app.extensions["films"]
    return database


def open_database(url: str, default_path: str) -> Database:
    """A store for ``url``: ``postgresql://...`` (or ``postgres://``) for PostgreSQL,
    ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` for SQLite, and the
    SQLite file ``default_path`` when ``url`` is empty."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    if url.startswith("sqlite:///"):
        return SQLiteDatabase(url[len("sqlite:///") :])
    if url:
        raise ValueError(f"DATABASE_URL must start with postgresql:// or sqlite:///, not {url!r}")
    return SQLiteDatabase(default_path)


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS films (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    year INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    film_id INTEGER NOT NULL REFERENCES films (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5)
);
"""


class SQLiteDatabase:
    """The standard library's sqlite3, on one connection owned by one worker thread.

    Every query runs in that thread, so the event loop never waits on the disk
    and the writes never compete for the file's lock.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError(NOT_OPEN)
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="films-sqlite")
        await self._run(self._connect)

    def _connect(self) -> None:
        connection = sqlite3.connect(self.path)
        connection.row_factory = sqlite3.Row
        # Switching a new file to WAL needs it to itself; SQLite answers "locked"
        # at once, without waiting, when another server is switching it too.
        for attempt in range(100):
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 99:
                    raise
                time.sleep(0.05)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(SQLITE_SCHEMA)
        # IMMEDIATE takes the write lock before counting: when several servers
        # start on a new file at once, one adds the films and the others wait.
        connection.execute("BEGIN IMMEDIATE")
        with connection:
            if connection.execute("SELECT count(*) FROM films").fetchone()[0] == 0:
                connection.executemany("INSERT INTO films (id, title, year) VALUES (?, ?, ?)", sample_films())
        self._connection = connection

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._disconnect)
        self._executor.shutdown()
        self._executor = None

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        assert self._connection is not None
        return [dict(row) for row in self._connection.execute(sql, args)]

    def _insert_review(self, film_id: int, rating: int) -> dict[str, Any] | None:
        assert self._connection is not None
        with self._connection:
            row = self._connection.execute(
                "INSERT INTO reviews (film_id, rating) SELECT id, ? FROM films WHERE id = ?"
                " RETURNING id, film_id, rating",
                (rating, film_id),
            ).fetchone()
        return dict(row) if row is not None else None

    async def films(self, year_gt: int | None = None) -> list[dict[str, Any]]:
        if year_gt is None:
            return await self._run(self._all, "SELECT id, title, year FROM films ORDER BY id", ())
        return await self._run(self._all, "SELECT id, title, year FROM films WHERE year > ? ORDER BY id", (year_gt,))

    async def film(self, film_id: int) -> dict[str, Any] | None:
        if not 0 < film_id <= MAX_ID:
            return None
        rows = await self._run(self._all, "SELECT id, title, year FROM films WHERE id = ?", (film_id,))
        return rows[0] if rows else None

    async def add_review(self, film_id: int, rating: int) -> dict[str, Any] | None:
        if not 0 < film_id <= MAX_ID:
            return None
        return await self._run(self._insert_review, film_id, rating)


POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS films (
    id integer PRIMARY KEY,
    title text NOT NULL,
    year integer NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    film_id integer NOT NULL REFERENCES films (id),
    rating integer NOT NULL CHECK (rating BETWEEN 1 AND 5)
);
"""


async def _keep_session(connection: Any) -> None:
    """Run when a connection goes back to the pool, instead of asyncpg's reset query.

    These queries change nothing in the session (no SET, LISTEN or session locks)
    and asyncpg still rolls back a transaction left open, so there is nothing to
    undo: skipping the reset saves a round trip to the server on every request.
    """


class PostgresDatabase:
    """PostgreSQL through an asyncpg connection pool."""

    def __init__(self, url: str, min_size: int = 2, max_size: int = 10) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self._pool: Any = None
        self._turns: asyncio.Semaphore

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError(NOT_OPEN)
        return self._pool

    async def open(self) -> None:
        import asyncpg  # only needed for PostgreSQL: the `films` extra installs it

        self._turns = asyncio.Semaphore(self.max_size)  # made here, in the serving loop
        self._pool = await asyncpg.create_pool(
            self.url, min_size=self.min_size, max_size=self.max_size, reset=_keep_session
        )
        try:
            async with self.pool.acquire() as connection, connection.transaction():
                # Several servers may start on one database at once: one creates, the others wait.
                await connection.execute("SELECT pg_advisory_xact_lock(7007)")
                await connection.execute(POSTGRES_SCHEMA)
                if await connection.fetchval("SELECT count(*) FROM films") == 0:
                    films = sample_films()
                    await connection.copy_records_to_table("films", records=films, columns=["id", "title", "year"])
        except BaseException:
            await self.close()  # after_serving does not run when start-up fails
            raise

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def films(self, year_gt: int | None = None) -> list[dict[str, Any]]:
        if year_gt is None:
            rows = await self._query("fetch", "SELECT id, title, year FROM films ORDER BY id")
        else:
            rows = await self._query("fetch", "SELECT id, title, year FROM films WHERE year > $1 ORDER BY id", year_gt)
        return [dict(row) for row in rows]

    async def film(self, film_id: int) -> dict[str, Any] | None:
        if not 0 < film_id <= MAX_ID:
            return None
        row = await self._query("fetchrow", "SELECT id, title, year FROM films WHERE id = $1", film_id)
        return dict(row) if row is not None else None

    async def add_review(self, film_id: int, rating: int) -> dict[str, Any] | None:
        if not 0 < film_id <= MAX_ID:
            return None
        row = await self._query(
            "fetchrow",
            "INSERT INTO reviews (film_id, rating) SELECT id, $2 FROM films WHERE id = $1"
            " RETURNING id, film_id, rating",
            film_id,
            rating,
        )
        return dict(row) if row is not None else None

    async def _query(self, fetch: str, sql: str, *args: Any) -> Any:
        """``pool.fetch`` or ``pool.fetchrow``, taking turns in order of arrival.

        When every connection is busy, asyncpg's pool lets a newcomer take the
        connection just released before the requests already waiting, so under
        load a few unlucky requests wait for seconds. The semaphore (one place
        per connection) serves them first come, first served.
        """
        pool = self.pool
        async with self._turns:
            return await getattr(pool, fetch)(sql, *args)
