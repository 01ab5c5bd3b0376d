"""The blocking watchdog (quaver/watchdog.py), through real servers: Hypercorn
and Uvicorn in a thread of the test process, and ``hypercorn module:app``,
``uvicorn module:app`` (uvloop) and ``quaver run --debug`` in a child process.

What must never be named is asserted on names, not on timings: a loaded
machine may make a block look longer, never make an idle loop look busy."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess
from threaded_server import ThreadedServer
from websockets.asyncio.client import connect

from quaver import Quaver, websocket
from quaver.watchdog import Watchdog, _Block, blocking_threshold

SERVERS = ["hypercorn", "uvicorn"]
HERE = Path(__file__).read_text().splitlines()


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# marker``."""
    return next(i for i, line in enumerate(HERE, 1) if line.rstrip().endswith(f"# {marker}"))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def blocks(self) -> list[str]:
        return [m for m in self.messages if m.startswith("Blocking code held the event loop for")]

    def summary(self) -> str:
        found = [m for m in self.messages if m.startswith("Blocking code held the event loop while serving")]
        assert len(found) == 1, self.messages
        return found[0]


def make_app(threshold: float | None = 0.1) -> Quaver:
    app = Quaver(__name__)
    if threshold is not None:
        app.config["BLOCKING_WARNING_THRESHOLD"] = threshold

    @app.route("/slow")
    async def slow() -> str:
        time.sleep(0.3)  # the blocking sleep
        return "slow"

    @app.route("/awaits")
    async def awaits() -> str:
        await asyncio.sleep(0.3)
        return "awaited"

    @app.route("/chunks")
    async def chunks() -> str:
        for _ in range(30):  # 0.3 s of work, but the loop turns every 10 ms
            time.sleep(0.01)
            await asyncio.sleep(0)
        return "chunked"

    @app.route("/sync")
    def sync_view() -> str:
        time.sleep(0.3)  # in the thread pool: the loop is free
        return "sync"

    @app.route("/hooked")
    async def hooked() -> str:
        return "hooked"

    @app.before_request
    async def check_token() -> None:
        from quaver import request

        if request.path == "/hooked":
            time.sleep(0.3)  # the blocking hook

    @app.route("/regex")
    async def regex() -> str:
        re.match(r"(a+)+$", "a" * 23 + "b")  # a C call holding the GIL
        return "matched"

    @app.route("/fails")
    async def fails() -> str:
        raise KeyError("nothing here")

    @app.errorhandler(KeyError)
    async def on_key_error(error: KeyError) -> tuple[str, int]:
        time.sleep(0.3)  # the blocking error handler
        return "handled", 500

    @app.route("/later")
    async def later() -> str:
        app.add_background_task(send_mail)
        return "queued"

    async def send_mail() -> None:
        time.sleep(0.3)  # the blocking background task

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        time.sleep(0.3)  # the blocking websocket
        await websocket.send("done")

    return app


@contextmanager
def serving(kind: str, app: Quaver, port: int) -> Iterator[tuple[str, Records]]:
    """``app`` served by ``kind`` on ``port``; its warnings, complete once the server stopped."""
    records = Records()
    app.logger.addHandler(records)
    server = ThreadedServer(kind, app, port)
    server.start()
    try:
        yield server.url, records
    finally:
        server.stop()
        app.logger.removeHandler(records)


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "quaver-blocking-watchdog"]


@pytest.mark.parametrize("kind", SERVERS)
def test_blocking_view_is_reported_with_its_endpoint_and_the_line_of_the_sleep(kind: str, free_port: int) -> None:
    with serving(kind, make_app(), free_port) as (url, records):
        assert httpx.get(f"{url}/slow").text == "slow"
    [warning] = records.blocks()
    assert "GET /slow (endpoint 'slow'), in the view slow()" in warning
    assert f'File "{__file__}", line {line_of("the blocking sleep")}, in slow' in warning
    assert "time.sleep(0.3)" in warning
    # from the user's frame down
    assert "threading" not in warning and "hypercorn" not in warning and "uvicorn" not in warning
    assert re.search(r"held the event loop for 0\.[2-9]\d s|held the event loop for [1-9]\.\d\d s", warning), warning
    assert not watchdog_threads()  # stopped at shutdown


