"""The films API for the benchmark, on Quaver or on Quart: the same code for both.

``BENCH_FRAMEWORK=quaver`` (the default) or ``quart`` picks the framework, whose
names are the only difference (``Quaver`` and ``Quart``); ``DATABASE_URL`` names
the PostgreSQL database, reached through an asyncpg pool opened in
``before_serving``. The queries and answers are those of examples/films.

    BENCH_FRAMEWORK=quart DATABASE_URL=postgresql://... uvicorn async_app:app
"""

from __future__ import annotations

import importlib
import os

import asyncpg

FRAMEWORK = os.environ.get("BENCH_FRAMEWORK", "quaver")
framework = importlib.import_module(FRAMEWORK)
App = framework.Quaver if FRAMEWORK == "quaver" else framework.Quart
Blueprint, abort, request = framework.Blueprint, framework.abort, framework.request

POOL_SIZE = 10
MAX_ID = 2**31 - 1
pool: asyncpg.Pool

films = Blueprint("films", __name__)
reviews = Blueprint("reviews", __name__)


@films.get("/")
async def list_films():
    year_gt = request.args.get("year.gt")
    if year_gt is None:
        rows = await pool.fetch("SELECT id, title, year FROM films ORDER BY id")
    else:
        try:
            year = max(-10_000, min(int(year_gt), 10_000))
        except ValueError:
            abort(400)
        rows = await pool.fetch("SELECT id, title, year FROM films WHERE year > $1 ORDER BY id", year)
    return [dict(row) for row in rows]


@films.get("/<int:film_id>/")
async def show_film(film_id):
    row = await pool.fetchrow("SELECT id, title, year FROM films WHERE id = $1", film_id) if film_id <= MAX_ID else None
    if row is None:
        abort(404)
    return dict(row)


@reviews.post("/")
async def add_review():
    data = await request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    film_id, rating = data.get("film_id"), data.get("rating")
    if type(film_id) is not int or type(rating) is not int or not 1 <= rating <= 5:
        abort(400)
    row = None
    if 0 < film_id <= MAX_ID:
        row = await pool.fetchrow(
            "INSERT INTO reviews (film_id, rating) SELECT id, $2 FROM films WHERE id = $1"
            " RETURNING id, film_id, rating",
            film_id,
            rating,
        )
    if row is None:
        abort(404)
    return dict(row), 201


app = App(__name__)
app.register_blueprint(films, url_prefix="/films")
app.register_blueprint(reviews, url_prefix="/reviews")


async def keep_session(connection):
    """Nothing to undo between requests (no SET, LISTEN or locks): skip asyncpg's reset query."""


@app.before_serving
async def open_pool():
    global pool
    pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE, reset=keep_session
    )


@app.after_serving
async def close_pool():
    await pool.close()
