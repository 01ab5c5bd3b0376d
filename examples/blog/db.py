"""The blog's SQLite database, used from async code.

Each call runs in a worker thread with a connection of its own, so the event
loop never waits on the disk and no connection crosses threads.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS post (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES user (id),
    created TEXT NOT NULL DEFAULT (datetime('now')),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


class Database:
    """``await db.all(sql, ...)``, ``await db.one(sql, ...)``, ``await db.run(sql, ...)``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _call(self, sql: str, args: tuple[Any, ...], fetch: str) -> Any:
        connection = sqlite3.connect(self.path)
        connection.row_factory = sqlite3.Row
        try:
            cursor = connection.execute(sql, args)
            if fetch == "all":
                return [dict(row) for row in cursor.fetchall()]
            if fetch == "one":
                row = cursor.fetchone()
                return dict(row) if row is not None else None
            connection.commit()
            return cursor.lastrowid
        finally:
            connection.close()

    async def all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Every row the query gives, as dicts."""
        return await asyncio.to_thread(self._call, sql, args, "all")

    async def one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """The first row the query gives, or None."""
        return await asyncio.to_thread(self._call, sql, args, "one")

    async def run(self, sql: str, *args: Any) -> int | None:
        """Run a statement and commit it; the id of an inserted row."""
        return await asyncio.to_thread(self._call, sql, args, "run")

    async def create_tables(self) -> None:
        def create() -> None:
            connection = sqlite3.connect(self.path)
            try:
                connection.executescript(SCHEMA)
            finally:
                connection.close()

        await asyncio.to_thread(create)
