"""Announcements pushed to every open page with Server-Sent Events.

Run it with ``python examples/events/app.py`` and open http://127.0.0.1:5000
in a few windows; what one window announces shows up in all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from quaver import Quaver, Response, request
from quaver.datastructures import ServerSentEvent
from quaver.templating import render_template

app = Quaver(__name__)
app.config.from_mapping(
    SSE_KEEP_ALIVE=15.0,  # seconds without an event before a keep-alive comment
    SSE_RETRY_MS=2000,  # how long a browser waits before reconnecting
    HISTORY=50,  # announcements kept for browsers that reconnect
    MAX_TEXT_LENGTH=280,
)


class Announcements:
    """Numbered announcements: the latest few kept, each new one handed to every listener."""

    def __init__(self, history: int) -> None:
        self.numbers = itertools.count(1)
        self.history: deque[tuple[int, str]] = deque(maxlen=history)
        self.listeners: set[asyncio.Queue[tuple[int, str]]] = set()

    def publish(self, text: str) -> int:
        item = (next(self.numbers), text)
        self.history.append(item)
        for queue in self.listeners:
            if not queue.full():  # a listener that stopped reading misses some, it doesn't grow
                queue.put_nowait(item)
        return item[0]

    async def follow(self, after: int) -> AsyncIterator[tuple[int, str]]:
        """Those after number ``after`` still in the history, then each new one as it comes."""
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(maxsize=100)
        self.listeners.add(queue)
        try:
            for item in list(self.history):
                if item[0] > after:
                    yield item
            while True:
                item = await queue.get()
                if item[0] > after:
                    yield item
        finally:
            self.listeners.discard(queue)  # runs when the browser leaves: the stream is closed


announcements = Announcements(app.config["HISTORY"])


@app.get("/")
async def index() -> str:
    return await render_template("events.html")


@app.post("/announce")
async def announce() -> Any:
    text = ((await request.form).get("text") or "").strip()[: app.config["MAX_TEXT_LENGTH"]]
    if not text:
        return {"error": "Nothing to announce."}, 400
    return {"id": announcements.publish(text)}, 201


@app.get("/events")
async def events() -> Response:
    # A browser that reconnects says which event it saw last; it gets what it missed.
    last_seen = request.headers.get("Last-Event-ID", "0")
    after = int(last_seen) if last_seen.isdigit() else 0

    async def stream() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(comment="connected", retry=app.config["SSE_RETRY_MS"])
        async for number, text in announcements.follow(after):
            yield ServerSentEvent(app.json.dumps({"text": text}), event="announcement", id=str(number))

    return Response.event_stream(stream(), keep_alive=app.config["SSE_KEEP_ALIVE"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args()
    app.run(host=arguments.host, port=arguments.port)
