# The body shared by quart_style.py and quaver_style.py, which differ only in
# their imports: those modules exec this text in their own namespace, so every
# name below is the one the importing module brought in (from quart, or from
# quaver). A Quart app and the same app renamed for Quaver, line for line.
BODY = '''
from dataclasses import dataclass
from datetime import timedelta

import msgspec
from pydantic import BaseModel, Field
from quart_auth import (
    AuthUser, QuartAuth, basic_auth_required, current_user, login_required, login_user, logout_user,
)
from quart_cors import cors, route_cors, websocket_cors
from quart_rate_limiter import RateLimiter, rate_limit
from quart_rate_limiter.redis_store import RedisStore
from quart_schema import (
    QuartSchema, validate_headers, validate_querystring, validate_request, validate_response,
)


class Film(BaseModel):
    title: str = Field(min_length=1)
    year: int = Field(ge=1888)


class Review(msgspec.Struct):
    film: str
    rating: int


class Page(BaseModel):
    page: int = 1


@dataclass
class Client:
    x_client: str


def create_app(redis_url=None):
    app = AppClass(__name__)
    app.secret_key = "not a secret"
    app.config["QUART_AUTH_COOKIE_SECURE"] = True  # quart-auth's default, kept
    app.config["QUART_AUTH_BASIC_USERNAME"] = "ada"
    app.config["QUART_AUTH_BASIC_PASSWORD"] = "lovelace"
    QuartSchema(app)
    auth = QuartAuth(app)
    bearer = QuartAuth(
        app, mode="bearer", singleton=False, attribute_name="_bearer_user", cookie_name="BEARER", salt="bearer salt"
    )
    store = RedisStore(redis_url) if redis_url else None
    RateLimiter(app, store=store)
    app = cors(app, allow_origin="https://films.example")

    @app.post("/films")
    @validate_request(Film)
    @validate_response(Film, 201)
    async def create_film(data: Film):
        return Film(title=data.title.title(), year=data.year), 201

    @app.post("/reviews")
    @validate_request(Review)
    @validate_response(Review)
    async def create_review(data: Review):
        return Review(film=data.film, rating=min(data.rating, 5))

    @app.get("/films")
    @validate_querystring(Page)
    async def list_films(query_args: Page):
        return {"page": query_args.page}

    @app.get("/whoami")
    @validate_headers(Client)
    async def whoami(headers: Client):
        return {"client": headers.x_client}

    @app.get("/bad-response")
    @validate_response(Film)
    async def bad_response():
        return {"title": "", "year": 1}

    @app.post("/login")
    async def login():
        login_user(AuthUser("7"))
        return "in"

    @app.post("/logout")
    async def logout():
        logout_user()
        return "out"

    @app.get("/private")
    @login_required
    async def private():
        return {"user": current_user.auth_id}

    @app.get("/token")
    @basic_auth_required()
    async def token():
        return {"token": bearer.dump_token("9")}

    @app.get("/api")
    async def api():
        user = bearer.load_user()
        if not await user.is_authenticated:
            abort(401)
        return {"user": user.auth_id}

    @app.get("/open")
    @route_cors(allow_origin="*")
    async def open_to_all():
        return "open"

    @app.websocket("/ws")
    @websocket_cors(allow_origin="https://films.example")
    async def ws():
        await websocket.send(f"user {current_user.auth_id}")

    @app.post("/limited")
    @rate_limit(2, timedelta(seconds=30))
    async def limited():
        return "ok"

    return app
'''
