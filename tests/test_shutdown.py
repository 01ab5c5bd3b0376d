"""Stopping a real server with SIGTERM or Ctrl-C (SIGINT): requests in
flight finish within GRACEFUL_SHUTDOWN_TIMEOUT or are cut, websockets are
closed, background tasks are awaited up to BACKGROUND_TASK_SHUTDOWN_TIMEOUT,
the serving hooks run, and the process exits.

Each test runs the program below in a child process (``app.run()``,
``quaver run`` or Uvicorn) and talks to it with real clients. Views in flight
report through files that they are running, and wait for a file the test
writes before they finish, so that the signal always lands mid-request.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_process import ServerProcess
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

PROGRAM = """\
import asyncio
import sys
import time
from pathlib import Path

from quaver import Quaver, request, websocket

app = Quaver(__name__)
app.config.from_prefixed_env()
HERE = Path(__file__).parent


def mark(name, text="yes"):
    (HERE / name).write_text(text)


async def released(name):
    while not (HERE / name).exists():
        await asyncio.sleep(0.02)


@app.while_serving
async def lifespan():
    mark("while-serving-started")
    yield
    mark("while-serving-finished")


@app.after_serving
async def goodbye():
    mark("after-serving", "background task done: " + str((HERE / "bg-done").exists()))


@app.get("/ping")
async def ping():
    return "pong"


@app.get("/slow")
async def slow():
    mark("slow-started")
    try:
        await released("release-slow")
    except asyncio.CancelledError:
        mark("slow-cancelled")
        raise
    return "slow done"


@app.get("/slow-sync")
def slow_sync():  # runs in a thread, which cancelling the request cannot stop
    mark("slow-started")
    while not (HERE / "release-slow").exists():
        time.sleep(0.02)
    return "slow done"


@app.get("/stream")
async def stream():
    async def chunks():
        yield "first\\n"
        try:
            await released("release-stream")
        except asyncio.CancelledError:
            mark("stream-cancelled")
            raise
        for number in range(3):
            yield f"chunk {number}\\n"
        yield "last\\n"

    return chunks(), {"Content-Type": "text/plain"}


@app.websocket("/ws")
async def ws():
    await websocket.accept()
    await websocket.send("ready")
    try:
        while True:
            await websocket.send(await websocket.receive())
    finally:
        mark("ws-handler-ended")


async def short_job():
    mark("bg-started")
    await app.shutdown_event.wait()  # still at work when shutdown starts
    await asyncio.sleep(0.5)
    mark("bg-done")


async def endless_job():
    mark("bg-started")
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        mark("bg-cancelled")
        raise


def sync_endless_job():
    mark("bg-started")
    time.sleep(3600)


@app.post("/jobs/<kind>")
async def start_job(kind):
    jobs = {"short": short_job, "endless": endless_job, "sync-endless": sync_endless_job}
    app.add_background_task(jobs[kind])
    return "started", 202


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]))
"""

SIGNALS = [signal.SIGTERM, signal.SIGINT]
SIGNAL_IDS = ["SIGTERM", "SIGINT"]


def wait_for_file(path: Path, server: ServerProcess, timeout: float = 10) -> None:
    """Wait until ``path`` exists; fail if the server exits or it never appears."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert server.process is not None
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited before {path.name} appeared\nstderr:\n{server.stderr}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {timeout}s\nstderr:\n{server.stderr}")
        time.sleep(0.02)


def wait_for_output(server: ServerProcess, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.stdout + server.stderr:
        if time.monotonic() > deadline:
            output = f"stdout:\n{server.stdout}\nstderr:\n{server.stderr}"
            raise AssertionError(f"{text!r} not printed within {timeout}s\n{output}")
        time.sleep(0.02)


def send_signal(server: ServerProcess, sig: int) -> Future[int]:
    """Send ``sig`` and return a future of the exit code (waited for in a thread)."""
    assert server.process is not None
    server.process.send_signal(sig)
    pool = ThreadPoolExecutor(1)
    future = pool.submit(server.process.wait, 30)
    pool.shutdown(wait=False)
    return future


def assert_clean_exit(server: ServerProcess, code: int) -> None:
    assert code == 0, f"exit code {code}\nstdout:\n{server.stdout}\nstderr:\n{server.stderr}"
    assert "Traceback" not in server.stderr, server.stderr


@contextmanager
def serving(tmp_path: Path, port: int, how: str = "app.run", **config: Any) -> Iterator[ServerProcess]:
    """The program served ``how``, with ``config`` set through QUAVER_* variables."""
    (tmp_path / "app.py").write_text(PROGRAM)
    env = {f"QUAVER_{key}": str(value) for key, value in config.items()}
    if how == "app.run":
        command = [sys.executable, "app.py", str(port)]
    elif how == "quaver run":
        command = [str(Path(sys.executable).parent / "quaver"), "--app", "app:app", "run", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)]
    with ServerProcess(command, cwd=tmp_path, env=env) as server:
        server.wait_until_serving(f"http://127.0.0.1:{port}/ping")
        yield server


