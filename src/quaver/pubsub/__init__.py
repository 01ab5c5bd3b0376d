"""Publish/subscribe across processes and hosts, for websockets and
server-sent events.

    pubsub = PubSub(app, "redis://127.0.0.1:6379/0")   # or memory://, postgresql://...

    await pubsub.publish("room", {"name": "ada", "text": "hello"})

    async with pubsub.subscribe("room") as messages:
        async for message in messages:
            await websocket.send_json(message)

The backend is chosen by the URL's scheme and connected while the app
serves (``while_serving``). Semantics are the same on every backend:

- A message is a JSON-able value, at most ``max_message_size`` bytes as JSON
  (default 7,999, PostgreSQL's NOTIFY limit); larger ones raise
  MessageTooLarge. Subscribers get the decoded JSON, one object shared by
  the process's subscribers of the channel: read it, do not change it.
- Per channel, one publisher's messages arrive in the order published.
- Each subscription has a bounded queue (``queue_size``, default 1,000). A
  subscriber that falls that far behind misses the newer messages (counted
  in ``subscription.dropped``, logged once); publishers and other subscribers
  never wait for it.
- While the broker is away, ``publish`` raises PublishError at once (or
  after ``publish_timeout`` seconds at most, never a hang); subscribers
  receive nothing and stay subscribed; messages published meanwhile are
  lost. The backend reconnects by itself (within about a second of the
  broker's return) and subscriptions resume. ``pubsub.connected`` tells.
- When the app stops serving, iteration over a subscription ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import Any

from . import memory, postgres, redis
from .base import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_QUEUE_SIZE,
    Backend,
    InvalidURL,
    MessageTooLarge,
    PublishError,
    PubSubError,
    backend_module,
    check_channel,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_QUEUE_SIZE",
    "InvalidURL",
    "MessageTooLarge",
    "PubSub",
    "PubSubError",
    "PublishError",
    "Subscription",
]

logger = logging.getLogger("quaver.pubsub")
_UNDECODED = object()
_NOT_JSON = object()


class PubSub:
    """An app's connection to a broker, chosen by ``url``. With ``app``
    (or ``init_app(app)``) it starts and closes with the app's serving; it
    also starts by itself on first use (scripts, the test client)."""

    def __init__(
        self,
        app: Any = None,
        url: str | None = None,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        publish_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.queue_size = queue_size
        self.max_message_size = max_message_size
        self.publish_timeout = publish_timeout
        self.backend: Backend | None = None
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._starting: asyncio.Future[None] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Start with the app's serving and close after it. The URL, if not
        given, is the app's ``PUBSUB_URL`` config (``memory://`` if unset)."""
        if self.url is None:
            self.url = app.config.get("PUBSUB_URL", "memory://")
        app.extensions["pubsub"] = self

        async def serving() -> AsyncGenerator[None, None]:
            await self.start()
            yield
            await self.close()

        app.while_serving(serving)

    @property
    def connected(self) -> bool:
        """True while the backend is connected and listening."""
        return self.backend is not None and self.backend.connected

    async def start(self) -> None:
        """Make the backend the URL names and start it. InvalidURL (a one-line
        reason) if the URL cannot be parsed or names no backend; a broker
        that is down is not an error (it is waited for)."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_future()
            try:
                self.backend = _make_backend(self.url or "memory://")
                await self.backend.start(self._deliver)
            except BaseException as error:
                self._starting.set_exception(error)
                self._starting.exception()  # retrieved: raised below, and to later callers
                self._starting = None
                raise
            self._starting.set_result(None)
        await asyncio.shield(self._starting)

    async def close(self) -> None:
        """Stop listening, end every subscription's iteration, disconnect."""
        self._starting = None
        backend, self.backend = self.backend, None
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription._close()
        self._subscriptions.clear()
        if backend is not None:
            await backend.close()

    async def publish(self, channel: str, message: Any) -> None:
        """Send ``message`` (a JSON-able value) to every subscriber of
        ``channel``, in every process on the broker. PublishError if the
        broker is away; MessageTooLarge, TypeError or ValueError for a message
        that is too large or not JSON-able."""
        check_channel(channel)
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(payload.encode())
        if size > self.max_message_size:
            raise MessageTooLarge(f"the message is {size} bytes as JSON; the limit is {self.max_message_size}")
        await self.start()
        assert self.backend is not None
        try:
            async with asyncio.timeout(self.publish_timeout):
                await self.backend.publish(channel, payload)
        except TimeoutError:
            raise PublishError(f"the broker did not answer within {self.publish_timeout} s") from None

    def subscribe(self, channel: str, *, queue_size: int | None = None, decode: bool = True) -> Subscription:
        """``async with pubsub.subscribe(channel) as messages: async for
        message in messages: ...``: what is published on ``channel`` while
        the block runs. With ``decode=False`` each message is its JSON text
        (``str``), to forward as it is (``await websocket.send(text)``)
        without decoding and encoding it again for every subscriber."""
        check_channel(channel)
        return Subscription(self, channel, queue_size or self.queue_size, decode)

    def subscriber_count(self, channel: str) -> int:
        """The number of this process's subscriptions to ``channel``."""
        return len(self._subscriptions.get(channel, ()))

    async def _add(self, subscription: Subscription) -> None:
        await self.start()
        assert self.backend is not None
        subscriptions = self._subscriptions.setdefault(subscription.channel, set())
        subscriptions.add(subscription)
        if len(subscriptions) == 1:
            await self.backend.listen(subscription.channel)

    async def _remove(self, subscription: Subscription) -> None:
        subscriptions = self._subscriptions.get(subscription.channel)
        if subscriptions is None or subscription not in subscriptions:
            return
        subscriptions.discard(subscription)
        if not subscriptions:
            del self._subscriptions[subscription.channel]
            if self.backend is not None:
                await self.backend.unlisten(subscription.channel)

    def _deliver(self, channel: str, payload: str | bytes) -> None:
        """Decode one message from the broker and queue it for each subscriber."""
        subscriptions = self._subscriptions.get(channel)
        if not subscriptions:
            return
        message: Any = _UNDECODED
        text: str | None = None
        for subscription in subscriptions:
            if subscription.decode:
                if message is _UNDECODED:  # once per message, not per subscriber
                    try:
                        message = json.loads(payload)
                    except ValueError:
                        logger.warning(f"Ignored a message on {channel!r} that is not JSON: {payload[:80]!r}")
                        message = _NOT_JSON
                if message is not _NOT_JSON:
                    subscription._put(message)
            else:
                if text is None:
                    text = payload if isinstance(payload, str) else payload.decode()
                subscription._put(text)


