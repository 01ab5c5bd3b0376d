"""quaver/asgi_websocket.py: a handler waiting in ``receive()`` takes the
server's messages itself (one task per connection); once it waits anywhere
else a reader task watches for the client leaving. Both ways, a client
leaving cancels the handler and a message over the limit closes with 1009."""

from __future__ import annotations

import asyncio

import pytest

from quaver import websocket
from quaver.testing import WebsocketDisconnectError


def readers() -> int:
    """Reader tasks alive in this loop (one per connection that needed one)."""
    return sum(1 for task in asyncio.all_tasks() if "_Connection.read" in repr(task.get_coro()))


async def test_an_echo_handler_needs_no_reader_task(app, client):
    counted = []

    @app.websocket("/echo")
    async def echo():
        while True:
            message = await websocket.receive()
            counted.append(readers())
            await websocket.send(message)

    async with client.websocket("/echo") as ws:
        for number in range(50):
            await ws.send(str(number))
            assert await ws.receive() == str(number)
    assert counted == [0] * 50


async def test_a_handler_that_waits_elsewhere_gets_a_reader_and_still_receives_in_order(app, client):
    counted = []

    @app.websocket("/ws")
    async def handle():
        first = await websocket.receive()
        await asyncio.sleep(0.05)  # waits elsewhere: meanwhile the client sends more
        counted.append(readers())
        rest = [await websocket.receive() for _ in range(5)]
        await websocket.send(",".join([first, *rest]))

    async with client.websocket("/ws") as ws:
        for number in range(6):
            await ws.send(str(number))
        assert await ws.receive() == "0,1,2,3,4,5"
    assert counted == [1]


async def test_client_leaving_cancels_a_handler_that_received_and_then_waits_elsewhere(app, client):
    events = []

    @app.websocket("/ws")
    async def handle():
        assert await websocket.receive() == "hello"
        await websocket.send("ready")
        try:
            await asyncio.Event().wait()  # nothing will ever set it
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with client.websocket("/ws") as ws:
        await ws.send("hello")
        assert await ws.receive() == "ready"
        await ws.close(1001)
    await asyncio.sleep(0.05)
    assert events == ["cancelled"]


async def test_a_message_too_big_for_a_handler_receiving_itself_closes_with_1009_and_cancels_it(app, client):
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    events = []

    @app.websocket("/ws")
    async def handle():
        try:
            while True:
                await websocket.send(await websocket.receive())
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with client.websocket("/ws") as ws:
        await ws.send("short")
        assert await ws.receive() == "short"
        await ws.send("x" * 11)
        with pytest.raises(WebsocketDisconnectError) as closed:
            await ws.receive()
    assert closed.value.code == 1009
    assert events == ["cancelled"]


async def test_a_receive_timing_out_loses_no_message(app, client):
    @app.websocket("/ws")
    async def handle():
        got = []
        while len(got) < 20:
            try:
                got.append(await asyncio.wait_for(websocket.receive(), 0.001))
            except TimeoutError:
                pass
        await websocket.send(",".join(got))

    async with client.websocket("/ws") as ws:
        for number in range(20):
            await ws.send(str(number))
            await asyncio.sleep(0.002)
        assert await asyncio.wait_for(ws.receive(), 10) == ",".join(str(n) for n in range(20))
