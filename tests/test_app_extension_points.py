"""What extensions build on: the app's request, websocket, response and test
client classes, subclassed and set on the app, and ``make_response`` replaced
on the instance (quart-schema does each of these)."""

from __future__ import annotations

from typing import Any

from quaver import Quaver, Request, Response, Websocket, request, websocket
from quaver.testing import QuaverClient


async def test_a_request_class_set_on_the_app_serves_its_requests(app: Quaver) -> None:
    class ShoutingRequest(Request):
        @property
        def shout(self) -> str:
            return self.path.upper()

    app.request_class = ShoutingRequest

    @app.get("/quiet")
    async def quiet() -> str:
        return f"{type(request._get_current_object()).__name__} {request.shout}"  # type: ignore[attr-defined]

    response = await app.test_client().get("/quiet")
    assert await response.get_data(as_text=True) == "ShoutingRequest /QUIET"


async def test_a_websocket_class_set_on_the_app_serves_its_websockets(app: Quaver) -> None:
    class TaggedWebsocket(Websocket):
        async def send_tagged(self, text: str) -> None:
            await self.send(f"[tag] {text}")

    app.websocket_class = TaggedWebsocket

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send_tagged(await websocket.receive())  # type: ignore[attr-defined]

    async with app.test_client().websocket("/ws") as connection:
        await connection.send("hi")
        assert await connection.receive() == "[tag] hi"


async def test_a_response_class_set_on_the_app_is_what_views_give(app: Quaver) -> None:
    class StampedResponse(Response):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Stamp"] = "yes"

    app.response_class = StampedResponse
    seen: list[str] = []

    @app.after_request
    async def note(response: Response) -> Response:
        seen.append(type(response).__name__)
        return response

    @app.get("/text")
    async def text() -> str:
        return "plain"

    @app.get("/json")
    async def json_view() -> dict[str, int]:
        return {"a": 1}

    client = app.test_client()
    for path in ("/text", "/json", "/missing"):
        response = await client.get(path)
        assert response.headers.get("X-Stamp") == "yes", path
    assert seen == ["StampedResponse"] * 3


async def test_make_response_replaced_on_the_instance_sees_every_return_value(app: Quaver) -> None:
    original = app.make_response
    seen: list[Any] = []

    async def make_response(rv: Any) -> Response:
        seen.append(rv)
        if isinstance(rv, set):
            rv = sorted(rv)
        return await original(rv)

    app.make_response = make_response  # type: ignore[method-assign]

    @app.get("/set")
    async def a_set() -> Any:
        return {3, 1, 2}

    response = await app.test_client().get("/set")
    assert await response.get_json() == [1, 2, 3]
    assert seen == [{1, 2, 3}]


async def test_a_test_client_class_subclass_keeps_the_clients_behaviour(app: Quaver) -> None:
    class Client(QuaverClient):
        async def get_text(self, path: str) -> str:
            return await (await self.get(path)).get_data(as_text=True)

    app.test_client_class = Client

    @app.get("/")
    async def index() -> str:
        return "home"

    client = app.test_client()
    assert isinstance(client, Client)
    assert await client.get_text("/") == "home"  # type: ignore[attr-defined]


async def test_finalize_and_process_response_overridden_in_quarts_form() -> None:
    # Quart's order: finalize_request(result, request_context=None, from_error_handler=False),
    # process_response(response, request_context=None); the same for websockets.
    seen: list[str] = []

    class App(Quaver):
        async def finalize_request(
            self, result: Any, request_context: Any = None, from_error_handler: bool = False
        ) -> Response:
            seen.append(f"finalize {result!r} {type(request_context).__name__} {from_error_handler}")
            return await super().finalize_request(result, request_context, from_error_handler)

        async def process_response(self, response: Response, request_context: Any = None) -> Response:
            response = await super().process_response(response, request_context)
            response.headers["X-Processed"] = type(request_context).__name__
            return response

        async def finalize_websocket(
            self, result: Any, websocket_context: Any = None, from_error_handler: bool = False
        ) -> Any:
            seen.append(f"websocket {type(websocket_context).__name__}")
            return await super().finalize_websocket(result, websocket_context, from_error_handler)

    app = App(__name__)

    @app.get("/")
    async def index() -> str:
        return "home"

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send("hi")

    client = app.test_client()
    response = await client.get("/")
    assert response.headers["X-Processed"] == "RequestContext"
    assert await response.get_data(as_text=True) == "home"
    async with client.websocket("/ws") as connection:
        assert await connection.receive() == "hi"
    assert seen[0] == "finalize 'home' RequestContext False"
    assert "websocket WebsocketContext" in seen
