"""What every pub/sub backend shares: the errors, the backend's shape, the
limits, and the URL that chooses a backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

#: The default bound of a subscriber's queue (messages it has not read yet).
DEFAULT_QUEUE_SIZE = 1000
#: The default limit of a message, as JSON text in UTF-8: under PostgreSQL's
#: 8,000-byte NOTIFY payload, so that a message fits on every backend.
DEFAULT_MAX_MESSAGE_SIZE = 7999
#: PostgreSQL's identifier limit, which channel names keep to on every backend.
MAX_CHANNEL_LENGTH = 63

#: scheme -> the module (under quaver.pubsub) holding its backend.
BACKENDS = {
    "memory": "memory",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "postgresql": "postgres",
    "postgres": "postgres",
}

#: Called by a backend with each message it receives: channel, JSON text.
Deliver = Callable[[str, "str | bytes"], None]


class PubSubError(Exception):
    """Base of the pub/sub errors."""


class PublishError(PubSubError):
    """The message could not be handed to the broker (it is down, or did not
    answer within the publish timeout); nobody received it."""


class MessageTooLarge(PubSubError, ValueError):
    """The message's JSON is larger than ``max_message_size`` bytes."""


class InvalidURL(PubSubError, ValueError):
    """The URL cannot be parsed or names no backend."""


class Backend(Protocol):
    """One process's connection to a broker.

    ``start`` must not fail when the broker is down: the backend keeps
    trying, as after losing it. ``connected`` says whether it listens now."""

    connected: bool

    async def start(self, deliver: Deliver) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, payload: str) -> None: ...

    async def listen(self, channel: str) -> None: ...

    async def unlisten(self, channel: str) -> None: ...


def backend_module(url: str) -> str:
    """The name of the module serving ``url``; InvalidURL if there is none."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidURL(f"pub/sub URL {url!r} cannot be parsed: {error}") from None
    if parts.scheme not in BACKENDS:
        known = ", ".join(f"{scheme}://" for scheme in BACKENDS)
        raise InvalidURL(f"pub/sub URL {url!r} names no backend (use one of {known})")
    if parts.scheme in ("redis", "rediss") and not parts.hostname:
        raise InvalidURL(f"pub/sub URL {url!r} names no host")
    if parts.scheme == "unix" and not parts.path:
        raise InvalidURL(f"pub/sub URL {url!r} names no socket path")
    return BACKENDS[parts.scheme]


def check_channel(channel: str) -> None:
    """ValueError unless ``channel`` is a name every backend accepts."""
    if not isinstance(channel, str) or not channel:
        raise ValueError(f"a channel is a non-empty string, not {channel!r}")
    if len(channel.encode()) > MAX_CHANNEL_LENGTH:
        raise ValueError(f"channel {channel[:20]!r}... is longer than {MAX_CHANNEL_LENGTH} bytes")
