"""The in-process benchmark's three routes as module-level ASGI apps, one per
framework (``WIRE_FRAMEWORK``), for a server to import as ``wire_apps:app``."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from apps import make_bare, make_quart, make_quaver, make_starlette  # noqa: E402  (bench/apps.py)


def make_fastapi():
    from fastapi import FastAPI, Request

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/json")
    async def hello():
        return {"hello": "world"}

    @app.get("/users/{user_id}")
    async def user(user_id: int):
        return {"id": user_id}

    @app.post("/echo")
    async def echo(request: Request):
        return await request.json()

    return app


MAKERS = {"bare": make_bare, "starlette": make_starlette, "fastapi": make_fastapi, "quart": make_quart,
          "quaver": make_quaver}
app = MAKERS[os.environ.get("WIRE_FRAMEWORK", "quaver")]()
