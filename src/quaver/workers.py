"""``quaver run --workers N``: N processes serving one app on one socket.

As Hypercorn's own workers: the supervisor binds the socket and starts each
worker with ``multiprocessing``'s spawn, and every worker loads the app anew.
Each worker then serves as ``app.run()`` does, so each keeps Quaver's
shutdown (GRACEFUL_SHUTDOWN_TIMEOUT, websockets closed with 1001, a failing
``before_serving`` exits 1 with its reason). The supervisor passes signals
on: the first SIGINT or SIGTERM starts every worker's graceful shutdown, a
second one makes them quit at once. A worker that fails stops the others,
and the supervisor exits 1.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import wait
from types import FrameType
from typing import TYPE_CHECKING

from .serving import hypercorn_config, serve_until_stopped

if TYPE_CHECKING:
    from .app import Quaver


def run_workers(
    load_app: Callable[[], Quaver],
    workers: int,
    host: str = "127.0.0.1",
    port: int = 5000,
    debug: bool | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> int:
    """Serve the app ``load_app()`` returns (a picklable callable: each
    worker calls it) in ``workers`` processes; the exit code."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        print(f" * Address {host}:{port} cannot be used: {error.strerror}.", file=sys.stderr, flush=True)
        return 1
    listener.listen(2048)
    listener.set_inheritable(True)
    scheme = "https" if certfile and keyfile else "http"
    print(f" * Running on {scheme}://{host}:{port} with {workers} workers (CTRL + C to quit)", flush=True)

    context = get_context("spawn")
    processes = [
        context.Process(
            target=_worker,
            args=(load_app, listener, debug, certfile, keyfile),
            name=f"quaver worker {number}",
        )
        for number in range(1, workers + 1)
    ]
    signals: list[int] = []

    def on_signal(number: int, frame: FrameType | None) -> None:
        signals.append(number)
        for process in processes:  # the first: graceful; the second: at once
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            if not signals:
                process.start()
        code = 0
        running = [process for process in processes if process.pid is not None]
        while running:
            wait([process.sentinel for process in running], timeout=1)
            for process in [process for process in running if process.exitcode is not None]:
                running.remove(process)
                if process.exitcode != 0 and not signals:  # failed by itself: stop the others
                    code = 1
                    for other in running:
                        os.kill(other.pid, signal.SIGTERM)  # type: ignore[arg-type]
                    signals.append(signal.SIGTERM)
                elif process.exitcode != 0 and len(signals) < 2:
                    code = 1
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listener.close()
    if len(signals) >= 2:
        print(" * Quit without waiting.", flush=True)
        return 128 + signals[-1]
    return code


def _worker(
    load_app: Callable[[], Quaver],
    listener: socket.socket,
    debug: bool | None,
    certfile: str | None,
    keyfile: str | None,
) -> None:
    """One worker: load the app, then serve it on the shared socket until a signal."""
    os.setpgid(0, 0)  # a Ctrl-C in the terminal reaches the supervisor only, which passes it on
    app = load_app()
    if debug is not None:
        app.debug = debug
    config = hypercorn_config(app, f"fd://{listener.fileno()}", None, certfile, keyfile)
    print(f" * Worker {os.getpid()} serving Quaver app '{app.name}'", flush=True)
    serve_until_stopped(app, config, False, None, str(listener.getsockname()))
