"""Signals sent around contexts, requests, background tasks and serving."""

from __future__ import annotations

import asyncio

import pytest

from quaver import (
    Quaver,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    current_app,
    got_request_exception,
    request_tearing_down,
)
from quaver.signals import got_background_exception, got_serving_exception
from quaver.testing import LifespanError


async def test_app_context_sends_pushed_tearing_down_and_popped(app: Quaver) -> None:
    events: list[tuple[str, object]] = []

    def pushed(sender, **extra) -> None:
        events.append(("pushed", current_app.name))

    def tearing_down(sender, exc=None, **extra) -> None:
        events.append(("tearing down", exc))

    def popped(sender, **extra) -> None:
        events.append(("popped", sender))

    with (
        appcontext_pushed.connected_to(pushed, app),
        appcontext_tearing_down.connected_to(tearing_down, app),
        appcontext_popped.connected_to(popped, app),
    ):
        async with app.app_context():
            events.append(("inside", None))
    assert events == [("pushed", app.name), ("inside", None), ("tearing down", None), ("popped", app)]


async def test_signals_for_one_app_are_not_sent_for_another(app: Quaver) -> None:
    other = Quaver("other")
    seen: list[object] = []

    with appcontext_pushed.connected_to(lambda sender, **extra: seen.append(sender), app):
        async with other.app_context():
            pass
    assert seen == []


async def test_request_tearing_down_gets_the_unhandled_exception(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    @app.route("/")
    async def index() -> str:
        raise ZeroDivisionError()

    def record(sender, exc=None, **extra) -> None:
        seen.append(exc)

    with request_tearing_down.connected_to(record, app):
        assert (await app.test_client().get("/")).status_code == 500
    assert len(seen) == 1
    assert isinstance(seen[0], ZeroDivisionError)


async def test_async_receivers_are_awaited(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[object] = []

    async def record(sender, exception, **extra) -> None:
        await asyncio.sleep(0)
        seen.append(type(exception))

    @app.route("/")
    async def index() -> str:
        raise ValueError()

    with got_request_exception.connected_to(record, app):
        await app.test_client().get("/")
    assert seen == [ValueError]


async def test_got_background_exception_is_sent_when_a_task_fails(app: Quaver) -> None:
    received: asyncio.Future = asyncio.get_running_loop().create_future()

    def record(sender, exception, **extra) -> None:
        received.set_result((sender, exception))

    async def job() -> None:
        raise KeyError("lost")

    with got_background_exception.connected_to(record, app):
        async with app.app_context():
            app.add_background_task(job)
        sender, exception = await asyncio.wait_for(received, 2)
    assert sender is app
    assert isinstance(exception, KeyError)


async def test_got_serving_exception_is_sent_when_startup_fails(app: Quaver) -> None:
    seen: list[object] = []

    @app.before_serving
    async def broken() -> None:
        raise ConnectionRefusedError("no database")

    def record(sender, exception, **extra) -> None:
        seen.append(exception)

    with got_serving_exception.connected_to(record, app), pytest.raises(LifespanError):
        async with app.test_app():
            pass
    assert len(seen) == 1
    assert isinstance(seen[0], ConnectionRefusedError)


async def test_got_serving_exception_is_sent_when_shutdown_fails(app: Quaver) -> None:
    seen: list[object] = []

    @app.after_serving
    async def broken() -> None:
        raise OSError("cannot flush")

    def record(sender, exception, **extra) -> None:
        seen.append(exception)

    with got_serving_exception.connected_to(record, app), pytest.raises(LifespanError):
        async with app.test_app():
            pass
    assert len(seen) == 1
    assert isinstance(seen[0], OSError)
