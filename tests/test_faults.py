"""Faults in the app's own code: a hook, an error handler, a background task,
a streamed body, a start-up hook or a websocket handler that raises.

Each fault is logged, the client gets an answer (or, once a streamed body has
begun, a connection that ends instead of hanging), the server goes on serving
the next request, and no asyncio task is left behind. Checked through the
test client and through real servers (Hypercorn and Uvicorn, from a thread of
this process), and for start-up through ``app.run`` and ``quaver run`` in a
child process.

The apps here are not in testing mode: in testing (and debug) mode an
unhandled error propagates to the test instead, as in Flask.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from quaver import Quaver, g, request, websocket
from quaver.testing import LifespanError
from quaver.testing.websocket import WebsocketDisconnectError

sys.path.insert(0, os.path.dirname(__file__))
from server_process import ServerProcess  # noqa: E402
from threaded_server import ThreadedServer  # noqa: E402

SERVERS = ["hypercorn", "uvicorn"]
SECRET = "fault-secret-4711"


def make_app() -> Quaver:
    """An app as in production: not testing, not debug; ``/ok`` always answers."""
    app = Quaver("faults_app")
    app.secret_key = SECRET

    @app.get("/ok")
    async def ok() -> str:
        return "fine"

    return app


@contextmanager
def serving(kind: str, app: Quaver, port: int) -> Iterator[ThreadedServer]:
    server = ThreadedServer(kind, app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def running_tasks(server: ThreadedServer) -> set[asyncio.Task]:
    """The asyncio tasks running in the server's loop (not counting this probe)."""

    async def tasks() -> set[asyncio.Task]:
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert server._loop is not None
    return asyncio.run_coroutine_threadsafe(tasks(), server._loop).result(10)


#: What Hypercorn keeps of a connection the client has closed, until its
#: keep-alive timeout (5 s): the connection's own tasks, none of the app's.
HYPERCORN_IDLE_CONNECTION = {"worker_serve.<locals>._server_callback", "TCPServer._idle_timeout", "EventWrapper.wait"}


def left_running(server: ThreadedServer, baseline: set[asyncio.Task], limit: float = 10) -> set[asyncio.Task]:
    """The tasks started since ``baseline`` that still run once the server has
    settled (waiting up to ``limit`` s for connections to wind down)."""
    deadline = time.monotonic() + limit
    while True:
        extra = {
            task
            for task in running_tasks(server) - baseline
            if not task.done() and task.get_coro().__qualname__ not in HYPERCORN_IDLE_CONNECTION
        }
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


def still_serves(server: ThreadedServer, client: httpx.Client | None = None) -> None:
    """The next request is answered (on ``client``'s kept-alive connection, if given)."""
    response = (client or httpx).get(server.url + "/ok", timeout=10)
    assert (response.status_code, response.text) == (200, "fine")


def errors_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record of level ERROR or above, with its traceback, from any thread."""
    return "\n".join(
        record.getMessage() + "\n" + (caplog.handler.formatter or logging.Formatter()).formatException(record.exc_info)
        if record.exc_info
        else record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
    )


def assert_no_leak(body: str, headers: httpx.Headers | dict | None = None) -> None:
    for leak in (SECRET, "Traceback", __file__, "test_faults"):
        assert leak not in body
        if headers is not None:
            assert all(leak not in value for value in dict(headers).values())


# -- after_request ---------------------------------------------------------------
def add_failing_after_request(app: Quaver) -> None:
    @app.get("/after")
    async def after_view() -> str:
        return "computed"

    @app.after_request
    async def broken_after(response):
        if response.status_code == 200 and await response.get_data() == b"computed":
            raise RuntimeError(f"after hook broke {SECRET}")
        return response


async def test_error_in_after_request_gives_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    add_failing_after_request(app)
    client = app.test_client()
    response = await client.get("/after")
    assert response.status_code == 500
    assert_no_leak(await response.get_data(as_text=True), response.headers)
    logged = errors_logged(caplog)
    assert "Exception on /after [GET]" in logged
    assert "RuntimeError: after hook broke" in logged
    response = await client.get("/ok")
    assert await response.get_data(as_text=True) == "fine"


@pytest.mark.parametrize("kind", SERVERS)
def test_error_in_after_request_over_a_server_gives_500_and_the_server_goes_on(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    add_failing_after_request(app)
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with httpx.Client(timeout=10) as client:
            response = client.get(server.url + "/after")
            assert response.status_code == 500
            assert_no_leak(response.text, response.headers)
            still_serves(server, client)
        assert left_running(server, baseline) == set()
    assert "RuntimeError: after hook broke" in errors_logged(caplog)


# -- teardown_request / teardown_appcontext ---------------------------------------
def add_failing_teardowns(app: Quaver, ran: list[str]) -> None:
    @app.get("/teardown")
    async def teardown_view() -> str:
        g.break_teardown = True
        return "computed"

    @app.teardown_request
    async def second_teardown(exc) -> None:  # registered first, so it runs last
        ran.append("teardown_request (other)")

    @app.teardown_request
    async def broken_teardown(exc) -> None:
        if request.path == "/teardown":
            raise RuntimeError("teardown_request broke")

    @app.teardown_appcontext
    async def broken_appcontext_teardown(exc) -> None:
        if g.get("break_teardown"):  # no request here: it is popped first, as in Flask
            ran.append("teardown_appcontext")
            raise LookupError("teardown_appcontext broke")


async def test_error_in_teardown_is_logged_and_the_response_still_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Flask and Quart let a teardown error escape to the server, which then
    answers 500 in place of the response the view made. Outside testing and
    debug mode Quaver logs it instead, runs the other teardown functions, and
    delivers the response already made: teardown is cleanup after the answer."""
    app = make_app()
    ran: list[str] = []
    add_failing_teardowns(app, ran)
    client = app.test_client()
    response = await client.get("/teardown")
    assert (response.status_code, await response.get_data(as_text=True)) == (200, "computed")
    logged = errors_logged(caplog)
    assert "RuntimeError: teardown_request broke" in logged
    assert "LookupError: teardown_appcontext broke" in logged
    assert "Exception on /teardown [GET]" in logged  # the request's teardown error names the request
    assert ran == ["teardown_request (other)", "teardown_appcontext"]
    response = await client.get("/ok")
    assert await response.get_data(as_text=True) == "fine"


