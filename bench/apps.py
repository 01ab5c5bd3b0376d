"""The same three routes in each framework, for bench/bench.py."""

from __future__ import annotations

import orjson


def make_quaver():
    from quaver import Quaver, request

    app = Quaver(__name__)

    @app.get("/json")
    async def hello():
        return {"hello": "world"}

    @app.get("/users/<int:user_id>")
    async def user(user_id):
        return {"id": user_id}

    @app.post("/echo")
    async def echo():
        return await request.get_json()

    return app


def make_quart():
    from quart import Quart, request

    app = Quart(__name__)

    @app.get("/json")
    async def hello():
        return {"hello": "world"}

    @app.get("/users/<int:user_id>")
    async def user(user_id):
        return {"id": user_id}

    @app.post("/echo")
    async def echo():
        return await request.get_json()

    return app


def make_starlette():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request):
        return JSONResponse({"hello": "world"})

    async def user(request):
        return JSONResponse({"id": request.path_params["user_id"]})

    async def echo(request):
        return JSONResponse(await request.json())

    return Starlette(
        routes=[
            Route("/json", hello),
            Route("/users/{user_id:int}", user),
            Route("/echo", echo, methods=["POST"]),
        ]
    )


def make_bare():
    """A hand-written ASGI callable doing the same work with no framework, on
    the JSON library of Quaver's default provider (orjson, keys sorted as
    Flask sorts them), so the ratio to it is the framework's own cost."""
    dumps, loads, sort_keys = orjson.dumps, orjson.loads, orjson.OPT_SORT_KEYS

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/json" and scope["method"] == "GET":
            body = dumps({"hello": "world"}, option=sort_keys)
        elif path.startswith("/users/") and path[7:].isdigit() and scope["method"] == "GET":
            body = dumps({"id": int(path[7:])}, option=sort_keys)
        elif path == "/echo" and scope["method"] == "POST":
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = dumps(loads(b"".join(chunks)), option=sort_keys)
        else:
            body, status = b"Not Found", 404
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})

    return app
