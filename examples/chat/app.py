"""A chat room: every message sent from a browser is shown in every browser,
whichever process (or host) serves it.

Run it with ``python examples/chat/app.py`` and open http://127.0.0.1:5000 in
two windows. Processes that share a broker share the room:

    BROADCAST_URL=redis://127.0.0.1:6379/0 python examples/chat/app.py --port 5001
    BROADCAST_URL=redis://127.0.0.1:6379/0 python examples/chat/app.py --port 5002
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator

from presence import Presence  # examples/chat/presence.py

from quaver import Quaver, Response, websocket
from quaver.pubsub import PublishError, PubSub, Subscription
from quaver.templating import render_template

app = Quaver(__name__)
app.config.from_mapping(
    CHAT_ROOM="Lobby",
    MAX_NAME_LENGTH=40,
    MAX_TEXT_LENGTH=500,
    EVENTS_KEEP_ALIVE=15.0,  # seconds without a message before /events sends a comment line
    PRESENCE_HEARTBEAT=10.0,  # seconds between a process's announcements of its online count
    PRESENCE_EXPIRY=25.0,  # a process not heard from for this long drops out of the count
)
app.config.from_prefixed_env("CHAT")  # e.g. CHAT_PRESENCE_EXPIRY=5
#: Which process this is: each websocket is told, so you can see where it landed.
PROCESS = f"{socket.gethostname()}:{os.getpid()}"
pubsub = PubSub(app, os.environ.get("BROADCAST_URL") or "memory://")
CHANNEL = f"chat:{app.config['CHAT_ROOM']}"
presence = Presence(
    pubsub, f"{CHANNEL}:presence", PROCESS, app.config["PRESENCE_HEARTBEAT"], app.config["PRESENCE_EXPIRY"]
)


@app.while_serving
async def count_the_room() -> AsyncGenerator[None, None]:
    counting = asyncio.create_task(presence.run())
    yield
    counting.cancel()


@app.get("/")
async def index() -> str:
    return await render_template("chat.html", room=app.config["CHAT_ROOM"])


@app.websocket("/ws")
async def chat_socket() -> None:
    async with pubsub.subscribe(CHANNEL) as messages, presence.joined():
        await websocket.accept()
        await websocket.send_json({"process": PROCESS})
        async with asyncio.TaskGroup() as tasks:  # all are cancelled when the browser leaves
            tasks.create_task(_send_published(messages))
            tasks.create_task(_send_online())
            tasks.create_task(_publish_received())


@app.get("/events")
async def events() -> Response:
    """The room's messages as Server-Sent Events: one ``data:`` line each, the
    JSON the websocket sends; a comment line after EVENTS_KEEP_ALIVE seconds
    without one, so proxies keep the connection open."""

    async def stream() -> AsyncIterator[str]:
        async with pubsub.subscribe(CHANNEL) as messages:
            async for message in messages:
                yield app.json.dumps(message)  # as websocket.send_json encodes it

    return Response.event_stream(stream(), keep_alive=app.config["EVENTS_KEEP_ALIVE"])


async def _send_published(messages: Subscription) -> None:
    async for message in messages:
        await websocket.send_json(message)


async def _send_online() -> None:
    async for total in presence.totals():
        await websocket.send_json({"online": total})


async def _publish_received() -> None:
    while True:
        message = _chat_message(await websocket.receive())
        if message is not None:
            try:
                await pubsub.publish(CHANNEL, message)
            except PublishError:
                await websocket.send_json({"error": "The room is unavailable just now: try again soon."})


def _chat_message(raw: str | bytes) -> dict[str, str] | None:
    """``{"name": ..., "text": ...}`` from what a browser sent, or None if it is not one."""
    try:
        data = app.json.loads(raw)
        name, text = str(data.get("name") or "").strip(), str(data.get("text") or "").strip()
    except (ValueError, AttributeError):
        return None
    if not text:
        return None
    return {
        "name": name[: app.config["MAX_NAME_LENGTH"]] or "anonymous",
        "text": text[: app.config["MAX_TEXT_LENGTH"]],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args()
    app.run(host=arguments.host, port=arguments.port)
