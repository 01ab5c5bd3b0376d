"""``postgresql://``, ``postgres://``: PostgreSQL's LISTEN/NOTIFY through
asyncpg.

One connection per process LISTENs to every channel this process's
subscribers use; publishing runs ``pg_notify`` through a small pool. When
the listening connection is lost (noticed at once when the server closes it,
else by a check every few seconds), a task reconnects (backing off from
0.1 s to 1 s) and LISTENs again to every channel in use."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..utils import cancel_tasks
from .base import Deliver, PublishError

if TYPE_CHECKING:
    import asyncpg

logger = logging.getLogger("quaver.pubsub")
#: Seconds to wait for a connection to the server.
CONNECT_TIMEOUT = 2.0
#: Seconds between checks that an idle listening connection is alive.
HEALTH_CHECK_INTERVAL = 5.0
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0)


class PostgresBackend:
    def __init__(self, url: str) -> None:
        # asyncpg is the pubsub extra's optional dependency: loaded once a postgresql:// URL is used.
        import asyncpg

        self._asyncpg = asyncpg
        #: What a lost or refusing server raises.
        self._errors: tuple[type[Exception], ...] = (
            OSError, asyncpg.PostgresError, asyncpg.InterfaceError
        )
        self.url = url
        self.connected = False
        self._channels: set[str] = set()
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one operation at a time on the listening connection
        self._pool: asyncpg.Pool | None = None
        self._deliver: Deliver | None = None
        self._failures = 0
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()  # set while listening

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        # min_size=0: nothing is connected until a publish, so a server that
        # is down at start-up is no error; closed connections are replaced.
        self._pool = await self._asyncpg.create_pool(
            self.url, min_size=0, max_size=4, timeout=CONNECT_TIMEOUT, command_timeout=CONNECT_TIMEOUT * 2
        )
        self._task = asyncio.create_task(self._listen(), name="quaver.pubsub postgres listener")
        try:  # a server that answers is listened to before start() returns
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await self._up.wait()
        except TimeoutError:
            pass

    async def close(self) -> None:
        if self._task is not None:
            await cancel_tasks([self._task])
            self._task = None
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
        self.connected = False

    async def publish(self, channel: str, payload: str) -> None:
        assert self._pool is not None
        try:
            await self._pool.execute("SELECT pg_notify($1, $2)", channel, payload)
        except self._errors as error:
            raise PublishError(f"PostgreSQL is unavailable: {error or type(error).__name__}") from None

    async def listen(self, channel: str) -> None:
        self._channels.add(channel)
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                try:
                    await self._connection.add_listener(channel, self._notified)
                except self._errors:
                    pass  # the listener reconnects and LISTENs again

    async def unlisten(self, channel: str) -> None:
        self._channels.discard(channel)
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                try:
                    await self._connection.remove_listener(channel, self._notified)
                except self._errors:
                    pass

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        assert self._deliver is not None
        self._deliver(channel, payload)

    async def _listen(self) -> None:
        """Listen until cancelled, reconnecting whenever the connection is lost."""
        while True:
            lost = asyncio.Event()
            connection: asyncpg.Connection | None = None
            try:
                connection = await self._asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
                # This attempt's event: a late call from an old connection must not end the next attempt.
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                async with self._lock:
                    for channel in list(self._channels):
                        await connection.add_listener(channel, self._notified)
                    self._connection = connection
                self.connected = True
                self._up.set()
                if self._failures:
                    logger.warning("PostgreSQL is back: listening again.")
                self._failures = 0
                while not lost.is_set():
                    try:
                        async with asyncio.timeout(HEALTH_CHECK_INTERVAL):
                            await lost.wait()
                    except TimeoutError:
                        async with self._lock:
                            await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT)
                raise ConnectionError("the server closed the connection")
            except self._errors as error:  # ConnectionError among them (an OSError)
                if self.connected or not self._failures:
                    logger.warning(f"Lost PostgreSQL ({error or type(error).__name__}): reconnecting.")
                self._failures += 1
            finally:
                self.connected = False
                self._up.clear()
                self._connection = None
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            await asyncio.sleep(RECONNECT_DELAYS[min(self._failures, len(RECONNECT_DELAYS)) - 1])


def make_backend(url: str) -> PostgresBackend:
    return PostgresBackend(url)
