"""A real server (Hypercorn or Uvicorn) serving an app from a thread of the test process.

    server = ThreadedServer("hypercorn", app, free_port)
    server.start()
    try:
        ...  # talk to server.url with httpx, websockets, a socket
    finally:
        server.stop()

Both bind 127.0.0.1. ``stop`` asks the server to shut down as a signal would
and fails the test if it is still running after ``timeout`` or died with an error.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any


class ThreadedServer:
    """``kind`` ("hypercorn" or "uvicorn") serving ``app`` on 127.0.0.1:``port``
    from its own thread and event loop."""

    def __init__(self, kind: str, app: Any, port: int) -> None:
        self.kind = kind
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=f"{kind}-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start() or stop()
            self.error = error

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.kind == "hypercorn":
            from hypercorn.asyncio import serve
            from hypercorn.config import Config

            config = Config()
            config.bind = [f"127.0.0.1:{self.port}"]
            config.accesslog = None
            config.graceful_timeout = 2
            await serve(self.app, config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]
        else:
            import uvicorn

            server = uvicorn.Server(
                uvicorn.Config(self.app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning")
            )
            serving = asyncio.create_task(server.serve())
            stopping = asyncio.create_task(self._stop.wait())
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            stopping.cancel()
            await serving

    def start(self, timeout: float = 10) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise AssertionError(f"{self.kind} stopped before serving: {self.error!r}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.kind} was not listening on port {self.port} after {timeout}s")

    def stop(self, timeout: float = 10) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self.kind} still running {timeout}s after being told to stop"
        assert self.error is None, f"{self.kind} failed: {self.error!r}"
