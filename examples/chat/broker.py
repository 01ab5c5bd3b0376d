"""An in-process broker: every message published goes to every subscriber.

Each subscriber (one per open websocket) gets its own bounded queue, so one
slow browser never holds the others up; one that falls ``backlog`` messages
behind misses messages rather than growing memory without limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Broker:
    def __init__(self, backlog: int = 100) -> None:
        self.backlog = backlog
        self._queues: set[asyncio.Queue[Any]] = set()

    def __len__(self) -> int:
        """The number of subscribers."""
        return len(self._queues)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Any]]:
        """``with broker.subscribe() as inbox:`` receive what is published
        while the block runs, with ``await inbox.get()``."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.backlog)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def publish(self, message: Any) -> None:
        """Hand ``message`` to every current subscriber."""
        for queue in self._queues:
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                pass  # this subscriber is far behind; it misses the message
