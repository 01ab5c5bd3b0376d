"""How a websocket ends: a client leaving cancels the handler, a message over
the size limit closes with 1009, and nothing is left behind after many
connections (the websocket half of quaver/asgi.py)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import pytest

from quaver import abort, websocket
from quaver.testing import WebsocketDisconnectError, WebsocketResponseError


async def test_client_leaving_cancels_a_handler_waiting_to_receive(app, client):
    events = []

    @app.teardown_websocket
    async def teardown(exc):
        events.append(f"teardown {type(exc).__name__}")

    @app.websocket("/ws")
    async def handle():
        await websocket.send("ready")
        try:
            await websocket.receive()
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        finally:
            events.append("finally")

    async with client.websocket("/ws") as ws:
        assert await ws.receive() == "ready"
    assert events == ["cancelled", "finally", "teardown CancelledError"]


async def test_client_leaving_cancels_a_handler_waiting_on_something_else(app, client):
    events = []

    @app.websocket("/ws")
    async def handle():
        await websocket.send("ready")
        try:
            await asyncio.Event().wait()  # nothing will ever set it
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with client.websocket("/ws") as ws:
        assert await ws.receive() == "ready"
        await ws.close(1001)
    assert events == ["cancelled"]


async def test_client_leaving_stops_a_handler_sending_in_a_tight_loop(app, client):
    sent = []

    @app.websocket("/ticks")
    async def ticks():
        number = 0
        try:
            while True:
                number += 1
                await websocket.send(str(number))
        finally:
            sent.append(number)

    async with client.websocket("/ticks") as ws:
        assert [await ws.receive() for _ in range(3)] == ["1", "2", "3"]
    assert len(sent) == 1


async def test_client_leaving_during_the_handshake_cancels_before_websocket(app, client):
    events = []
    started = asyncio.Event()

    @app.before_websocket
    async def slow_check():
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("check cancelled")
            raise

    @app.websocket("/ws")
    async def handle():
        events.append("handler ran")

    async with client.websocket("/ws"):
        await started.wait()
    assert events == ["check cancelled"]


async def test_after_and_teardown_hooks_finish_when_the_client_leaves_after_the_handler(app, client):
    events = []

    @app.after_websocket
    async def slow_after(response):
        await asyncio.sleep(0.05)
        events.append("after")
        return response

    @app.teardown_websocket
    def teardown(exc):  # a sync hook: it runs in the thread pool, an await away
        events.append(f"teardown {exc!r}")

    @app.websocket("/ws")
    async def handle():
        await websocket.send("done")

    async with client.websocket("/ws") as ws:
        assert await ws.receive() == "done"
    assert events == ["after", "teardown None"]


async def test_server_stopping_cancels_the_handler(app):
    events = []

    @app.websocket("/ws")
    async def handle():
        await websocket.accept()
        try:
            await asyncio.sleep(3600)
        finally:
            events.append("handler finally")

    to_app: asyncio.Queue[dict] = asyncio.Queue()
    from_app: asyncio.Queue[dict] = asyncio.Queue()
    await to_app.put({"type": "websocket.connect"})
    scope = {
        "type": "websocket", "path": "/ws", "query_string": b"", "headers": [(b"host", b"localhost")],
        "scheme": "ws", "subprotocols": [], "extensions": {"websocket.http.response": {}},
    }
    served = asyncio.create_task(app(scope, to_app.get, from_app.put))
    assert (await from_app.get())["type"] == "websocket.accept"
    served.cancel()
    with pytest.raises(asyncio.CancelledError):
        await served
    assert events == ["handler finally"]


async def test_server_saying_the_client_is_gone_on_send_cancels_the_handler(app, caplog):
    events = []

    @app.websocket("/ws")
    async def handle():
        try:
            while True:
                await websocket.send("tick")
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    class ClientDisconnected(OSError):  # what Uvicorn raises
        pass

    sent = []
    to_app = [{"type": "websocket.connect"}]
    never: asyncio.Future[dict] = asyncio.get_running_loop().create_future()

    async def receive():
        if to_app:
            return to_app.pop()
        return await never  # the disconnect is not reported before the failed send

    async def send(message):
        sent.append(message["type"])
        if len(sent) > 3:
            raise ClientDisconnected()

    scope = {"type": "websocket", "path": "/ws", "query_string": b"", "headers": [], "scheme": "ws"}
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert events == ["cancelled"]
    assert sent == ["websocket.accept", "websocket.send", "websocket.send", "websocket.send"]
    assert "Exception on" not in caplog.text


# -- the message size limit ---------------------------------------------------


@pytest.mark.parametrize(
    ("message", "closed"),
    [
        ("x" * 16, False),
        ("x" * 17, True),
        (b"x" * 16, False),
        (b"x" * 17, True),
        ("€" * 5, False),  # 15 bytes in UTF-8
        ("€" * 6, True),  # 6 characters, but 18 bytes
    ],
)
async def test_message_over_the_size_limit_closes_with_1009(app, client, message, closed):
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 16
    events = []

    @app.websocket("/ws")
    async def handle():
        try:
            while True:
                data = await websocket.receive()
                await websocket.send(f"got {len(data)}")
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with client.websocket("/ws") as ws:
        await ws.send(message)
        if closed:
            with pytest.raises(WebsocketDisconnectError) as info:
                await ws.receive()
            assert info.value.code == 1009
        else:
            assert await ws.receive() == f"got {len(message)}"
    assert events == ["cancelled"]  # by the close, or by leaving the block


async def test_no_size_limit_when_the_setting_is_none(app, client):
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = None

    @app.websocket("/ws")
    async def handle():
        await websocket.send(str(len(await websocket.receive())))

    async with client.websocket("/ws") as ws:
        await ws.send(b"x" * (4 * 1024 * 1024))
        assert await ws.receive() == str(4 * 1024 * 1024)


# -- nothing left behind -----------------------------------------------------


async def test_ten_thousand_connections_leave_no_tasks_and_no_memory_behind(app, client):
    @app.websocket("/ws/<int:number>")
    async def handle(number):
        if number % 5 == 0:
            abort(403)  # refused
        await websocket.send("hello")
        if number % 5 == 1:
            return  # ends by itself
        await websocket.receive()  # cancelled when the client leaves

    async def cycle(number):
        try:
            async with client.websocket(f"/ws/{number}") as ws:
                assert await ws.receive() == "hello"
        except WebsocketResponseError as error:
            assert number % 5 == 0 and error.response.status_code == 403

    for number in range(500):  # fill the caches that are meant to fill
        await cycle(number)
    gc.collect()
    tasks_before = asyncio.all_tasks()
    tracemalloc.start()
    try:
        gc.collect()
        memory_before = tracemalloc.get_traced_memory()[0]
        for number in range(10_000):
            await cycle(number)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - memory_before
    finally:
        tracemalloc.stop()
    assert asyncio.all_tasks() == tasks_before
    assert grown < 256 * 1024, f"memory grew by {grown} bytes over 10 000 connections"


@pytest.mark.parametrize("ending", ["client leaves", "handler returns"])
async def test_a_finished_websocket_is_freed_without_waiting_for_the_garbage_collector(app, ending):
    """A closed connection's objects (and the server's buffers they hold) go
    when it ends, not at the next full collection: no reference cycles."""
    import weakref

    seen = []

    @app.websocket("/ws")
    async def handle():
        seen.append(weakref.ref(websocket._get_current_object()))
        await websocket.accept()
        await websocket.send("hello")
        if ending == "client leaves":
            await websocket.receive()

    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}]
    sent = []

    async def receive():
        if len(incoming) == 1:
            while len(sent) < 2:  # the client leaves after the greeting
                await asyncio.sleep(0)
        return incoming.pop(0) if incoming else await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
        "path": "/ws", "raw_path": b"/ws", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
        "subprotocols": [],
    }
    gc.collect()
    gc.disable()
    try:
        await app(scope, receive, send)
        await asyncio.sleep(0)
        assert [message["type"] for message in sent][:2] == ["websocket.accept", "websocket.send"]
        assert len(seen) == 1
        assert seen[0]() is None, gc.get_referrers(seen[0]())
    finally:
        gc.enable()
