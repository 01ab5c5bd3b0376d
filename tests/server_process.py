"""A Python program serving HTTP in a child process, for tests of real servers.

    with ServerProcess([sys.executable, "app.py"], cwd=tmp_path) as server:
        server.wait_until_serving("http://127.0.0.1:8000/")
        ...
        code = server.stop(signal.SIGINT)

Output goes to files (a full pipe would block the server). Leaving the
block always ends the process, whatever happened inside it.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx


class ServerProcess:
    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.cwd = Path(cwd)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._stdout_path = self.cwd / "server.stdout"
        self._stderr_path = self.cwd / "server.stderr"

    def __enter__(self) -> ServerProcess:
        with self._stdout_path.open("wb") as stdout, self._stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=stdout, stderr=stderr)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    @property
    def stdout(self) -> str:
        return self._stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace")

    def wait_until_serving(self, url: str, timeout: float = 20, verify: ssl.SSLContext | bool = True) -> httpx.Response:
        """Poll ``url`` until it answers (any status); fail if the process ends first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {self.process.returncode} before serving\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            try:
                return httpx.get(url, timeout=2, verify=verify)
            except httpx.TransportError as error:
                last_error = error
                time.sleep(0.1)
        raise AssertionError(f"{url} did not answer within {timeout}s ({last_error!r})\nstderr:\n{self.stderr}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 5) -> int:
        """Send ``sig`` and return the exit code; fail if it takes longer than ``timeout``."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the server still runs {timeout}s after {signal.Signals(sig).name}") from None
        self.stop_seconds = time.monotonic() - started
        return code
