"""What the benchmarks share about their servers: a free port on 127.0.0.1,
waiting until a server started as a child process serves, and stopping it.

The scripts in bench/wire, bench/ws and bench/films put this folder on
``sys.path`` and import it by name.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, port: int, path: str | None = None, timeout: float = 30,
                       name: str = "the server") -> None:
    """Return once ``process`` answers 200 on ``path`` (or, without a path,
    accepts a connection on ``port``); raise if it exits or ``timeout`` passes
    first (a server that did not come up is stopped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"{name} exited with {process.returncode}: {errors}")
        try:
            if path is None:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            else:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                    if response.status == 200:
                        return
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{name} did not {'listen' if path is None else 'answer'} within {timeout:g} s")


def stop(process: subprocess.Popen, first: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Send ``first`` (SIGTERM), then SIGKILL after ``timeout`` seconds, and
    reap it. A server started with ``start_new_session=True`` gets the
    signals as its process group, so Hypercorn's worker gets them too."""
    if process.poll() is not None:
        return
    try:
        group = os.getpgid(process.pid) == process.pid
    except ProcessLookupError:  # gone meanwhile
        process.wait()
        return

    def signal_it(number: int) -> None:
        try:
            if group:
                os.killpg(process.pid, number)
            else:
                process.send_signal(number)
        except ProcessLookupError:
            pass

    signal_it(first)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_it(signal.SIGKILL)
        process.wait()