class Subscription:
    """One subscriber's messages on one channel: an async iterator, used
    inside ``async with``. ``dropped`` counts the messages it missed
    because its queue (``queue_size``) was full."""

    # Not an asyncio.Queue: its four deques cost about 3 KiB per idle
    # subscriber; a deque made on the first message and dropped once read
    # out, and one future while waiting, cost next to nothing.
    __slots__ = ("pubsub", "channel", "decode", "queue_size", "dropped", "_messages", "_waiter", "_closed")

    def __init__(self, pubsub: PubSub, channel: str, queue_size: int, decode: bool = True) -> None:
        self.pubsub = pubsub
        self.channel = channel
        self.decode = decode
        self.queue_size = queue_size
        self.dropped = 0
        self._messages: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    async def __aenter__(self) -> Subscription:
        await self.pubsub._add(self)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.pubsub._remove(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        while not self._messages:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._messages.popleft()
        if not self._messages:
            self._messages = None
        return message

    async def get(self, timeout: float | None = None) -> Any:
        """The next message; TimeoutError if none comes within ``timeout``
        seconds (the subscription carries on), StopAsyncIteration once the
        pub/sub has closed."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    def _put(self, message: Any) -> None:
        if self._messages is None:
            self._messages = deque()
        elif len(self._messages) >= self.queue_size:
            if not self.dropped:
                logger.warning(
                    f"A subscriber of {self.channel!r} is {self.queue_size} messages behind: it misses messages."
                )
            self.dropped += 1
            return
        self._messages.append(message)
        self._wake()

    def _close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


#: base.BACKENDS' module names -> the factory of each module's backend (a backend's
#: driver is imported when one is made, so only the one in use is loaded).
_FACTORIES: dict[str, Callable[[str], Backend]] = {
    "memory": memory.make_backend,
    "postgres": postgres.make_backend,
    "redis": redis.make_backend,
}


def _make_backend(url: str) -> Backend:
    return _FACTORIES[backend_module(url)](url)