async def test_error_in_teardown_reaches_the_test_when_testing() -> None:
    """In testing mode the error propagates to the test, as in Flask and Quart."""
    app = make_app()
    app.testing = True
    add_failing_teardowns(app, [])
    with pytest.raises(LookupError, match="teardown_appcontext broke") as raised:
        await app.test_client().get("/teardown")
    # The app context is popped whatever happens, so its teardown runs and
    # raises last; the request's teardown error is its context, as in Flask.
    assert isinstance(raised.value.__context__, RuntimeError)
    assert str(raised.value.__context__) == "teardown_request broke"


@pytest.mark.parametrize("kind", SERVERS)
def test_error_in_teardown_over_a_server_delivers_the_response(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    add_failing_teardowns(app, [])
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with httpx.Client(timeout=10) as client:
            response = client.get(server.url + "/teardown")
            assert (response.status_code, response.text) == (200, "computed")
            still_serves(server, client)
        assert left_running(server, baseline) == set()
    logged = errors_logged(caplog)
    assert "RuntimeError: teardown_request broke" in logged
    assert "LookupError: teardown_appcontext broke" in logged


# -- error handlers that raise -------------------------------------------------------
def add_failing_error_handlers(app: Quaver) -> None:
    @app.errorhandler(404)
    async def broken_404(error):
        raise RuntimeError(f"404 handler broke {SECRET}")

    @app.get("/crash")
    async def crash() -> str:
        raise ValueError(f"view broke {SECRET}")


async def test_404_handler_that_raises_gives_a_plain_500(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    add_failing_error_handlers(app)
    client = app.test_client()
    response = await client.get("/missing")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "Internal Server Error" in body
    assert_no_leak(body, response.headers)
    assert "RuntimeError: 404 handler broke" in errors_logged(caplog)
    assert (await client.get("/ok")).status_code == 200


@pytest.mark.parametrize("kind", SERVERS)
def test_error_handlers_that_raise_over_a_server_give_a_plain_500(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A 404 handler's error goes on to the 500 handling; a 500 handler's
    error is logged and the plain 500 page sent (Flask lets it reach the
    server, which would then drop the kept-alive connection)."""
    app = make_app()
    add_failing_error_handlers(app)

    @app.errorhandler(500)
    async def broken_500(error):
        raise LookupError("500 handler broke")

    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with httpx.Client(timeout=10) as client:  # one kept-alive connection for all
            for path in ("/missing", "/crash", "/ok", "/missing", "/ok"):
                response = client.get(server.url + path)
                if path == "/ok":
                    assert (response.status_code, response.text) == (200, "fine")
                    continue
                assert response.status_code == 500
                assert "Internal Server Error" in response.text
                assert_no_leak(response.text, response.headers)
        assert left_running(server, baseline) == set()
    logged = errors_logged(caplog)
    assert "RuntimeError: 404 handler broke" in logged
    assert "ValueError: view broke" in logged
    assert "LookupError: 500 handler broke" in logged


# -- background tasks -----------------------------------------------------------------------
def add_failing_background_task(app: Quaver, done: list[str]) -> None:
    async def broken_task() -> None:
        raise RuntimeError("background task broke")

    async def good_task() -> None:
        done.append("good")

    @app.get("/spawn")
    async def spawn() -> str:
        app.add_background_task(broken_task)
        app.add_background_task(good_task)
        return "spawned"


async def test_error_in_background_task_is_logged_and_shutdown_is_clean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    done: list[str] = []
    add_failing_background_task(app, done)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        response = await client.get("/spawn")
        assert await response.get_data(as_text=True) == "spawned"
        response = await client.get("/ok")
        assert await response.get_data(as_text=True) == "fine"
    assert done == ["good"]
    assert not app.background_tasks
    assert "RuntimeError: background task broke" in errors_logged(caplog)


@pytest.mark.parametrize("kind", SERVERS)
def test_error_in_background_task_over_a_server_leaves_it_serving(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    done: list[str] = []
    add_failing_background_task(app, done)
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with httpx.Client(timeout=10) as client:
            response = client.get(server.url + "/spawn")
            assert response.text == "spawned"
            still_serves(server, client)
        assert left_running(server, baseline) == set()
    assert done == ["good"]
    assert "RuntimeError: background task broke" in errors_logged(caplog)


# -- streamed bodies ------------------------------------------------------------------------------
def add_failing_streams(app: Quaver, closed: list[str]) -> None:
    @app.get("/stream-breaks-midway")
    async def breaks_midway():
        async def generate():
            try:
                yield b"first chunk\n"
                await asyncio.sleep(0)
                raise RuntimeError(f"stream broke midway {SECRET}")
            finally:
                closed.append("midway")

        return generate()

    @app.get("/stream-breaks-at-once")
    async def breaks_at_once():
        async def generate():
            try:
                raise RuntimeError(f"stream broke at once {SECRET}")
                yield b"never"
            finally:
                closed.append("at once")

        return generate(), {"X-Stream": "yes"}

    @app.get("/sync-stream-breaks-at-once")
    def sync_breaks_at_once():
        def generate():
            raise RuntimeError("sync stream broke at once")
            yield b"never"

        return generate()


async def test_stream_that_breaks_after_its_first_chunk_is_cut_off_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    closed: list[str] = []
    add_failing_streams(app, closed)
    client = app.test_client()
    response = await client.get("/stream-breaks-midway")
    assert response.status_code == 200  # sent with the first chunk
    assert await response.get_data() == b"first chunk\n"
    assert closed == ["midway"]
    logged = errors_logged(caplog)
    assert "RuntimeError: stream broke midway" in logged
    assert "/stream-breaks-midway" in logged
    assert (await client.get("/ok")).status_code == 200


@pytest.mark.parametrize("path", ["/stream-breaks-at-once", "/sync-stream-breaks-at-once"])
async def test_stream_that_breaks_before_its_first_chunk_gives_500(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    add_failing_streams(app, [])
    client = app.test_client()
    response = await client.get(path)
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "Internal Server Error" in body
    assert "X-Stream" not in response.headers  # the 200's headers were never sent
    assert_no_leak(body, response.headers)
    assert "stream broke at once" in errors_logged(caplog)
    assert path in errors_logged(caplog)


@pytest.mark.parametrize("kind", SERVERS)
def test_stream_that_breaks_midway_over_a_server_ends_the_connection(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    closed: list[str] = []
    add_failing_streams(app, closed)
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        received = b""
        with httpx.Client(timeout=10) as client:
            with pytest.raises(httpx.RemoteProtocolError):  # an incomplete body, not a complete-looking one
                with client.stream("GET", server.url + "/stream-breaks-midway") as response:
                    assert response.status_code == 200
                    for chunk in response.iter_raw():
                        received += chunk
        assert received == b"first chunk\n"
        still_serves(server)
        assert left_running(server, baseline) == set()
    assert closed == ["midway"]
    assert "RuntimeError: stream broke midway" in errors_logged(caplog)


@pytest.mark.parametrize("kind", SERVERS)
def test_stream_that_breaks_at_once_over_a_server_gives_500(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    closed: list[str] = []
    add_failing_streams(app, closed)
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with httpx.Client(timeout=10) as client:
            for path in ("/stream-breaks-at-once", "/sync-stream-breaks-at-once"):
                response = client.get(server.url + path)
                assert response.status_code == 500
                assert "Internal Server Error" in response.text
                assert_no_leak(response.text, response.headers)
                still_serves(server, client)
        assert left_running(server, baseline) == set()
    assert closed == ["at once"]
    logged = errors_logged(caplog)
    assert "RuntimeError: stream broke at once" in logged
    assert "RuntimeError: sync stream broke at once" in logged


async def test_stream_that_breaks_at_once_in_debug_mode_shows_the_traceback() -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered, not raised into the test
    app.debug = True
    add_failing_streams(app, [])
    response = await app.test_client().get("/stream-breaks-at-once")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "stream broke at once" in body
    assert "test_faults.py" in body


# -- before_serving ----------------------------------------------------------------------------------
async def test_failing_before_serving_makes_test_app_raise_lifespan_error(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.before_serving
    async def connect_database() -> None:
        raise ConnectionRefusedError("database unreachable")

    with pytest.raises(LifespanError, match="ConnectionRefusedError: database unreachable"):
        async with app.test_app():
            pass
    logged = errors_logged(caplog)
    assert "Start-up failed: ConnectionRefusedError: database unreachable" in logged
    assert logged.count("Traceback (most recent call last)") == 1  # logged once, not once per layer


FAILING_STARTUP_APP = """
from quaver import Quaver

app = Quaver("failing_startup")

@app.before_serving
async def connect_database():
    raise ConnectionRefusedError("database unreachable")

@app.get("/")
async def index():
    return "served"

if __name__ == "__main__":
    import sys
    app.run(port=int(sys.argv[1]))
"""


def check_startup_failure(server: ServerProcess, port: int) -> None:
    """The process ends by itself, non-zero, having never served, with a one-line reason."""
    assert server.process is not None
    try:
        code = server.process.wait(30)
    except Exception:
        raise AssertionError(f"the server still runs after its start-up failed\nstderr:\n{server.stderr}") from None
    assert code != 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    lines = [line for line in server.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert "ConnectionRefusedError: database unreachable" in lines[-1]
    assert "start" in lines[-1].lower()
    assert "LifespanFailureError" not in server.stderr  # the server's own exception is not the user's business
    assert "Start-up failed: ConnectionRefusedError: database unreachable" in server.stderr  # the app's log


def test_failing_before_serving_makes_app_run_exit_with_a_clear_message(tmp_path: Path, free_port: int) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(FAILING_STARTUP_APP))
    with ServerProcess([sys.executable, "app.py", str(free_port)], cwd=tmp_path) as server:
        check_startup_failure(server, free_port)


def test_failing_before_serving_makes_quaver_run_exit_with_a_clear_message(tmp_path: Path, free_port: int) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(FAILING_STARTUP_APP))
    quaver = Path(sys.executable).with_name("quaver")
    args = [str(quaver), "--app", "app", "run", "--port", str(free_port)]
    with ServerProcess(args, cwd=tmp_path) as server:
        check_startup_failure(server, free_port)


# -- websockets ----------------------------------------------------------------------------------------
def add_failing_websocket(app: Quaver) -> None:
    @app.websocket("/ws")
    async def broken_ws() -> None:
        await websocket.accept()
        message = await websocket.receive()
        raise RuntimeError(f"websocket handler broke on {message!r}")


async def test_error_in_websocket_handler_after_accept_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    add_failing_websocket(app)
    client = app.test_client()
    async with client.websocket("/ws") as ws:
        await ws.send("hello")
        with pytest.raises(WebsocketDisconnectError) as closed:
            await ws.receive()
    assert closed.value.code == 1011
    logged = errors_logged(caplog)
    assert "RuntimeError: websocket handler broke on 'hello'" in logged
    assert "Exception on /ws [GET]" in logged
    assert (await client.get("/ok")).status_code == 200


async def test_error_in_teardown_websocket_is_logged_and_the_close_is_normal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    @app.websocket("/ws-echo")
    async def echo() -> None:
        await websocket.send(await websocket.receive())

    @app.teardown_websocket
    async def broken_teardown(exc) -> None:
        raise RuntimeError("teardown_websocket broke")

    async with app.test_client().websocket("/ws-echo") as ws:
        await ws.send("hi")
        assert await ws.receive() == "hi"
        with pytest.raises(WebsocketDisconnectError) as closed:
            await ws.receive()
    assert closed.value.code == 1000
    logged = errors_logged(caplog)
    assert "RuntimeError: teardown_websocket broke" in logged
    assert "Exception on /ws-echo [GET]" in logged


@pytest.mark.parametrize("kind", SERVERS)
def test_error_in_websocket_handler_over_a_server_closes_with_1011(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    add_failing_websocket(app)
    with serving(kind, app, free_port) as server:
        baseline = running_tasks(server)
        with ws_connect(f"ws://127.0.0.1:{free_port}/ws", open_timeout=10) as ws:
            ws.send("hello")
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1011
        still_serves(server)
        assert left_running(server, baseline) == set()
    assert "RuntimeError: websocket handler broke on 'hello'" in errors_logged(caplog)
