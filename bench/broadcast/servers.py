"""The two servers bench/broadcast/run.py compares, each serving a websocket
at /ws that forwards every message of channel "bench" (it sends "ready"
once subscribed) and POST /publish that publishes its JSON body:

    python bench/broadcast/servers.py quaver URL PORT        # quaver.pubsub, app.run (Hypercorn)
    python bench/broadcast/servers.py starlette URL PORT     # Starlette + encode's broadcaster, Hypercorn
    python bench/broadcast/servers.py bare URL PORT          # /idle only: a bare ASGI callable, Hypercorn's floor

The Starlette one runs in a venv holding starlette, broadcaster, hypercorn,
redis and asyncpg (see run.py). Both print "serving" when they listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator

CHANNEL = "bench"


def quaver_app(url: str):  # noqa: ANN201
    from quaver import Quaver, request, websocket
    from quaver.pubsub import PubSub

    app = Quaver(__name__)
    pubsub = PubSub(app, url)

    @app.post("/publish")
    async def publish() -> tuple[str, int]:
        await pubsub.publish(CHANNEL, await request.get_json())
        return "", 204

    @app.websocket("/ws")
    async def ws() -> None:
        async with pubsub.subscribe(CHANNEL, decode=False) as messages:  # forwarded as published
            await websocket.accept()
            await websocket.send("ready")
            async for text in messages:
                await websocket.send(text)

    @app.websocket("/idle")
    async def idle() -> None:  # the memory measurement: a subscribed socket that waits
        async with pubsub.subscribe(CHANNEL + "-idle") as messages:
            await websocket.accept()
            async for message in messages:
                await websocket.send_json(message)

    return app


def starlette_app(url: str):  # noqa: ANN201
    from broadcaster import Broadcast
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    broadcast = Broadcast(url)

    async def publish(request: Request) -> Response:
        await broadcast.publish(CHANNEL, json.dumps(await request.json()))
        return Response(status_code=204)

    async def ws(websocket: WebSocket) -> None:
        async with broadcast.subscribe(CHANNEL) as subscriber:
            if url.startswith("redis"):
                # broadcaster 0.3.1's Redis listener stops for good when it starts
                # before redis-py has recorded the first subscription (see
                # evaluate_broadcaster.py); a second subscribe wakes it again.
                async with broadcast.subscribe(CHANNEL + "-wake"):
                    pass
            await websocket.accept()
            await websocket.send_text("ready")
            async for event in subscriber:
                await websocket.send_text(event.message)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broadcast.connect()
        yield
        await broadcast.disconnect()

    async def idle(websocket: WebSocket) -> None:  # the memory measurement: a subscribed socket that waits
        async with broadcast.subscribe(CHANNEL + "-idle") as subscriber:
            await websocket.accept()
            async for event in subscriber:
                await websocket.send_text(event.message)

    routes = [Route("/publish", publish, methods=["POST"]), WebSocketRoute("/ws", ws), WebSocketRoute("/idle", idle)]
    return Starlette(routes=routes, lifespan=lifespan)


async def bare_app(scope, receive, send) -> None:  # noqa: ANN001
    """Accepts a websocket and waits for it to close: what Hypercorn itself holds per socket."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def main() -> None:
    framework, url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if framework == "quaver":
        app = quaver_app(url)
        print("serving", flush=True)
        app.run(port=port)
        return
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    print("serving", flush=True)
    asyncio.run(serve(bare_app if framework == "bare" else starlette_app(url), config))


if __name__ == "__main__":
    main()