def in_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(func, *args, **kwargs)
    pool.shutdown(wait=False)
    return future


# ----------------------------------------------------------------------
# Requests in flight
# ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["app.run", "quaver run"])
@pytest.mark.parametrize("stop_signal", SIGNALS, ids=SIGNAL_IDS)
def test_a_request_in_flight_gets_its_full_response_and_the_exit_code_is_0(
    tmp_path: Path, free_port: int, stop_signal: int, how: str
) -> None:
    with serving(tmp_path, free_port, how) as server:
        response = in_thread(httpx.get, f"http://127.0.0.1:{free_port}/slow", timeout=30)
        wait_for_file(tmp_path / "slow-started", server)
        exited = send_signal(server, stop_signal)
        wait_for_output(server, "Stopping")
        (tmp_path / "release-slow").write_text("")
        assert response.result(timeout=20).text == "slow done"
        code = exited.result(timeout=20)
    assert_clean_exit(server, code)
    assert (tmp_path / "after-serving").exists()
    assert (tmp_path / "while-serving-finished").exists()


def test_new_connections_are_refused_while_a_request_finishes(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, GRACEFUL_SHUTDOWN_TIMEOUT=30) as server:
        response = in_thread(httpx.get, f"http://127.0.0.1:{free_port}/slow", timeout=40)
        wait_for_file(tmp_path / "slow-started", server)
        exited = send_signal(server, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:  # the listening socket closes soon after the signal
            try:
                httpx.get(f"http://127.0.0.1:{free_port}/ping", timeout=2)
            except httpx.ConnectError:
                break
            assert time.monotonic() < deadline, "new connections still accepted 10 s after SIGTERM"
            time.sleep(0.05)
        assert not exited.done(), "the server did not wait for the request in flight"
        (tmp_path / "release-slow").write_text("")
        assert response.result(timeout=20).text == "slow done"
        assert_clean_exit(server, exited.result(timeout=20))


@pytest.mark.parametrize("view", ["slow", "slow-sync"])
def test_a_request_still_running_after_the_grace_period_is_cut_and_the_process_exits(
    tmp_path: Path, free_port: int, view: str
) -> None:
    with serving(tmp_path, free_port, GRACEFUL_SHUTDOWN_TIMEOUT=1) as server:
        response = in_thread(httpx.get, f"http://127.0.0.1:{free_port}/{view}", timeout=30)
        wait_for_file(tmp_path / "slow-started", server)
        code = server.stop(signal.SIGTERM, timeout=15)
        cut = response.result(timeout=10)
    # Hypercorn answers a request whose view was cancelled before responding with 500.
    assert cut.status_code == 500
    assert cut.headers["connection"] == "close"
    assert_clean_exit(server, code)
    if view == "slow":
        assert (tmp_path / "slow-cancelled").exists()  # the view was cancelled: its finally blocks ran
    else:
        assert "1 sync function(s) still running in threads after shutdown: exiting without them." in server.stderr
    assert (tmp_path / "after-serving").exists()


def stream_lines(url: str, first_chunk: threading.Event) -> list[str]:
    lines = []
    with httpx.stream("GET", url, timeout=30) as response:
        for line in response.iter_lines():
            lines.append(line)
            first_chunk.set()
    return lines


@pytest.mark.parametrize("stop_signal", SIGNALS, ids=SIGNAL_IDS)
def test_a_streamed_response_in_flight_is_sent_to_its_end(tmp_path: Path, free_port: int, stop_signal: int) -> None:
    with serving(tmp_path, free_port) as server:
        first_chunk = threading.Event()
        lines = in_thread(stream_lines, f"http://127.0.0.1:{free_port}/stream", first_chunk)
        assert first_chunk.wait(10), server.stderr
        exited = send_signal(server, stop_signal)
        wait_for_output(server, "Stopping")
        (tmp_path / "release-stream").write_text("")
        assert lines.result(timeout=20) == ["first", "chunk 0", "chunk 1", "chunk 2", "last"]
        assert_clean_exit(server, exited.result(timeout=20))


def test_a_streamed_response_still_running_after_the_grace_period_is_cut(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, GRACEFUL_SHUTDOWN_TIMEOUT=1) as server:
        first_chunk = threading.Event()
        lines = in_thread(stream_lines, f"http://127.0.0.1:{free_port}/stream", first_chunk)
        assert first_chunk.wait(10), server.stderr
        code = server.stop(signal.SIGTERM, timeout=15)
        with pytest.raises(httpx.RemoteProtocolError):  # the body ended before its last chunk
            lines.result(timeout=10)
    assert_clean_exit(server, code)
    assert (tmp_path / "stream-cancelled").exists()


# ----------------------------------------------------------------------
# WebSockets
# ----------------------------------------------------------------------
@pytest.mark.parametrize("stop_signal", SIGNALS, ids=SIGNAL_IDS)
def test_an_open_websocket_is_closed_with_1001_going_away_and_its_handler_ends(
    tmp_path: Path, free_port: int, stop_signal: int
) -> None:
    # A long grace period: the websocket must not hold the shutdown up to it.
    with serving(tmp_path, free_port, GRACEFUL_SHUTDOWN_TIMEOUT=60) as server:
        with connect(f"ws://127.0.0.1:{free_port}/ws", open_timeout=10) as ws:
            assert ws.recv(timeout=10) == "ready"
            ws.send("hello")
            assert ws.recv(timeout=10) == "hello"
            exited = send_signal(server, stop_signal)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None, "closed without a close frame"
        assert closed.value.rcvd.code == 1001
        assert_clean_exit(server, exited.result(timeout=20))
    assert (tmp_path / "ws-handler-ended").exists()
    assert (tmp_path / "after-serving").exists()


# ----------------------------------------------------------------------
# Background tasks and serving hooks
# ----------------------------------------------------------------------
@pytest.mark.parametrize("stop_signal", SIGNALS, ids=SIGNAL_IDS)
def test_a_background_task_that_finishes_in_time_completes_before_after_serving(
    tmp_path: Path, free_port: int, stop_signal: int
) -> None:
    with serving(tmp_path, free_port, BACKGROUND_TASK_SHUTDOWN_TIMEOUT=30) as server:
        assert httpx.post(f"http://127.0.0.1:{free_port}/jobs/short", timeout=10).status_code == 202
        wait_for_file(tmp_path / "bg-started", server)
        code = server.stop(stop_signal, timeout=20)
    assert_clean_exit(server, code)
    assert (tmp_path / "bg-done").exists()
    assert (tmp_path / "after-serving").read_text() == "background task done: True"
    assert (tmp_path / "while-serving-finished").exists()


def test_a_background_task_that_runs_too_long_is_cancelled_with_a_log_line(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, BACKGROUND_TASK_SHUTDOWN_TIMEOUT=1) as server:
        assert httpx.post(f"http://127.0.0.1:{free_port}/jobs/endless", timeout=10).status_code == 202
        wait_for_file(tmp_path / "bg-started", server)
        code = server.stop(signal.SIGTERM, timeout=20)
    assert_clean_exit(server, code)
    assert (tmp_path / "bg-cancelled").exists()
    assert "Cancelled background task 'endless_job'" in server.stderr
    assert "BACKGROUND_TASK_SHUTDOWN_TIMEOUT (1 s)" in server.stderr
    assert (tmp_path / "after-serving").exists()


def test_a_sync_background_task_that_runs_too_long_does_not_keep_the_process_alive(
    tmp_path: Path, free_port: int
) -> None:
    with serving(tmp_path, free_port, BACKGROUND_TASK_SHUTDOWN_TIMEOUT=1) as server:
        assert httpx.post(f"http://127.0.0.1:{free_port}/jobs/sync-endless", timeout=10).status_code == 202
        wait_for_file(tmp_path / "bg-started", server)
        code = server.stop(signal.SIGTERM, timeout=20)
    assert_clean_exit(server, code)
    assert "Cancelled background task 'sync_endless_job'" in server.stderr
    assert "1 sync function(s) still running in threads after shutdown: exiting without them." in server.stderr
    assert (tmp_path / "after-serving").exists()


def test_with_http_3_on_an_idle_server_stops_without_waiting_out_the_grace_period(
    tmp_path: Path, free_port: int
) -> None:
    trustme = pytest.importorskip("trustme")
    pytest.importorskip("aioquic")
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    issued.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    with_tls = "app.run(port=int(sys.argv[1]), certfile='cert.pem', keyfile='key.pem')"
    (tmp_path / "app.py").write_text(PROGRAM.replace("app.run(port=int(sys.argv[1]))", with_tls))
    env = {"QUAVER_GRACEFUL_SHUTDOWN_TIMEOUT": "60"}
    with ServerProcess([sys.executable, "app.py", str(free_port)], cwd=tmp_path, env=env) as server:
        server.wait_until_serving(f"https://127.0.0.1:{free_port}/ping", verify=False)
        assert "HTTP/3 (QUIC" in server.stdout
        code = server.stop(signal.SIGTERM, timeout=20)  # far less than the 60 s grace period
    assert_clean_exit(server, code)
    assert (tmp_path / "after-serving").exists()


# ----------------------------------------------------------------------
# A second Ctrl-C
# ----------------------------------------------------------------------
def test_a_second_ctrl_c_during_the_grace_period_exits_at_once(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, GRACEFUL_SHUTDOWN_TIMEOUT=60) as server:
        response = in_thread(httpx.get, f"http://127.0.0.1:{free_port}/slow", timeout=60)
        wait_for_file(tmp_path / "slow-started", server)
        assert server.process is not None
        server.process.send_signal(signal.SIGINT)
        wait_for_output(server, "Ctrl-C again")
        code = server.stop(signal.SIGINT, timeout=10)  # well before the 60 s grace period
        with pytest.raises(httpx.TransportError):
            response.result(timeout=10)
    assert code == -signal.SIGINT  # ended by the signal's default action, as a second Ctrl-C should
    assert "SIGINT again: quitting without waiting." in server.stdout
    assert not (tmp_path / "after-serving").exists()


# ----------------------------------------------------------------------
# Uvicorn: its own grace period, Quaver's lifespan shutdown
# ----------------------------------------------------------------------
def assert_uvicorn_clean_exit(server: ServerProcess, code: int) -> None:
    # After its shutdown Uvicorn raises the signal it caught again, with the
    # default action: the process ends "killed by SIGTERM".
    assert code == -signal.SIGTERM, f"exit code {code}\nstderr:\n{server.stderr}"
    assert "Application shutdown complete." in server.stderr
    assert "Traceback" not in server.stderr, server.stderr


def test_on_uvicorn_sigterm_finishes_the_request_awaits_background_tasks_and_runs_after_serving(
    tmp_path: Path, free_port: int
) -> None:
    with serving(tmp_path, free_port, "uvicorn", BACKGROUND_TASK_SHUTDOWN_TIMEOUT=30) as server:
        assert httpx.post(f"http://127.0.0.1:{free_port}/jobs/short", timeout=10).status_code == 202
        wait_for_file(tmp_path / "bg-started", server)
        response = in_thread(httpx.get, f"http://127.0.0.1:{free_port}/slow", timeout=30)
        wait_for_file(tmp_path / "slow-started", server)
        exited = send_signal(server, signal.SIGTERM)
        wait_for_output(server, "Shutting down")
        (tmp_path / "release-slow").write_text("")
        assert response.result(timeout=20).text == "slow done"
        assert_uvicorn_clean_exit(server, exited.result(timeout=20))
    assert (tmp_path / "bg-done").exists()
    assert (tmp_path / "after-serving").read_text() == "background task done: True"
    assert (tmp_path / "while-serving-finished").exists()


def test_on_uvicorn_a_background_task_that_runs_too_long_is_cancelled(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, "uvicorn", BACKGROUND_TASK_SHUTDOWN_TIMEOUT=1) as server:
        assert httpx.post(f"http://127.0.0.1:{free_port}/jobs/endless", timeout=10).status_code == 202
        wait_for_file(tmp_path / "bg-started", server)
        code = server.stop(signal.SIGTERM, timeout=20)
    assert_uvicorn_clean_exit(server, code)
    assert (tmp_path / "bg-cancelled").exists()
    assert "Cancelled background task 'endless_job'" in server.stderr
    assert (tmp_path / "after-serving").exists()


def test_on_uvicorn_an_open_websocket_is_closed_with_1012_and_its_handler_ends(tmp_path: Path, free_port: int) -> None:
    with serving(tmp_path, free_port, "uvicorn") as server:
        with connect(f"ws://127.0.0.1:{free_port}/ws", open_timeout=10) as ws:
            assert ws.recv(timeout=10) == "ready"
            exited = send_signal(server, signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None, "closed without a close frame"
        assert closed.value.rcvd.code == 1012  # Uvicorn's choice: service restart
        assert_uvicorn_clean_exit(server, exited.result(timeout=20))
    assert (tmp_path / "ws-handler-ended").exists()
    assert (tmp_path / "after-serving").exists()
