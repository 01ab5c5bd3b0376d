"""MAX_COOKIE_SIZE: set_cookie (and the session cookie) warn above the
current app's configured size, as in Flask; the cookie is still set."""

from __future__ import annotations

import secrets
import warnings

import pytest

from quaver import Quaver, Response, make_response, session


def cookie_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "cookie is too large" in str(w.message)]


@pytest.fixture
def cookie_app(app: Quaver) -> Quaver:
    @app.get("/cookie/<int:size>")
    async def set_big_cookie(size: int):
        response = await make_response("ok")
        response.set_cookie("big", "x" * size)
        return response

    return app


async def get_recording_warnings(app: Quaver, path: str) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await app.test_client().get(path)
    return response, cookie_warnings(caught)


async def test_default_limit_is_4093_bytes(cookie_app: Quaver) -> None:
    response, warned = await get_recording_warnings(cookie_app, "/cookie/5000")
    assert len(warned) == 1
    assert "4093" in warned[0]
    assert response.headers["Set-Cookie"].startswith("big=" + "x" * 5000)  # still set
    _, warned = await get_recording_warnings(cookie_app, "/cookie/3000")
    assert warned == []


async def test_a_larger_configured_size_stops_the_warning(cookie_app: Quaver) -> None:
    cookie_app.config["MAX_COOKIE_SIZE"] = 10_000
    response, warned = await get_recording_warnings(cookie_app, "/cookie/5000")
    assert warned == []
    assert response.headers["Set-Cookie"].startswith("big=" + "x" * 5000)


async def test_a_smaller_configured_size_warns_sooner(cookie_app: Quaver) -> None:
    cookie_app.config["MAX_COOKIE_SIZE"] = 100
    _, warned = await get_recording_warnings(cookie_app, "/cookie/200")
    assert len(warned) == 1
    assert "100" in warned[0]
    _, warned = await get_recording_warnings(cookie_app, "/cookie/50")
    assert warned == []


async def test_zero_turns_the_warning_off(cookie_app: Quaver) -> None:
    cookie_app.config["MAX_COOKIE_SIZE"] = 0
    _, warned = await get_recording_warnings(cookie_app, "/cookie/20000")
    assert warned == []


async def test_an_oversized_session_cookie_warns_at_the_configured_size(app: Quaver) -> None:
    app.secret_key = "test secret"
    app.config["MAX_COOKIE_SIZE"] = 300

    @app.get("/remember")
    async def remember():
        session["notes"] = secrets.token_urlsafe(600)  # random: the session cookie is compressed
        return "ok"

    response, warned = await get_recording_warnings(app, "/remember")
    assert len(warned) == 1
    assert "'session' cookie" in warned[0]
    assert "session=" in response.headers["Set-Cookie"]


async def test_max_cookie_size_follows_the_current_app(app: Quaver) -> None:
    assert Response().max_cookie_size == 4093  # no app: Werkzeug's default
    app.config["MAX_COOKIE_SIZE"] = 1234
    async with app.app_context():
        assert Response().max_cookie_size == 1234
    other = Quaver("other")
    other.config["MAX_COOKIE_SIZE"] = 777
    async with other.app_context():
        assert Response().max_cookie_size == 777
