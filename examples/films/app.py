"""A JSON API over 1000 films and their reviews, in two blueprints.

    GET  /films/                 every film; ?year.gt=1999 for those made after 1999
    GET  /films/<id>/            one film (404 when there is none)
    POST /reviews/               {"film_id": 12, "rating": 4} -> 201 and the review

Run it with ``python app.py`` (Hypercorn on http://127.0.0.1:5000) or
``uvicorn app:app``. The films are kept in ``films.sqlite`` next to this file,
created with 1000 sample films on first run, unless ``DATABASE_URL`` names a
PostgreSQL database (``postgresql://user:password@host/name``, through an
asyncpg pool) or another SQLite file (``sqlite:///path``).
"""

from __future__ import annotations

import os

import films
import reviews
from database import open_database
from werkzeug.exceptions import HTTPException

from quaver import Quaver
from quaver.typing import ResponseReturnValue

HERE = os.path.dirname(os.path.abspath(__file__))


def create_app(database_url: str | None = None) -> Quaver:
    """The films API on ``database_url`` (by default ``$DATABASE_URL``, else SQLite)."""
    app = Quaver(__name__)
    if database_url is None:
        database_url = os.environ.get("DATABASE_URL", "")
    database = open_database(database_url, default_path=os.path.join(HERE, "films.sqlite"))
    app.extensions["films"] = database

    @app.before_serving
    async def open_store() -> None:
        await database.open()

    @app.after_serving
    async def close_store() -> None:
        await database.close()

    app.register_blueprint(films.blueprint, url_prefix="/films")
    app.register_blueprint(reviews.blueprint, url_prefix="/reviews")

    @app.errorhandler(HTTPException)
    async def error_as_json(error: HTTPException) -> ResponseReturnValue:
        # Keep the error's own headers (Allow on a 405), but answer in JSON.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return {"error": error.description}, error.code or 500, headers

    return app


app = create_app()

if __name__ == "__main__":
    app.run()
