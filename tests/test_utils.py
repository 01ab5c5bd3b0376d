"""Sync code from async code: ``quaver.utils.run_sync`` and friends, and sync
views, hooks and error handlers running in the thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from functools import partial

import pytest
from werkzeug.datastructures import Headers

from quaver import Quaver, Response, current_app, g, request
from quaver.utils import (
    encode_headers,
    ensure_async,
    is_coroutine_function,
    resume_with_deadline,
    run_sync,
    run_sync_iterable,
)

_probe: contextvars.ContextVar[str] = contextvars.ContextVar("probe")


# -- run_sync ---------------------------------------------------------------
async def test_run_sync_runs_the_function_in_another_thread() -> None:
    def where() -> threading.Thread:
        return threading.current_thread()

    assert await run_sync(where)() is not threading.current_thread()


async def test_run_sync_passes_arguments_and_returns_the_result() -> None:
    def add(a: int, b: int, *, scale: int = 1) -> int:
        return (a + b) * scale

    assert await run_sync(add)(2, 3, scale=10) == 50


async def test_run_sync_raises_the_functions_exception() -> None:
    def fail() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        await run_sync(fail)()


async def test_run_sync_copies_context_variables_into_the_thread() -> None:
    _probe.set("caller's value")
    assert await run_sync(_probe.get)() == "caller's value"


async def test_run_sync_keeps_the_functions_name_and_doc() -> None:
    def documented() -> None:
        """Says what it does."""

    wrapped = run_sync(documented)
    assert wrapped.__name__ == "documented"
    assert wrapped.__doc__ == "Says what it does."


async def test_run_sync_does_not_block_the_event_loop() -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(5):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)

    start = time.perf_counter()
    await asyncio.gather(run_sync(time.sleep)(0.25), ticker())
    # The ticker kept running while the sync sleep held its thread.
    assert len(ticks) == 5
    assert ticks[-1] - start < 0.2


async def test_run_sync_of_a_generator_gives_an_async_iterator() -> None:
    threads: list[threading.Thread] = []

    def numbers():
        for number in range(3):
            threads.append(threading.current_thread())
            yield number

    items = [item async for item in await run_sync(numbers)()]
    assert items == [0, 1, 2]
    assert threading.current_thread() not in threads


async def test_run_sync_iterable_closes_the_generator_when_stopped_early() -> None:
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield "x"
        finally:
            closed.set()

    iterator = run_sync_iterable(endless())
    assert await iterator.__anext__() == "x"
    await iterator.aclose()
    assert closed.is_set()


async def test_is_coroutine_function_recognises_async_callables() -> None:
    async def coro() -> None:
        pass

    def plain() -> None:
        pass

    class AsyncCallable:
        async def __call__(self) -> None:
            pass

    class SyncCallable:
        def __call__(self) -> None:
            pass

    assert is_coroutine_function(coro)
    assert is_coroutine_function(partial(coro))
    assert is_coroutine_function(partial(partial(coro)))
    assert is_coroutine_function(AsyncCallable())
    assert not is_coroutine_function(plain)
    assert not is_coroutine_function(partial(plain))
    assert not is_coroutine_function(SyncCallable())


async def test_ensure_async_leaves_async_functions_alone_and_wraps_sync_ones() -> None:
    async def coro() -> str:
        return "async"

    def plain() -> threading.Thread:
        return threading.current_thread()

    assert ensure_async(coro) is coro
    assert await ensure_async(plain)() is not threading.current_thread()


async def test_resume_with_deadline_finishes_a_started_coroutine() -> None:
    async def soon() -> str:
        await asyncio.sleep(0.01)
        return "soon"

    coro = soon()
    first = coro.send(None)  # started by the caller; it has to wait
    deadline = asyncio.get_running_loop().time() + 1
    assert await resume_with_deadline(coro, first, deadline) == "soon"


async def test_concurrent_deadlines_each_time_out_at_their_own_time_and_others_finish() -> None:
    loop = asyncio.get_running_loop()

    async def waiting(seconds: float) -> str:
        coro = asyncio.sleep(seconds, "done")
        first = coro.send(None)
        return await resume_with_deadline(coro, first, loop.time() + {0.5: 5.0, 0.3: 0.1, 0.05: 5.0, 5: 0.2}[seconds])

    start = loop.time()
    # A late deadline first, then an earlier one: the single timer is re-armed for it.
    results = await asyncio.gather(
        waiting(0.5), waiting(0.3), waiting(0.05), waiting(5), return_exceptions=True
    )
    took = loop.time() - start
    assert results[0] == "done" and results[2] == "done"
    assert isinstance(results[1], TimeoutError) and isinstance(results[3], TimeoutError)
    assert took < 1  # the 5 s sleep was cut at its 0.2 s deadline


async def test_a_wait_cancelled_for_another_reason_is_cancelled_not_timed_out() -> None:
    loop = asyncio.get_running_loop()

    async def waiting() -> None:
        coro = asyncio.sleep(10)
        first = coro.send(None)
        await resume_with_deadline(coro, first, loop.time() + 5)

    task = asyncio.ensure_future(waiting())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_resume_with_deadline_times_out_and_cancels_the_coroutine() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    coro = slow()
    first = coro.send(None)
    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        await resume_with_deadline(coro, first, asyncio.get_running_loop().time() + 0.05)
    assert time.perf_counter() - start < 1
    assert cancelled.is_set()


async def test_encode_headers_gives_lowercase_byte_pairs() -> None:
    headers = Headers([("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert encode_headers(headers) == [
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]


# -- sync views, hooks and error handlers -----------------------------------
async def test_sync_view_runs_in_a_worker_thread_with_request_and_g(app: Quaver) -> None:
    loop_thread = threading.current_thread()
    seen: dict[str, object] = {}

    @app.before_request
    async def set_g() -> None:
        g.user = "ada"

    @app.route("/<name>", methods=["POST"])
    def view(name: str) -> dict:
        seen["thread"] = threading.current_thread()
        return {
            "name": name,
            "method": request.method,
            "arg": request.args["a"],
            "user": g.user,
            "app": current_app.name,
        }

    response = await app.test_client().post("/x?a=1")
    assert await response.get_json() == {"name": "x", "method": "POST", "arg": "1", "user": "ada", "app": app.name}
    assert seen["thread"] is not loop_thread


async def test_sync_view_sleeping_does_not_block_concurrent_async_requests(app: Quaver) -> None:
    @app.route("/slow")
    def slow() -> str:
        time.sleep(0.3)
        return "slow"

    @app.route("/fast")
    async def fast() -> str:
        return "fast"

    client = app.test_client()
    slow_request = asyncio.ensure_future(client.get("/slow"))
    await asyncio.sleep(0.05)  # the slow view is now sleeping in its thread
    start = time.perf_counter()
    fast_response = await client.get("/fast")
    fast_time = time.perf_counter() - start
    assert await fast_response.get_data(as_text=True) == "fast"
    assert fast_time < 0.25
    assert not slow_request.done()
    assert await (await slow_request).get_data(as_text=True) == "slow"


async def test_sync_views_run_in_parallel(app: Quaver) -> None:
    @app.route("/sleep")
    def sleep() -> str:
        time.sleep(0.3)
        return "done"

    client = app.test_client()
    start = time.perf_counter()
    responses = await asyncio.gather(*(client.get("/sleep") for _ in range(4)))
    assert [response.status_code for response in responses] == [200] * 4
    assert time.perf_counter() - start < 0.9


async def test_error_in_a_sync_view_reaches_the_test_unchanged(app: Quaver) -> None:
    @app.route("/")
    def index() -> str:
        raise PermissionError("raised in a worker thread")

    with pytest.raises(PermissionError, match="raised in a worker thread"):
        await app.test_client().get("/")


async def test_sync_hooks_run_in_worker_threads(app: Quaver) -> None:
    loop_thread = threading.current_thread()
    threads: dict[str, threading.Thread] = {}
    seen: dict[str, object] = {}

    @app.before_request
    def before() -> None:
        threads["before"] = threading.current_thread()
        g.path = request.path

    @app.after_request
    def after(response: Response) -> Response:
        threads["after"] = threading.current_thread()
        seen["after"] = g.path
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        threads["teardown"] = threading.current_thread()
        seen["teardown"] = request.path

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        threads["appcontext"] = threading.current_thread()
        seen["appcontext"] = current_app.name

    @app.route("/here")
    async def here() -> str:
        return "ok"

    assert (await app.test_client().get("/here")).status_code == 200
    assert set(threads) == {"before", "after", "teardown", "appcontext"}
    assert all(thread is not loop_thread for thread in threads.values())
    assert seen == {"after": "/here", "teardown": "/here", "appcontext": app.name}


async def test_sync_error_handler_runs_in_a_worker_thread_with_request(app: Quaver) -> None:
    loop_thread = threading.current_thread()
    threads: list[threading.Thread] = []

    @app.errorhandler(404)
    def missing(error: Exception) -> tuple[str, int]:
        threads.append(threading.current_thread())
        return f"missing {request.path}", 404

    response = await app.test_client().get("/lost")
    assert await response.get_data(as_text=True) == "missing /lost"
    assert threads and threads[0] is not loop_thread


async def test_g_set_in_a_sync_hook_is_seen_by_an_async_view(app: Quaver) -> None:
    @app.before_request
    def before() -> None:
        g.from_thread = threading.current_thread().name

    @app.route("/")
    async def index() -> str:
        return g.from_thread

    body = await (await app.test_client().get("/")).get_data(as_text=True)
    assert body != threading.current_thread().name
    assert body  # a real thread name came back


async def test_sync_generator_view_streams_its_items(app: Quaver) -> None:
    @app.route("/")
    def index():
        def generate():
            yield "a"
            yield "b"

        return generate()

    assert await (await app.test_client().get("/")).get_data(as_text=True) == "ab"


async def test_app_ensure_async_uses_the_thread_pool_for_sync_functions(app: Quaver) -> None:
    def sync() -> threading.Thread:
        return threading.current_thread()

    async def coro() -> None:
        pass

    assert app.ensure_async(coro) is coro
    assert await app.ensure_async(sync)() is not threading.current_thread()
