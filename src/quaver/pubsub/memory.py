"""``memory://``: one process; a published message goes straight to this
process's subscribers."""

from __future__ import annotations

from .base import Deliver


class MemoryBackend:
    connected = True

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None

    async def publish(self, channel: str, payload: str) -> None:
        if self._deliver is not None:
            self._deliver(channel, payload)

    async def listen(self, channel: str) -> None:
        pass

    async def unlisten(self, channel: str) -> None:
        pass


def make_backend(url: str) -> MemoryBackend:
    return MemoryBackend()
