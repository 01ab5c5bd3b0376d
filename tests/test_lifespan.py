"""Start-up and shutdown: before_serving, after_serving and while_serving,
driven by ``app.test_app()`` and by a real server's lifespan events."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.utils import LifespanFailureError

from quaver import Quaver, current_app, g
from quaver.testing import LifespanError


async def test_before_serving_runs_at_startup_and_after_serving_at_shutdown(app: Quaver) -> None:
    events: list[str] = []

    @app.before_serving
    async def open_pool() -> None:
        events.append("before_serving")

    @app.after_serving
    async def close_pool() -> None:
        events.append("after_serving")

    test_app = app.test_app()
    assert events == []
    async with test_app:
        assert events == ["before_serving"]
    assert events == ["before_serving", "after_serving"]


async def test_serving_hooks_run_in_an_app_context(app: Quaver) -> None:
    seen: list[str] = []

    @app.before_serving
    async def startup() -> None:
        g.marker = "set at startup"
        seen.append(current_app.name)

    @app.after_serving
    async def shutdown() -> None:
        seen.append(current_app.name)

    async with app.test_app():
        pass
    assert seen == [app.name, app.name]


async def test_state_made_at_startup_is_seen_by_requests(app: Quaver) -> None:
    @app.before_serving
    async def connect() -> None:
        current_app.pool = ["connection"]

    @app.route("/")
    async def index() -> dict:
        return {"pool": current_app.pool}

    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/")
        assert await response.get_json() == {"pool": ["connection"]}


async def test_several_serving_hooks_run_in_registration_order(app: Quaver) -> None:
    events: list[str] = []
    for name in ("one", "two", "three"):
        app.before_serving(lambda name=name: events.append(f"start {name}"))
        app.after_serving(lambda name=name: events.append(f"stop {name}"))

    async with app.test_app():
        pass
    assert events == ["start one", "start two", "start three", "stop one", "stop two", "stop three"]


async def test_sync_serving_hooks_run_in_worker_threads(app: Quaver) -> None:
    threads: list[threading.Thread] = []

    @app.before_serving
    def startup() -> None:
        threads.append(threading.current_thread())
        assert current_app.name == app.name

    @app.after_serving
    def shutdown() -> None:
        threads.append(threading.current_thread())

    async with app.test_app():
        pass
    assert len(threads) == 2
    assert threading.current_thread() not in threads


async def test_while_serving_runs_before_yield_at_startup_and_after_at_shutdown(app: Quaver) -> None:
    events: list[str] = []

    @app.while_serving
    async def lifespan():
        events.append("setup")
        yield
        events.append("cleanup")

    async with app.test_app():
        assert events == ["setup"]
    assert events == ["setup", "cleanup"]


async def test_while_serving_generators_unwind_in_reverse_order(app: Quaver) -> None:
    events: list[str] = []

    @app.while_serving
    async def outer():
        events.append("outer up")
        yield
        events.append("outer down")

    @app.while_serving
    async def inner():
        events.append("inner up")
        yield
        events.append("inner down")

    async with app.test_app():
        pass
    assert events == ["outer up", "inner up", "inner down", "outer down"]


async def test_while_serving_sees_current_app(app: Quaver) -> None:
    seen: list[str] = []

    @app.while_serving
    async def lifespan():
        seen.append(current_app.name)
        yield
        seen.append(current_app.name)

    async with app.test_app():
        pass
    assert seen == [app.name, app.name]


async def test_while_serving_that_yields_twice_makes_shutdown_fail(app: Quaver) -> None:
    @app.while_serving
    async def lifespan():
        yield
        yield

    with pytest.raises(LifespanError, match="didn't terminate"):
        async with app.test_app():
            pass


async def test_failing_before_serving_makes_startup_fail(app: Quaver) -> None:
    @app.before_serving
    async def connect() -> None:
        raise ConnectionError("database unreachable")

    entered = False
    with pytest.raises(LifespanError, match="database unreachable"):
        async with app.test_app():
            entered = True
    assert not entered


async def test_failing_before_serving_stops_later_startup_steps(app: Quaver) -> None:
    events: list[str] = []

    @app.before_serving
    async def broken() -> None:
        raise RuntimeError("no")

    @app.before_serving
    async def later() -> None:
        events.append("later")

    with pytest.raises(LifespanError):
        async with app.test_app():
            pass
    assert events == []


async def test_failing_while_serving_setup_makes_startup_fail(app: Quaver) -> None:
    @app.while_serving
    async def lifespan():
        raise OSError("port busy")
        yield

    with pytest.raises(LifespanError, match="port busy"):
        async with app.test_app():
            pass


async def test_failing_after_serving_makes_shutdown_fail(app: Quaver) -> None:
    @app.after_serving
    async def close() -> None:
        raise RuntimeError("close failed")

    with pytest.raises(LifespanError, match="close failed"):
        async with app.test_app():
            pass


async def test_failing_startup_is_logged(app: Quaver, caplog: pytest.LogCaptureFixture) -> None:
    @app.before_serving
    async def connect() -> None:
        raise ConnectionError("database unreachable")

    with pytest.raises(LifespanError):
        async with app.test_app():
            pass
    assert "ConnectionError: database unreachable" in caplog.text
    assert "Traceback (most recent call last)" in caplog.text


async def test_test_app_startup_and_shutdown_can_be_called_directly(app: Quaver) -> None:
    events: list[str] = []
    app.before_serving(lambda: events.append("up"))
    app.after_serving(lambda: events.append("down"))

    test_app = app.test_app()
    await test_app.startup()
    assert events == ["up"]
    await test_app.shutdown()
    assert events == ["up", "down"]


# -- through a real server --------------------------------------------------
def _hypercorn_config(port: int) -> HypercornConfig:
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    return config


async def _wait_until_listening(port: int, server: asyncio.Task) -> None:
    for _ in range(500):
        if server.done():
            return
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)
        else:
            writer.close()
            await writer.wait_closed()
            return
    raise TimeoutError("server did not start")


async def test_real_server_runs_startup_before_requests_and_shutdown_after(
    app: Quaver, free_port: int
) -> None:
    events: list[str] = []

    @app.before_serving
    async def startup() -> None:
        events.append("startup")

    @app.while_serving
    async def lifespan():
        events.append("while up")
        yield
        events.append("while down")

    @app.after_serving
    async def shutdown() -> None:
        events.append("shutdown")

    @app.route("/")
    async def index() -> str:
        events.append("request")
        return "ok"

    stop = asyncio.Event()
    server = asyncio.ensure_future(serve(app, _hypercorn_config(free_port), shutdown_trigger=stop.wait))
    await _wait_until_listening(free_port, server)
    assert events == ["startup", "while up"]
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{free_port}/")
    assert response.text == "ok"
    stop.set()
    await asyncio.wait_for(server, 10)
    assert events == ["startup", "while up", "request", "while down", "shutdown"]


async def test_real_server_does_not_start_when_before_serving_fails(
    app: Quaver, free_port: int
) -> None:
    @app.before_serving
    async def startup() -> None:
        raise RuntimeError("refuse to start")

    stop = asyncio.Event()
    with pytest.raises(LifespanFailureError, match="refuse to start"):
        await asyncio.wait_for(serve(app, _hypercorn_config(free_port), shutdown_trigger=stop.wait), 10)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{free_port}/")


# -- the test_app driver itself -----------------------------------------------
async def test_test_app_reports_an_app_that_crashes_instead_of_answering(app: Quaver) -> None:
    async def crashing_middleware(scope, receive, send) -> None:
        await receive()
        raise RuntimeError("middleware crashed")

    app.asgi_app = crashing_middleware
    start = asyncio.get_running_loop().time()
    with pytest.raises(LifespanError, match="middleware crashed"):
        async with app.test_app():
            pass
    assert asyncio.get_running_loop().time() - start < 2


async def test_test_app_gives_up_after_the_startup_timeout(app: Quaver) -> None:
    from quaver.testing import TestApp

    hang = asyncio.Event()

    @app.before_serving
    async def never_ready() -> None:
        await hang.wait()

    with pytest.raises(LifespanError, match="within 0.1 seconds"):
        async with TestApp(app, startup_timeout=0.1):
            pass


async def test_test_app_shutdown_without_startup_is_an_error(app: Quaver) -> None:
    with pytest.raises(RuntimeError, match="startup"):
        await app.test_app().shutdown()
