"""A chat room: every message sent from a browser is shown in every browser.

Run it with ``python examples/chat/app.py`` and open http://127.0.0.1:5000 in
two windows.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from quaver import Quaver, websocket
from quaver.templating import render_template

from broker import Broker  # examples/chat/broker.py

app = Quaver(__name__)
app.config.from_mapping(CHAT_ROOM="Lobby", MAX_NAME_LENGTH=40, MAX_TEXT_LENGTH=500)
broker = Broker()


@app.get("/")
async def index() -> str:
    return await render_template("chat.html", room=app.config["CHAT_ROOM"])


@app.websocket("/ws")
async def chat_socket() -> None:
    try:
        with broker.subscribe() as inbox:
            await websocket.accept()
            broker.publish({"online": len(broker)})
            async with asyncio.TaskGroup() as tasks:  # both are cancelled when the browser leaves
                tasks.create_task(_send_published(inbox))
                tasks.create_task(_publish_received())
    finally:
        broker.publish({"online": len(broker)})


async def _send_published(inbox: asyncio.Queue[Any]) -> None:
    while True:
        await websocket.send_json(await inbox.get())


async def _publish_received() -> None:
    while True:
        message = _chat_message(await websocket.receive())
        if message is not None:
            broker.publish(message)


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
