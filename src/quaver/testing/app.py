"""``app.test_app()``: run an app's start-up and shutdown around a test."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app import Quaver

#: Seconds ``TestApp`` waits for the app's start-up or shutdown by default.
DEFAULT_TIMEOUT = 60


class LifespanError(RuntimeError):
    """Start-up or shutdown failed; the message says why."""


class TestApp:
    """Drives the ASGI lifespan protocol: ``async with app.test_app() as test_app:``.

    Start-up and shutdown raise ``LifespanError`` if the app reports a failure,
    crashes, or does not answer within ``startup_timeout``/``shutdown_timeout``
    seconds.
    """

    __test__ = False

    def __init__(
        self, app: Quaver, startup_timeout: float = DEFAULT_TIMEOUT, shutdown_timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.app = app
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None

    def test_client(self) -> Any:
        """The app's test client, for requests while the app is serving."""
        return self.app.test_client()

    async def _wait_for(self, stage: str, timeout: float) -> None:
        """Wait for the app's answer to ``lifespan.{stage}``; raise LifespanError unless it is ``complete``."""
        assert self._task is not None
        answer = asyncio.ensure_future(self._from_app.get())
        try:
            await asyncio.wait({answer, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not answer.done():
                answer.cancel()
        if answer.done() and not answer.cancelled():
            message = answer.result()
            if message["type"] == f"lifespan.{stage}.complete":
                return
            raise LifespanError(f"Error during {stage}: {message.get('message', message['type'])}")
        if self._task.done():
            error = self._task.exception()
            if error is not None:
                raise LifespanError(f"Error during {stage}: {type(error).__name__}: {error}") from error
            raise LifespanError(f"The app ended its lifespan during {stage} without answering")
        raise LifespanError(f"The app did not finish {stage} within {timeout} seconds")

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait until the app has started."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.ensure_future(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        try:
            await self._wait_for("startup", self.startup_timeout)
        except LifespanError:
            await self._stop_task(grace=0)
            raise

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait until the app has shut down."""
        if self._task is None:
            raise RuntimeError("The app was not started; call startup() first.")
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await self._wait_for("shutdown", self.shutdown_timeout)
        finally:
            await self._stop_task(grace=1)

    async def _stop_task(self, grace: float) -> None:
        """Give the lifespan task ``grace`` seconds to return, then cancel it."""
        task = self._task
        if task is None:
            return
        if not task.done() and grace > 0:
            await asyncio.wait({task}, timeout=grace)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> TestApp:
        await self.startup()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()
