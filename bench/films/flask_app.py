"""The films API for the benchmark on Flask: psycopg, one connection per worker.

A sync worker serves one request at a time, so one connection, opened on the
first request and kept, is all it needs. The queries and answers are those of
examples/films.

    DATABASE_URL=postgresql://... gunicorn --workers 1 flask_app:app
"""

from __future__ import annotations

import os

import psycopg
from flask import Blueprint, Flask, abort, request
from psycopg.rows import dict_row

MAX_ID = 2**31 - 1
_connection: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row)
    return _connection


films = Blueprint("films", __name__)
reviews = Blueprint("reviews", __name__)


@films.get("/")
def list_films():
    year_gt = request.args.get("year.gt")
    if year_gt is None:
        return connection().execute("SELECT id, title, year FROM films ORDER BY id").fetchall()
    try:
        year = max(-10_000, min(int(year_gt), 10_000))
    except ValueError:
        abort(400)
    return connection().execute("SELECT id, title, year FROM films WHERE year > %s ORDER BY id", (year,)).fetchall()


@films.get("/<int:film_id>/")
def show_film(film_id):
    row = None
    if film_id <= MAX_ID:
        row = connection().execute("SELECT id, title, year FROM films WHERE id = %s", (film_id,)).fetchone()
    if row is None:
        abort(404)
    return row


@reviews.post("/")
def add_review():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    film_id, rating = data.get("film_id"), data.get("rating")
    if type(film_id) is not int or type(rating) is not int or not 1 <= rating <= 5:
        abort(400)
    row = None
    if 0 < film_id <= MAX_ID:
        row = connection().execute(
            "INSERT INTO reviews (film_id, rating) SELECT id, %s FROM films WHERE id = %s"
            " RETURNING id, film_id, rating",
            (rating, film_id),
        ).fetchone()
    if row is None:
        abort(404)
    return row, 201


app = Flask(__name__)
app.register_blueprint(films, url_prefix="/films")
app.register_blueprint(reviews, url_prefix="/reviews")
