"""``app.test_app()``: run an app's start-up and shutdown around a test."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any


class LifespanError(RuntimeError):
    """Start-up or shutdown failed; the message says why."""


class TestApp:
    """Drives the ASGI lifespan protocol: ``async with app.test_app() as test_app:``."""

    __test__ = False

    def __init__(self, app: Any, startup_timeout: float = 60, shutdown_timeout: float = 60) -> None:
        self.app = app
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None

    def test_client(self) -> Any:
        return self.app.test_client()

    async def _wait_for(self, expected: str, timeout: float) -> None:
        message = await asyncio.wait_for(self._from_app.get(), timeout)
        if message["type"] != f"{expected}.complete":
            raise LifespanError(message.get("message", message["type"]))

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.get_running_loop().create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        await self._wait_for("lifespan.startup", self.startup_timeout)

    async def shutdown(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await self._wait_for("lifespan.shutdown", self.shutdown_timeout)
        finally:
            if self._task is not None:
                await self._task

    async def __aenter__(self) -> TestApp:
        await self.startup()
        return self

    async def __aexit__(self, exc_type: type | None, exc_value: BaseException | None, tb: TracebackType | None) -> None:
        await self.shutdown()
