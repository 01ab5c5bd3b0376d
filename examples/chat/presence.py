"""Who is online in the room, counted over every process that serves it.

Each process counts its own open websockets and announces that count on a
pub/sub channel when it changes and every ``heartbeat`` seconds; each keeps
the latest count of every process it has heard from and adds them up. A
process that dies without a goodbye stops announcing, and its count is
forgotten ``expiry`` seconds after its last announcement. A process that
starts asks the others to announce at once ("hello").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quaver.pubsub import PublishError, PubSub

logger = logging.getLogger(__name__)


class Presence:
    def __init__(
        self, pubsub: PubSub, channel: str, process: str, heartbeat: float = 10.0, expiry: float = 25.0
    ) -> None:
        self.pubsub = pubsub
        self.channel = channel
        self.process = process
        self.heartbeat = heartbeat
        self.expiry = expiry
        self.local = 0
        self._counts: dict[str, tuple[int, float]] = {}  # other process -> (count, when heard)
        self._changed = asyncio.Event()

    @property
    def total(self) -> int:
        """The room's online count: this process's, plus the others' it heard of lately."""
        return self.local + sum(count for count, _ in self._counts.values())

    @asynccontextmanager
    async def joined(self) -> AsyncIterator[None]:
        """Count one more online while the block runs."""
        self.local += 1
        self._notify()
        await self._announce()
        try:
            yield
        finally:
            self.local -= 1
            self._notify()
            await self._announce()

    async def totals(self) -> AsyncIterator[int]:
        """The total now, then again each time it changes."""
        last = None
        while True:
            changed = self._changed
            if self.total != last:
                last = self.total
                yield last
            await changed.wait()

    async def run(self) -> None:
        """Listen to the other processes and announce this one, until cancelled."""
        async with self.pubsub.subscribe(self.channel) as announcements:
            await self._announce(hello=True)
            next_beat = time.monotonic() + self.heartbeat
            while True:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat
                    self._forget_silent()
                    await self._announce()
                try:
                    message = await announcements.get(timeout=next_beat - time.monotonic())
                except TimeoutError:
                    continue
                except StopAsyncIteration:
                    return
                self._heard(message)

    def _heard(self, message: Any) -> None:
        try:
            process, count, hello = message["process"], int(message["online"]), bool(message.get("hello"))
        except (TypeError, KeyError, ValueError):
            return
        if process == self.process:
            return
        if hello and process not in self._counts:
            asyncio.get_running_loop().create_task(self._announce())  # let the newcomer know at once
        if count:
            self._counts[process] = (count, time.monotonic())
        else:
            self._counts.pop(process, None)
        self._forget_silent()
        self._notify()

    def _forget_silent(self) -> None:
        now = time.monotonic()
        silent = [process for process, (_, heard) in self._counts.items() if now - heard > self.expiry]
        for process in silent:
            del self._counts[process]
        if silent:
            self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _announce(self, hello: bool = False) -> None:
        message = {"process": self.process, "online": self.local}
        if hello:
            message["hello"] = True
        try:
            await self.pubsub.publish(self.channel, message)
        except PublishError as error:
            logger.warning(f"Could not announce this process's count: {error}")
