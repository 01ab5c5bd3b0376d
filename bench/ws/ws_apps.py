"""A websocket echo at ``/ws`` in each framework, the idiomatic one for it
(accept, then receive a message and send the same text back until the client
leaves), as module-level ASGI apps chosen by ``WS_FRAMEWORK``, for a server to
import as ``ws_apps:app``."""

import os


def make_bare():
    """A hand-written ASGI callable: the floor any framework adds to."""

    async def app(scope, receive, send):
        if scope["type"] != "websocket":
            return
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                await send({"type": "websocket.send", "text": message.get("text")})
            elif kind == "websocket.connect":
                await send({"type": "websocket.accept"})
            else:  # websocket.disconnect
                return

    return app


def make_starlette():
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute

    async def echo(websocket):
        await websocket.accept()
        async for text in websocket.iter_text():  # ends when the client leaves
            await websocket.send_text(text)

    return Starlette(routes=[WebSocketRoute("/ws", echo)])


def make_quart():
    from quart import Quart, websocket

    app = Quart(__name__)

    @app.websocket("/ws")
    async def echo():
        await websocket.accept()
        while True:  # cancelled when the client leaves
            await websocket.send(await websocket.receive())

    return app


def make_quaver():
    from quaver import Quaver, websocket

    app = Quaver(__name__)

    @app.websocket("/ws")
    async def echo():
        await websocket.accept()
        while True:  # cancelled when the client leaves
            await websocket.send(await websocket.receive())

    return app


MAKERS = {"bare": make_bare, "starlette": make_starlette, "quart": make_quart, "quaver": make_quaver}
app = MAKERS[os.environ.get("WS_FRAMEWORK", "quaver")]()
