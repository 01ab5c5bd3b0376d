"""Signals sent around contexts, requests, background tasks and serving."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jinja2 import Template

from quaver import (
    Quaver,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    current_app,
    got_request_exception,
    got_websocket_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
    websocket,
    websocket_finished,
    websocket_started,
    websocket_tearing_down,
)
from quaver.signals import got_background_exception, got_serving_exception
from quaver.testing import LifespanError, WebsocketDisconnectError


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


# -- each signal at its moment, with sync and async receivers -------------


def recorder(events: list[tuple[Any, ...]], name: str, use_async: bool, *keys: str) -> Any:
    """A receiver that appends (name, *its keyword values) to ``events``."""

    def record(sender: Any, **extra: Any) -> None:
        assert isinstance(sender, Quaver)
        events.append((name, *(extra[key] for key in keys)))

    if not use_async:
        return record

    async def record_async(sender: Any, **extra: Any) -> None:
        await asyncio.sleep(0)
        record(sender, **extra)

    return record_async


both = pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])


@both
async def test_request_signals_in_order_around_hooks_and_view(app: Quaver, use_async: bool) -> None:
    events: list[tuple[Any, ...]] = []

    @app.before_request
    def before() -> None:
        events.append(("before_request",))

    @app.route("/")
    async def index() -> str:
        events.append(("view",))
        return "body"

    @app.after_request
    def after(response: Any) -> Any:
        events.append(("after_request",))
        return response

    @app.teardown_request
    def teardown(exc: Any) -> None:
        events.append(("teardown_request", exc))

    @app.teardown_appcontext
    def teardown_app(exc: Any) -> None:
        events.append(("teardown_appcontext", exc))

    with (
        appcontext_pushed.connected_to(recorder(events, "appcontext_pushed", use_async), app),
        request_started.connected_to(recorder(events, "request_started", use_async), app),
        request_finished.connected_to(_finished_recorder(events, use_async), app),
        request_tearing_down.connected_to(recorder(events, "request_tearing_down", use_async, "exc"), app),
        appcontext_tearing_down.connected_to(recorder(events, "appcontext_tearing_down", use_async, "exc"), app),
        appcontext_popped.connected_to(recorder(events, "appcontext_popped", use_async), app),
    ):
        response = await app.test_client().get("/")
    assert response.status_code == 200
    assert events == [
        ("appcontext_pushed",),
        ("request_started",),
        ("before_request",),
        ("view",),
        ("after_request",),
        ("request_finished", 200, b"body"),
        ("teardown_request", None),
        ("request_tearing_down", None),
        ("teardown_appcontext", None),
        ("appcontext_tearing_down", None),
        ("appcontext_popped",),
    ]


def _finished_recorder(events: list[tuple[Any, ...]], use_async: bool) -> Any:
    async def read(response: Any) -> bytes:
        return await response.get_data()

    async def record_async(sender: Any, response: Any, **extra: Any) -> None:
        events.append(("request_finished", response.status_code, await read(response)))

    def record(sender: Any, response: Any, **extra: Any) -> None:
        body = response.response if isinstance(response.response, bytes) else b"?"
        events.append(("request_finished", response.status_code, body))

    return record_async if use_async else record


@both
async def test_got_request_exception_only_for_unhandled_errors(app: Quaver, use_async: bool) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[tuple[Any, ...]] = []

    class Handled(Exception):
        pass

    @app.errorhandler(Handled)
    async def handled(error: Exception) -> Any:
        return "handled", 400

    @app.route("/handled")
    async def raise_handled() -> str:
        raise Handled()

    @app.route("/unhandled")
    async def raise_unhandled() -> str:
        raise LookupError("boom")

    @app.route("/http-error")
    async def http_error() -> str:
        from quaver import abort

        abort(404)

    with got_request_exception.connected_to(recorder(events, "got", use_async, "exception"), app):
        client = app.test_client()
        assert (await client.get("/handled")).status_code == 400
        assert (await client.get("/http-error")).status_code == 404
        assert events == []
        assert (await client.get("/unhandled")).status_code == 500
    assert len(events) == 1
    assert isinstance(events[0][1], LookupError)


async def test_got_request_exception_is_sent_before_the_error_propagates_in_testing(app: Quaver) -> None:
    seen: list[object] = []

    @app.route("/")
    async def index() -> str:
        raise KeyError("k")

    with got_request_exception.connected_to(lambda sender, exception, **extra: seen.append(exception), app):
        with pytest.raises(KeyError):
            await app.test_client().get("/")
    assert len(seen) == 1 and isinstance(seen[0], KeyError)


@both
async def test_template_signals_carry_the_template_and_context(app: Quaver, use_async: bool) -> None:
    from quaver import render_template_string

    events: list[tuple[Any, ...]] = []

    def before(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        context["added"] = "by receiver"
        events.append(("before", context["name"]))

    async def before_async(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        before(sender, template, context)

    def rendered(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        events.append(("rendered", context["name"], isinstance(template, Template), "request" in context))

    async def rendered_async(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered(sender, template, context)

    @app.route("/")
    async def index() -> str:
        body = await render_template_string("{{ name }} {{ added }}", name="Ada")
        events.append(("returned",))
        return body

    with (
        before_render_template.connected_to(before_async if use_async else before, app),
        template_rendered.connected_to(rendered_async if use_async else rendered, app),
    ):
        response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "Ada by receiver"
    assert events == [("before", "Ada"), ("rendered", "Ada", True, True), ("returned",)]


async def test_template_rendered_after_a_stream_finishes(app: Quaver) -> None:
    from quaver import stream_template_string

    events: list[str] = []

    def piece(value: str) -> str:
        events.append(f"rendered {value}")
        return value

    app.add_template_global(piece)

    @app.route("/")
    async def index() -> Any:
        return await stream_template_string("{{ piece('a') }}{{ piece('b') }}")

    with template_rendered.connected_to(lambda sender, **extra: events.append("signal"), app):
        response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "ab"
    assert events == ["rendered a", "rendered b", "signal"]


@both
async def test_message_flashed_carries_message_and_category(app: Quaver, use_async: bool) -> None:
    from quaver import flash

    app.secret_key = "k"
    events: list[tuple[Any, ...]] = []

    @app.route("/")
    async def index() -> str:
        await flash("hello", "info")
        events.append(("after flash",))
        return ""

    with message_flashed.connected_to(recorder(events, "flashed", use_async, "message", "category"), app):
        await app.test_client().get("/")
    assert events == [("flashed", "hello", "info"), ("after flash",)]


@both
async def test_websocket_signals_in_order(app: Quaver, use_async: bool) -> None:
    events: list[tuple[Any, ...]] = []

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        events.append(("handler",))
        await websocket.send("hi")

    with (
        websocket_started.connected_to(recorder(events, "websocket_started", use_async), app),
        websocket_finished.connected_to(recorder(events, "websocket_finished", use_async, "response"), app),
        websocket_tearing_down.connected_to(recorder(events, "websocket_tearing_down", use_async, "exc"), app),
    ):
        async with app.test_client().websocket("/ws") as connection:
            assert await connection.receive() == "hi"
        await asyncio.sleep(0.05)
    assert events == [
        ("websocket_started",),
        ("handler",),
        ("websocket_finished", None),
        ("websocket_tearing_down", None),
    ]


@both
async def test_got_websocket_exception_for_an_unhandled_error(app: Quaver, use_async: bool) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[tuple[Any, ...]] = []

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        raise ArithmeticError("ws boom")

    with (
        got_websocket_exception.connected_to(recorder(events, "got", use_async, "exception"), app),
        websocket_tearing_down.connected_to(recorder(events, "tearing_down", use_async, "exc"), app),
    ):
        async with app.test_client().websocket("/ws") as connection:
            with pytest.raises(WebsocketDisconnectError) as info:
                await connection.receive()
            assert info.value.code == 1011  # the server's internal error close
        await asyncio.sleep(0.05)
    assert [name for name, _ in events] == ["got", "tearing_down"]
    assert isinstance(events[0][1], ArithmeticError)


async def test_websocket_received_and_sent_carry_the_data(app: Quaver) -> None:
    from quaver.signals import websocket_received, websocket_sent

    received: list[Any] = []
    sent: list[Any] = []

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        message = await websocket.receive()
        await websocket.send(message.upper())

    with (
        websocket_received.connected_to(lambda data, **extra: received.append(data)),
        websocket_sent.connected_to(lambda data, **extra: sent.append(data)),
    ):
        async with app.test_client().websocket("/ws") as connection:
            await connection.send("ping")
            assert await connection.receive() == "PING"
    assert received == ["ping"]
    assert sent == ["PING"]


async def test_signals_with_no_receivers_cost_nothing_and_receivers_can_disconnect(app: Quaver) -> None:
    seen: list[object] = []

    def record(sender: Any, **extra: Any) -> None:
        seen.append(sender)

    @app.route("/")
    async def index() -> str:
        return ""

    client = app.test_client()
    request_started.connect(record, app)
    try:
        await client.get("/")
    finally:
        request_started.disconnect(record, app)
    await client.get("/")
    assert seen == [app]
