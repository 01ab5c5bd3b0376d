"""``app.add_background_task``: work that runs after the response, in an app
context, and that shutdown waits for (up to BACKGROUND_TASK_SHUTDOWN_TIMEOUT)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from quaver import Quaver, copy_current_request_context, current_app, g, request


async def test_background_task_runs_with_its_arguments_in_an_app_context(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    async def job(user: str, *, action: str) -> None:
        done.set_result((current_app.name, user, action))

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job, "ada", action="email")
        return "queued"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "queued"
    assert await asyncio.wait_for(done, 2) == (app.name, "ada", "email")


async def test_background_task_gets_its_own_g(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    async def job() -> None:
        done.set_result(g.get("user", "no user"))

    @app.route("/")
    async def index() -> str:
        g.user = "request's user"
        app.add_background_task(job)
        return ""

    await app.test_client().get("/")
    assert await asyncio.wait_for(done, 2) == "no user"


async def test_response_is_not_delayed_by_a_background_task(app: Quaver) -> None:
    release = asyncio.Event()
    finished: asyncio.Future = asyncio.get_running_loop().create_future()

    async def slow_job() -> None:
        await release.wait()
        finished.set_result(current_app.name)

    @app.route("/")
    async def index() -> str:
        app.add_background_task(slow_job)
        return "answered"

    response = await asyncio.wait_for(app.test_client().get("/"), 2)
    assert await response.get_data(as_text=True) == "answered"
    assert not finished.done()
    release.set()
    assert await asyncio.wait_for(finished, 2) == app.name


async def test_sync_background_task_runs_in_a_worker_thread(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()

    def job(value: int) -> None:
        result = (threading.current_thread(), current_app.name, value * 2)
        loop.call_soon_threadsafe(done.set_result, result)

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job, 21)
        return ""

    await app.test_client().get("/")
    thread, name, value = await asyncio.wait_for(done, 2)
    assert thread is not threading.current_thread()
    assert (name, value) == (app.name, 42)


async def test_sync_view_can_add_a_background_task(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    async def job(order: int) -> None:
        done.set_result((current_app.name, order))

    @app.route("/")
    def index() -> str:  # runs in a worker thread, away from the loop
        app.add_background_task(job, 9)
        return "queued"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "queued"
    assert await asyncio.wait_for(done, 2) == (app.name, 9)


async def test_sync_background_task_does_not_block_the_response(app: Quaver) -> None:
    def job() -> None:
        time.sleep(0.3)

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job)
        return ""

    async with app.test_app() as test_app:
        start = time.perf_counter()
        await test_app.test_client().get("/")
        assert time.perf_counter() - start < 0.25


async def test_background_task_can_use_a_copied_request_context(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    @app.route("/orders/<int:number>")
    async def order(number: int) -> str:
        @copy_current_request_context
        async def job() -> None:
            done.set_result((request.path, request.args["via"]))

        app.add_background_task(job)
        return "ok"

    await app.test_client().get("/orders/5?via=email")
    assert await asyncio.wait_for(done, 2) == ("/orders/5", "email")


async def test_background_task_can_be_added_outside_a_request(app: Quaver) -> None:
    done: asyncio.Future = asyncio.get_running_loop().create_future()

    async def job() -> None:
        done.set_result(current_app.name)

    @app.before_serving
    async def warm_up() -> None:
        app.add_background_task(job)

    async with app.test_app():
        assert await asyncio.wait_for(done, 2) == app.name


async def test_error_in_background_task_is_logged_and_not_sent_to_the_client(
    app: Quaver, caplog: pytest.LogCaptureFixture
) -> None:
    async def job() -> None:
        raise ValueError("job exploded")

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job)
        return "fine"

    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/")
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == "fine"
    assert "ValueError: job exploded" in caplog.text
    assert "Traceback (most recent call last)" in caplog.text


async def test_shutdown_waits_for_running_background_tasks(app: Quaver) -> None:
    finished: list[str] = []

    async def job() -> None:
        await asyncio.sleep(0.2)
        finished.append(current_app.name)

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job)
        return ""

    async with app.test_app() as test_app:
        await test_app.test_client().get("/")
        assert finished == []
    assert finished == [app.name]


async def test_shutdown_cancels_background_tasks_past_the_timeout(app: Quaver) -> None:
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.2
    outcome: list[str] = []

    async def stuck_job() -> None:
        try:
            await asyncio.sleep(30)
            outcome.append("finished")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def quick_job() -> None:
        await asyncio.sleep(0.05)
        outcome.append("quick finished")

    @app.route("/")
    async def index() -> str:
        app.add_background_task(stuck_job)
        app.add_background_task(quick_job)
        return ""

    async with app.test_app() as test_app:
        await test_app.test_client().get("/")
        start = time.perf_counter()
    waited = time.perf_counter() - start
    assert sorted(outcome) == ["cancelled", "quick finished"]
    assert 0.15 < waited < 2


async def test_shutdown_returns_at_once_without_background_tasks(app: Quaver) -> None:
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 5
    async with app.test_app():
        start = time.perf_counter()
    assert time.perf_counter() - start < 1


async def test_shutdown_finishes_background_tasks_before_after_serving(app: Quaver) -> None:
    # Tasks may still use what after_serving closes (a database pool, say),
    # so, as in Quart, they are awaited first.
    events: list[str] = []

    @app.while_serving
    async def pool():
        yield
        events.append("while_serving cleanup")

    async def job() -> None:
        await asyncio.sleep(0.1)
        events.append("task done")

    @app.after_serving
    async def stop() -> None:
        events.append("after_serving")

    @app.route("/")
    async def index() -> str:
        app.add_background_task(job)
        return ""

    async with app.test_app() as test_app:
        await test_app.test_client().get("/")
    assert events == ["task done", "while_serving cleanup", "after_serving"]


async def test_shutdown_event_lets_long_running_tasks_stop_cleanly(app: Quaver) -> None:
    # Quart's app.shutdown_event is set as shutdown begins, so a task that
    # loops until then can finish on its own instead of being cancelled.
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 5
    outcome: list[str] = []

    async def poller() -> None:
        try:
            while not current_app.shutdown_event.is_set():
                await asyncio.sleep(0.01)
            outcome.append("stopped cleanly")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    @app.before_serving
    async def start_poller() -> None:
        app.add_background_task(poller)

    async with app.test_app():
        await asyncio.sleep(0.05)
        assert not app.shutdown_event.is_set()
        start = time.perf_counter()
    assert outcome == ["stopped cleanly"]
    assert time.perf_counter() - start < 1