@pytest.mark.parametrize("kind", SERVERS)
def test_awaiting_view_sync_view_and_short_steps_are_never_named(kind: str, free_port: int) -> None:
    paths = ["/awaits", "/sync", "/chunks"] * 3
    with serving(kind, make_app(), free_port) as (url, records):
        with ThreadPoolExecutor(9) as pool:  # several at once, so the loop has other work meanwhile
            answers = list(pool.map(lambda path: httpx.get(f"{url}{path}", timeout=10).text, paths))
        assert answers == ["awaited", "sync", "chunked"] * 3
        assert httpx.get(f"{url}/slow").text == "slow"  # the watchdog was watching all along
    named = "\n".join(records.messages)
    assert "/awaits" not in named and "awaits()" not in named and "'awaits'" not in named
    assert "/sync" not in named and "sync_view" not in named
    assert "/chunks" not in named and "chunks()" not in named
    assert any("endpoint 'slow'" in m for m in records.blocks())


@pytest.mark.parametrize("kind", SERVERS)
def test_blocking_before_request_hook_is_reported_as_the_hook(kind: str, free_port: int) -> None:
    with serving(kind, make_app(), free_port) as (url, records):
        assert httpx.get(f"{url}/hooked").text == "hooked"
    [warning] = records.blocks()
    assert "GET /hooked (endpoint 'hooked'), in the before_request hook check_token()" in warning
    assert f"line {line_of('the blocking hook')}, in check_token" in warning


@pytest.mark.parametrize("kind", SERVERS)
def test_blocking_websocket_handler_is_reported_as_the_websocket(kind: str, free_port: int) -> None:
    async def talk() -> str:
        async with connect(f"ws://127.0.0.1:{free_port}/ws") as ws:
            return str(await ws.recv())

    with serving(kind, make_app(), free_port) as (url, records):
        assert asyncio.run(talk()) == "done"
    [warning] = records.blocks()
    assert "websocket /ws (endpoint 'ws'), in the view ws()" in warning
    assert f"line {line_of('the blocking websocket')}, in ws" in warning


@pytest.mark.parametrize("kind", SERVERS)
def test_blocking_error_handler_and_background_task_are_reported_as_such(kind: str, free_port: int) -> None:
    with serving(kind, make_app(), free_port) as (url, records):
        assert httpx.get(f"{url}/fails").text == "handled"
        assert httpx.get(f"{url}/later").text == "queued"
        time.sleep(0.6)  # the task runs after the response
    handler, task = records.blocks()
    assert "GET /fails (endpoint 'fails'), in the error handler on_key_error()" in handler
    assert f"line {line_of('the blocking error handler')}, in on_key_error" in handler
    assert "in a background task send_mail()" in task and "GET /later" not in task
    assert f"line {line_of('the blocking background task')}, in send_mail" in task


@pytest.mark.parametrize("kind", SERVERS)
def test_c_call_holding_the_gil_is_reported_at_the_line_of_the_call(kind: str, free_port: int) -> None:
    with serving(kind, make_app(), free_port) as (url, records):
        started = time.monotonic()
        assert httpx.get(f"{url}/regex", timeout=30).text == "matched"
        took = time.monotonic() - started
    if took < 0.25:  # a machine fast enough to match in under the threshold: nothing to see
        pytest.skip(f"the match took only {took:.2f} s")
    [warning] = records.blocks()
    assert "GET /regex (endpoint 'regex'), in the view regex()" in warning
    assert f"line {line_of('a C call holding the GIL')}, in regex" in warning


@pytest.mark.parametrize("kind", SERVERS)
def test_repeated_blocks_at_a_line_are_counted_and_summed_up_at_shutdown(kind: str, free_port: int) -> None:
    with serving(kind, make_app(), free_port) as (url, records):
        for _ in range(3):
            assert httpx.get(f"{url}/slow").text == "slow"
        assert httpx.get(f"{url}/hooked").text == "hooked"
    assert len(records.blocks()) == 2  # one per line, not one per block
    summary = records.summary()
    slow_line = f"{__file__}:{line_of('the blocking sleep')}"
    pattern = rf"3 times, [\d.]+ s in all, longest [\d.]+ s: {re.escape(slow_line)} \(GET /slow"
    assert re.search(pattern, summary), summary
    assert "1 time, " in summary and "check_token()" in summary


