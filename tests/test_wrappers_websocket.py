"""quaver/wrappers/websocket.py: the inbox between the ASGI reader and ``websocket.receive``."""

from __future__ import annotations

import asyncio

import pytest

from quaver import Quaver, websocket
from quaver.wrappers.websocket import Inbox


async def test_messages_come_out_in_the_order_they_went_in() -> None:
    inbox = Inbox()
    for number in range(10):
        await inbox.put(f"m{number}")
    assert [await inbox.get() for _ in range(10)] == [f"m{number}" for number in range(10)]


async def test_a_waiting_get_takes_the_next_message() -> None:
    inbox = Inbox()
    getter = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    await inbox.put(b"binary")
    assert await asyncio.wait_for(getter, 1) == b"binary"


async def test_put_waits_while_the_inbox_is_full_and_resumes_once_a_message_is_taken() -> None:
    inbox = Inbox(size=2)
    await inbox.put("a")
    await inbox.put("b")
    third = asyncio.ensure_future(inbox.put("c"))
    await asyncio.sleep(0.01)
    assert not third.done()  # held back: the client waits, TCP pushes back
    assert await inbox.get() == "a"
    await asyncio.wait_for(third, 1)
    assert [await inbox.get(), await inbox.get()] == ["b", "c"]


async def test_a_get_cancelled_just_as_a_message_arrives_leaves_the_message_for_the_next_get() -> None:
    inbox = Inbox()
    getter = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    await inbox.put("kept")  # handed to the waiting get...
    getter.cancel()  # ...which is cancelled before it runs again (a wait_for timing out)
    with pytest.raises(asyncio.CancelledError):
        await getter
    await inbox.put("next")
    assert [await inbox.get(), await inbox.get()] == ["kept", "next"]


async def test_a_client_sending_faster_than_the_handler_reads_loses_nothing() -> None:
    app = Quaver(__name__)

    @app.websocket("/ws")
    async def slow() -> None:
        seen = []
        while len(seen) < 300:
            seen.append(await websocket.receive())
            if len(seen) % 50 == 0:
                await asyncio.sleep(0.01)
        await websocket.send(",".join(seen))

    async with app.test_client().websocket("/ws") as connection:
        for number in range(300):
            await connection.send(str(number))
        assert await asyncio.wait_for(connection.receive(), 10) == ",".join(str(n) for n in range(300))
