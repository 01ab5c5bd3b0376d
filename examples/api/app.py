"""A typed JSON API over films and reviews, on Quart's extensions.

    GET  /films/?year_gt=1999&limit=20   films, filtered and paged (query string validated)
    GET  /films/<id>/                    one film (404 when there is none)
    POST /films/                         {"title": ..., "year": ...} -> 201 (bearer token, rate-limited)
    POST /reviews/                       {"film_id": 1, "rating": 4} -> 201 (bearer token, rate-limited)
    POST /token                          HTTP basic credentials -> {"token": ...}
    GET  /openapi.json, /docs            the OpenAPI description and its Swagger UI page

quart-schema validates bodies and query strings with pydantic models (400
with the validation detail as JSON) and writes the OpenAPI document;
quart-auth's bearer tokens guard the writes; quart-cors answers the origin
in ``API_CORS_ORIGIN``; quart-rate-limiter gives the POSTs 429 with
Retry-After. The extensions import ``quart``: ``quaver.as_quart`` (the first
import) makes that Quaver. The Swagger UI scripts are served by the app from
the ``swagger-ui-dist`` npm package (``npm install`` in this folder, which
``scripts/setup.sh`` runs), not from a CDN.

Run it with ``python app.py [--port N]`` (Hypercorn on http://127.0.0.1:5000).
"""

from __future__ import annotations

import quaver.as_quart  # noqa: F401  (first: the extensions below import quart)

# isort: split
import argparse
import asyncio
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field
from quart_auth import QuartAuth, basic_auth_required, login_required
from quart_cors import cors
from quart_rate_limiter import RateLimiter, rate_limit
from quart_schema import (
    QuartSchema,
    RequestSchemaValidationError,
    hide,
    validate_querystring,
    validate_request,
    validate_response,
)
from werkzeug.exceptions import HTTPException

from quaver import Quaver, abort, send_from_directory
from quaver.typing import ResponseReturnValue

HERE = Path(__file__).resolve().parent
SWAGGER_UI = HERE / "node_modules" / "swagger-ui-dist"


class FilmIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=1888, le=2100)


class Film(FilmIn):
    id: int


class Films(BaseModel):
    films: list[Film]


class FilmsQuery(BaseModel):
    year_gt: int | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class ReviewIn(BaseModel):
    film_id: int
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=2000)


class Review(ReviewIn):
    id: int


class Token(BaseModel):
    token: str


class Error(BaseModel):
    error: str


@dataclass
class Store:
    """Films and reviews in memory, numbered as they are added."""

    films: dict[int, Film] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def add_film(self, data: FilmIn) -> Film:
        async with self.lock:
            film = Film(id=len(self.films) + 1, **data.model_dump())
            self.films[film.id] = film
            return film

    async def add_review(self, data: ReviewIn) -> Review:
        async with self.lock:
            review = Review(id=len(self.reviews) + 1, **data.model_dump())
            self.reviews[review.id] = review
            return review


SEED = [("Metropolis", 1927), ("Casablanca", 1942), ("Seven Samurai", 1954), ("Playtime", 1967), ("Alien", 1979)]


def create_app() -> Quaver:
    app = Quaver(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("API_SECRET_KEY", "change me: signs the bearer tokens"),
        QUART_AUTH_MODE="bearer",
        QUART_AUTH_BASIC_USERNAME=os.environ.get("API_USERNAME", "editor"),
        QUART_AUTH_BASIC_PASSWORD=os.environ.get("API_PASSWORD", "editor"),
        QUART_SCHEMA_SWAGGER_JS_URL="/docs-assets/swagger-ui-bundle.js",
        QUART_SCHEMA_SWAGGER_CSS_URL="/docs-assets/swagger-ui.css",
    )
    store = Store()
    for title, year in SEED:
        film = Film(id=len(store.films) + 1, title=title, year=year)
        store.films[film.id] = film

    auth = QuartAuth(app)
    QuartSchema(
        app,
        info={"title": "Films API", "version": "1.0"},
        security_schemes={"token": {"type": "http", "scheme": "bearer"}},
    )
    RateLimiter(app)
    app = cors(app, allow_origin=os.environ.get("API_CORS_ORIGIN", "http://localhost:8000"))

    @app.get("/films/")
    @validate_querystring(FilmsQuery)
    @validate_response(Films)
    async def list_films(query_args: FilmsQuery) -> Films:
        films = [film for film in store.films.values() if query_args.year_gt is None or film.year > query_args.year_gt]
        return Films(films=films[: query_args.limit])

    @app.get("/films/<int:film_id>/")
    @validate_response(Film)
    async def get_film(film_id: int) -> Film:
        film = store.films.get(film_id)
        if film is None:
            abort(404, f"No film {film_id}")
        return film

    @app.post("/films/")
    @login_required
    @rate_limit(10, timedelta(minutes=1))
    @validate_request(FilmIn)
    @validate_response(Film, 201)
    async def create_film(data: FilmIn) -> tuple[Film, int]:
        return await store.add_film(data), 201

    @app.post("/reviews/")
    @login_required
    @rate_limit(10, timedelta(minutes=1))
    @validate_request(ReviewIn)
    @validate_response(Review, 201)
    async def create_review(data: ReviewIn) -> tuple[Review, int]:
        if data.film_id not in store.films:
            abort(404, f"No film {data.film_id}")
        return await store.add_review(data), 201

    @app.post("/token")
    @basic_auth_required()
    @validate_response(Token)
    async def token() -> Token:
        return Token(token=auth.dump_token(app.config["QUART_AUTH_BASIC_USERNAME"]))

    @app.get("/docs-assets/<path:name>")
    @hide
    async def docs_assets(name: str) -> ResponseReturnValue:
        return await send_from_directory(SWAGGER_UI, name)

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid(error: RequestSchemaValidationError) -> ResponseReturnValue:
        detail = error.validation_error
        errors = detail.errors(include_url=False) if hasattr(detail, "errors") else str(detail)
        return {"error": "invalid request", "detail": errors}, 400

    @app.errorhandler(HTTPException)
    async def error_as_json(error: HTTPException) -> ResponseReturnValue:
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return {"error": error.description}, error.code or 500, headers

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args()
    app.run(host=arguments.host, port=arguments.port)