def test_a_long_block_is_logged_while_it_lasts(free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("quaver.watchdog.LONG_BLOCK", 0.4)
    app = make_app()

    @app.route("/stuck")
    async def stuck() -> str:
        time.sleep(1.2)  # the long block
        return "unstuck"

    with serving("hypercorn", app, free_port) as (url, records):
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(httpx.get, f"{url}/stuck", timeout=10)
            deadline = time.monotonic() + 1.1
            while not records.messages and time.monotonic() < deadline:
                time.sleep(0.02)
            logged_before_the_end = list(records.messages)
            assert answer.result().text == "unstuck"
    [warning] = logged_before_the_end
    assert re.search(r"has held the event loop for \d\.\d s so far", warning) and "endpoint 'stuck'" in warning
    assert records.blocks() == []  # not logged again when it ended: counted in the summary
    assert "1 time, " in records.summary()


@pytest.mark.parametrize("kind", SERVERS)
def test_outside_debug_nothing_is_watched_unless_configured(kind: str, free_port: int) -> None:
    app = make_app(threshold=None)
    with serving(kind, app, free_port) as (url, records):
        assert not watchdog_threads()
        assert httpx.get(f"{url}/slow").text == "slow"
    assert records.messages == []


def test_debug_mode_watches_at_a_tenth_of_a_second_unless_configured() -> None:
    app = Quaver(__name__)
    assert blocking_threshold(app) is None  # the default: off
    app.debug = True
    assert blocking_threshold(app) == 0.1
    app.config["BLOCKING_WARNING_THRESHOLD"] = 0.5
    assert blocking_threshold(app) == 0.5
    app.config["BLOCKING_WARNING_THRESHOLD"] = 0  # off, in debug mode too
    assert blocking_threshold(app) is None
    app.config["BLOCKING_WARNING_THRESHOLD"] = None
    app.testing = True  # the test client shares the loop with the test itself
    assert blocking_threshold(app) is None
    app.debug = False
    app.config["BLOCKING_WARNING_THRESHOLD"] = 0.2
    assert blocking_threshold(app) == 0.2


def test_debug_mode_through_app_run_watches(free_port: int) -> None:
    app = make_app(threshold=None)
    app.debug = True
    with serving("hypercorn", app, free_port) as (url, records):
        assert len(watchdog_threads()) == 1
        assert httpx.get(f"{url}/slow").text == "slow"
    assert any("BLOCKING_WARNING_THRESHOLD 0.1 s" in m and "endpoint 'slow'" in m for m in records.blocks())


PROGRAM = textwrap.dedent(
    """
    import asyncio, time
    from quaver import Quaver

    app = Quaver(__name__)
    {config}

    @app.route("/slow")
    async def slow():
        time.sleep(0.3)  # line 10
        return "slow"

    @app.route("/awaits")
    async def awaits():
        await asyncio.sleep(0.3)
        return "awaited"

    @app.route("/chunks")
    async def chunks():
        for _ in range(30):
            time.sleep(0.01)
            await asyncio.sleep(0)
        return "chunked"
    """
)

COMMANDS = {
    "hypercorn module:app": (["-m", "hypercorn", "--bind", "127.0.0.1:{port}", "served:app"], True),
    "uvicorn module:app (uvloop)": (["-m", "uvicorn", "--port", "{port}", "--loop", "uvloop", "served:app"], True),
    "quaver run --debug": (
        ["-m", "quaver", "--app", "served:app", "run", "--debug", "--no-reload", "--port", "{port}"],
        False,
    ),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_served_from_the_command_line(command: str, tmp_path: Path, free_port: int) -> None:
    args, configured = COMMANDS[command]
    config = 'app.config["BLOCKING_WARNING_THRESHOLD"] = 0.1' if configured else ""
    (tmp_path / "served.py").write_text(PROGRAM.format(config=config))
    with ServerProcess([sys.executable, *(a.format(port=free_port) for a in args)], cwd=tmp_path) as server:
        server.wait_until_serving(f"http://127.0.0.1:{free_port}/awaits")
        assert httpx.get(f"http://127.0.0.1:{free_port}/chunks").text == "chunked"
        assert httpx.get(f"http://127.0.0.1:{free_port}/slow").text == "slow"
        server.stop(signal.SIGINT, timeout=15)
    output = server.stdout + server.stderr
    assert "GET /slow (endpoint 'slow'), in the view slow()" in output, output
    assert f'{tmp_path / "served.py"}", line 10, in slow' in output
    assert "1 time, " in output  # the summary at shutdown
    for name in ("awaits", "chunks"):  # only in the access log, never in a warning
        assert name not in output.replace(f"GET /{name}", ""), output


def test_the_warning_names_the_lines_the_sample_saw_though_the_code_moved_on() -> None:
    # The loop's thread goes on while the watchdog's thread writes the warning:
    # once a blocking call returns, the view is at its next line. The warning
    # and the summary must both name the line that blocked.
    def view() -> Iterator[None]:
        yield  # where the sample finds it
        yield  # where it is by the time the warning is written

    paused = view()
    next(paused)
    frame = paused.gi_frame
    dog = Watchdog(make_app(None), 0.1)
    lines = {id(frame): frame.f_lineno}
    next(paused)
    block = _Block(key=frame, since=0.0)
    dog._describe(block, [frame], lines)
    assert block.line == (__file__, line_of("where the sample finds it"))
    assert f"line {line_of('where the sample finds it')}, in view" in block.message[1]
