"""``redis://``, ``rediss://``, ``unix://``: Redis (or Valkey) pub/sub through
redis-py's asyncio client.

One connection per process listens to every channel this process's
subscribers use (SUBSCRIBE); publishing goes through a small pool. When the
listening connection is lost, a task reconnects (backing off from 0.1 s to
1 s) and subscribes again to every channel in use."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..utils import cancel_tasks
from .base import Deliver, InvalidURL, PublishError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger("quaver.pubsub")
#: Seconds to wait for a connection to the broker.
CONNECT_TIMEOUT = 2.0
#: Seconds between checks that an idle listening connection is alive.
HEALTH_CHECK_INTERVAL = 5.0
RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0)


class RedisBackend:
    def __init__(self, url: str) -> None:
        # redis-py is the pubsub extra's optional dependency: loaded once a redis:// URL is used.
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        #: What a lost or refusing broker raises.
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        try:
            self._client = aioredis.Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=CONNECT_TIMEOUT * 2,
                retry=Retry(NoBackoff(), 1),
                health_check_interval=HEALTH_CHECK_INTERVAL,
            )
        except ValueError as error:
            raise InvalidURL(f"pub/sub URL {url!r} cannot be parsed: {error}") from None
        self.connected = False
        self._channels: set[str] = set()
        self._pubsub: aioredis.client.PubSub | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._wanted = asyncio.Event()  # set while there are channels to listen to
        self._deliver: Deliver | None = None
        self._failures = 0  # connection attempts failed in a row
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._task = asyncio.create_task(self._listen(), name="quaver.pubsub redis listener")

    async def close(self) -> None:
        if self._task is not None:
            await cancel_tasks([self._task])
            self._task = None
        await self._client.aclose()
        self.connected = False

    async def publish(self, channel: str, payload: str) -> None:
        try:
            await self._client.publish(channel, payload)
        except self._errors as error:
            raise PublishError(f"Redis is unavailable: {error}") from None

    async def listen(self, channel: str) -> None:
        self._channels.add(channel)
        self._wanted.set()
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        try:
            if self._pubsub is not None:
                await self._pubsub.subscribe(channel)
            if not self._failures:  # not known to be down: wait until what is published reaches us
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await confirmed.wait()
        except self._errors:  # TimeoutError among them (an OSError)
            pass  # the listener reconnects and subscribes again

    async def unlisten(self, channel: str) -> None:
        self._channels.discard(channel)
        self._confirmed.pop(channel, None)
        if not self._channels:
            self._wanted.clear()
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except self._errors:
                pass

    async def _listen(self) -> None:
        """Listen until cancelled, reconnecting whenever the connection is lost."""
        while True:
            await self._wanted.wait()
            if not self._channels:
                self._wanted.clear()
                continue
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(*self._channels)
                self._pubsub = pubsub
                missed = self._channels - {name.decode() for name in pubsub.channels}
                if missed:  # subscribed to while this connection was being made
                    await pubsub.subscribe(*missed)
                while True:
                    message = await pubsub.get_message(timeout=HEALTH_CHECK_INTERVAL)
                    if message is None:
                        if not self._channels and not pubsub.subscribed:
                            break  # nothing to listen to: wait for a subscriber
                        continue
                    kind, channel = message["type"], message["channel"].decode()
                    if kind == "message":
                        assert self._deliver is not None
                        self._deliver(channel, message["data"])
                    elif kind == "subscribe":
                        if not self.connected:
                            self.connected = True
                            if self._failures:
                                logger.warning("Redis is back: listening again.")
                            self._failures = 0
                        event = self._confirmed.get(channel)
                        if event is not None:
                            event.set()
            except self._errors as error:
                if self.connected or not self._failures:
                    logger.warning(f"Lost Redis ({error}): reconnecting.")
                self.connected = False
                self._failures += 1
            finally:
                self._pubsub = None
                for event in self._confirmed.values():
                    event.clear()
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
                except self._errors:
                    pass
            if self._failures:
                await asyncio.sleep(RECONNECT_DELAYS[min(self._failures, len(RECONNECT_DELAYS)) - 1])


def make_backend(url: str) -> RedisBackend:
    return RedisBackend(url)
