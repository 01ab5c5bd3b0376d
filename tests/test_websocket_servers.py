"""Websockets over the wire: the app served by Hypercorn and by Uvicorn (both
of its websocket implementations), talked to by the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from quaver import Quaver, abort, websocket

SERVERS = ["hypercorn", "uvicorn", "uvicorn-wsproto"]

# Whether each server offers the ASGI "websocket.http.response" extension, so
# that a refused handshake reaches the client as the app's own HTTP response.
# Without it, the app can only close the handshake and the client sees 403.
OFFERS_DENIAL_RESPONSE = {"hypercorn": True, "uvicorn": True, "uvicorn-wsproto": True}


def make_app() -> Quaver:
    app = Quaver(__name__)
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 1024
    app.open_connections = 0
    app.most_open_connections = 0
    app.cancelled = threading.Event()

    @app.websocket("/echo")
    async def echo():
        app.open_connections += 1
        app.most_open_connections = max(app.most_open_connections, app.open_connections)
        try:
            while True:
                await websocket.send(await websocket.receive())
        finally:
            app.open_connections -= 1

    @app.websocket("/json")
    async def json_sum():
        while True:
            data = await websocket.receive_json()
            await websocket.send_json({"sum": sum(data["numbers"]), "echo": data})

    @app.websocket("/chat")
    async def chat():
        offered = websocket.requested_subprotocols
        chosen = next((name for name in ("chat.v2", "chat.v1") if name in offered), None)
        await websocket.accept(headers={"X-Server-Choice": chosen or "none"}, subprotocol=chosen)
        await websocket.send(chosen or "none")

    @app.errorhandler(401)
    async def unauthorized(error):
        return "token required", 401, {"WWW-Authenticate": 'Bearer realm="chat"'}

    @app.websocket("/private")
    async def private():
        if websocket.headers.get("Authorization") != "Bearer good":
            abort(401)
        await websocket.send("welcome")

    @app.websocket("/extensions")
    async def extensions():
        await websocket.send_json(sorted(websocket.extensions))

    @app.websocket("/close/<int:code>")
    async def close(code):
        await websocket.send("closing")
        await websocket.close(code, f"closed with {code}")

    @app.websocket("/broken")
    async def broken():
        await websocket.send("about to fail")
        raise RuntimeError("a bug in the handler")

    @app.websocket("/wait")
    async def wait():
        await websocket.send("waiting")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            app.cancelled.set()
            raise

    @app.websocket("/receive-then-wait")
    async def receive_then_wait():
        await websocket.send(f"got {await websocket.receive()}")  # the handler receives itself...
        try:
            await asyncio.sleep(3600)  # ...then waits elsewhere: a reader must see the client leave
        except asyncio.CancelledError:
            app.cancelled.set()
            raise

    @app.websocket("/ticks")
    async def ticks():
        try:
            while True:  # never waits for the network: only the client leaving stops it
                await websocket.send("tick")
        except asyncio.CancelledError:
            app.cancelled.set()
            raise

    return app


async def _serve(kind: str, app: Quaver, port: int, stopping: asyncio.Event) -> None:
    if kind == "hypercorn":
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.backlog = 1024
        config.accesslog = None
        config.loglevel = "WARNING"
        config.graceful_timeout = 1
        await serve(app, config, shutdown_trigger=stopping.wait)  # type: ignore[arg-type]
    else:
        import uvicorn

        implementation = "wsproto" if kind == "uvicorn-wsproto" else "auto"
        server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=port, ws=implementation, lifespan="off",
            log_level="warning", backlog=1024, timeout_graceful_shutdown=1,
        ))
        serving = asyncio.ensure_future(server.serve())
        await asyncio.wait((serving, asyncio.ensure_future(stopping.wait())), return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving


@contextmanager
def running(kind: str, app: Quaver, port: int) -> Iterator[None]:
    """Serve ``app`` with ``kind`` on 127.0.0.1:``port`` in a thread of its
    own (with its own event loop) for the duration of the block."""
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(kind, app, port, stopping))
        except BaseException as error:  # reported by the test thread
            failures.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=run, name=f"{kind} on {port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while True:
            assert not failures, failures
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{kind} did not start"
                time.sleep(0.02)
        yield
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(15)
        assert not thread.is_alive(), f"{kind} did not stop"
    assert not failures, failures


@pytest.fixture(params=SERVERS)
def server(request, free_port):
    app = make_app()
    with running(request.param, app, free_port):
        yield request.param, app, f"ws://127.0.0.1:{free_port}"


async def test_echo_text_and_binary(server):
    _, _, base = server
    async with connect(f"{base}/echo") as ws:
        await ws.send("hello, wire")
        assert await ws.recv() == "hello, wire"
        await ws.send(bytes(range(256)))
        assert await ws.recv() == bytes(range(256))


async def test_json_messages(server):
    _, _, base = server
    async with connect(f"{base}/json") as ws:
        await ws.send(json.dumps({"numbers": [1, 2, 39], "label": "é"}))
        assert json.loads(await ws.recv()) == {"sum": 42, "echo": {"numbers": [1, 2, 39], "label": "é"}}


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [(["chat.v1", "chat.v2"], "chat.v2"), (["chat.v1"], "chat.v1"), (["other"], None)],
)
async def test_subprotocol_negotiation(server, offered, chosen):
    _, _, base = server
    async with connect(f"{base}/chat", subprotocols=offered) as ws:
        assert ws.subprotocol == chosen
        assert ws.response.headers["X-Server-Choice"] == (chosen or "none")
        assert await ws.recv() == (chosen or "none")


async def test_server_offers_the_denial_response_extension_as_expected(server):
    kind, _, base = server
    async with connect(f"{base}/extensions") as ws:
        offered = "websocket.http.response" in json.loads(await ws.recv())
    assert offered is OFFERS_DENIAL_RESPONSE[kind]


async def test_refused_handshake_reaches_the_client(server):
    kind, _, base = server
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{base}/private"):
            pass
    response = info.value.response
    if OFFERS_DENIAL_RESPONSE[kind]:
        assert response.status_code == 401
        assert bytes(response.body) == b"token required"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="chat"'
    else:
        assert response.status_code == 403
    async with connect(f"{base}/private", additional_headers={"Authorization": "Bearer good"}) as ws:
        assert await ws.recv() == "welcome"


@pytest.mark.parametrize("kind", SERVERS)
async def test_refusal_is_a_plain_403_where_the_extension_is_missing(kind, free_port):
    app = make_app()

    async def without_extensions(scope, receive, send):  # as a server without the extension would call it
        await app({**scope, "extensions": {}}, receive, send)

    with running(kind, without_extensions, free_port):  # type: ignore[arg-type]
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://127.0.0.1:{free_port}/private"):
                pass
    assert info.value.response.status_code == 403


@pytest.mark.parametrize("code", [1000, 1001, 1008, 4000, 4999])
async def test_server_close_code_and_reason(server, code):
    _, _, base = server
    async with connect(f"{base}/close/{code}") as ws:
        assert await ws.recv() == "closing"
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (code, f"closed with {code}")


async def test_handler_error_closes_with_1011(server):
    _, _, base = server
    async with connect(f"{base}/broken") as ws:
        assert await ws.recv() == "about to fail"
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011


async def test_oversized_message_closes_with_1009(server):
    _, _, base = server
    async with connect(f"{base}/echo") as ws:
        await ws.send("x" * 1024)
        assert await ws.recv() == "x" * 1024
        await ws.send("x" * 1025)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_client_leaving_cancels_the_handler(server, caplog):
    _, app, base = server
    async with connect(f"{base}/wait") as ws:
        assert await ws.recv() == "waiting"
    assert await asyncio.to_thread(app.cancelled.wait, 10)
    assert "Exception on /wait" not in caplog.text


async def test_client_leaving_cancels_a_handler_that_received_and_then_waits_elsewhere(server, caplog):
    _, app, base = server
    async with connect(f"{base}/receive-then-wait") as ws:
        await ws.send("hello")
        assert await ws.recv() == "got hello"
    assert await asyncio.to_thread(app.cancelled.wait, 10)
    assert "Exception on /receive-then-wait" not in caplog.text


async def test_client_vanishing_stops_a_handler_sending_in_a_tight_loop(server, caplog):
    _, app, base = server
    ws = await connect(f"{base}/ticks")
    try:
        assert [await ws.recv() for _ in range(3)] == ["tick"] * 3
    finally:
        ws.transport.abort()  # gone without a closing handshake, like a killed browser tab
    assert await asyncio.to_thread(app.cancelled.wait, 10)
    assert "Exception on /ticks" not in caplog.text  # cancelled, not failed
    async with connect(f"{base}/echo") as ws:  # and the server still answers
        await ws.send("still there")
        assert await ws.recv() == "still there"


async def test_500_concurrent_connections_exchange_messages(server):
    _, app, base = server
    count, rounds = 500, 5
    all_open = asyncio.Event()
    opened = 0

    async def talk(number: int) -> list[str]:
        nonlocal opened
        async with connect(f"{base}/echo", open_timeout=30, close_timeout=30) as ws:
            opened += 1
            if opened == count:
                all_open.set()
            await all_open.wait()
            replies = []
            for turn in range(rounds):
                await ws.send(f"{number}:{turn}")
                replies.append(await ws.recv())
            return replies

    results = await asyncio.wait_for(asyncio.gather(*(talk(number) for number in range(count))), 90)
    assert results == [[f"{number}:{turn}" for turn in range(rounds)] for number in range(count)]
    assert app.most_open_connections == count

