"""quaver.pubsub when the broker goes away mid-stream: a redis-server and a
PostgreSQL cluster of the test's own are killed and started again under an
app served by Hypercorn, with a websocket subscribed through it."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import httpx
import pytest
import websockets
from broker_servers import PostgresCluster, RedisServer, free_port, wait_for_port

from quaver import Quaver, request, websocket
from quaver.pubsub import PublishError, PubSub

CHANNEL = "faults"


def make_app(url: str) -> tuple[Quaver, PubSub]:
    app = Quaver(__name__)
    pubsub = PubSub(app, url, publish_timeout=2)

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    @app.post("/publish")
    async def publish() -> tuple[str, int]:
        try:
            await pubsub.publish(CHANNEL, await request.get_json())
        except PublishError as error:
            return str(error), 503
        return "sent", 200

    @app.websocket("/ws")
    async def ws() -> None:
        async with pubsub.subscribe(CHANNEL) as messages:
            await websocket.accept()
            async for message in messages:
                await websocket.send_json(message)

    return app, pubsub


def pubsub_tasks() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("quaver.pubsub")]


async def serve_through_an_outage(app: Quaver, pubsub: PubSub, stop_broker, start_broker) -> None:
    """Publish and receive; stop the broker: HTTP still served, publish a quick
    503; start it: the websocket receives again within 5 s."""
    port = free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(app.run_task(port=port, shutdown_trigger=stop.wait))
    try:
        await asyncio.to_thread(wait_for_port, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as socket:
                while not pubsub.subscriber_count(CHANNEL):
                    await asyncio.sleep(0.01)
                assert (await http.post("/publish", json={"n": 1})).status_code == 200
                assert json.loads(await asyncio.wait_for(socket.recv(), 5)) == {"n": 1}

                await stop_broker()
                for _ in range(3):
                    started = time.monotonic()
                    response = await http.post("/publish", json={"n": "lost"})
                    assert response.status_code == 503, response.text
                    assert time.monotonic() - started < 2.5  # a clear error, never a hang
                    assert (await http.get("/ping")).text == "pong"
                assert not pubsub.connected
                assert len(pubsub_tasks()) == 1  # the one listener, reconnecting

                await start_broker()
                back = time.monotonic()
                number = 2
                while True:  # publish until the subscriber hears again
                    assert time.monotonic() - back < 5, "the subscriber did not resume within 5 s"
                    if (await http.post("/publish", json={"n": number})).status_code == 200:
                        try:
                            received = json.loads(await asyncio.wait_for(socket.recv(), 0.25))
                            break
                        except TimeoutError:
                            pass
                    number += 1
                    await asyncio.sleep(0.05)
                assert received["n"] >= 2  # nothing from the outage
                await http.post("/publish", json={"n": "after"})
                while received != {"n": "after"}:  # the rest in order, then this one
                    following = json.loads(await asyncio.wait_for(socket.recv(), 5))
                    assert following == {"n": "after"} or following["n"] > received["n"]
                    received = following
                assert len(pubsub_tasks()) == 1
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)
    assert pubsub_tasks() == []


async def test_redis_killed_mid_stream_and_started_again():
    with RedisServer() as redis:
        app, pubsub = make_app(redis.url)

        async def kill() -> None:
            redis.kill()

        async def start() -> None:
            redis.start()

        await serve_through_an_outage(app, pubsub, kill, start)
        deadline = time.monotonic() + 5
        while redis.client_count():  # every connection closed with the app
            assert time.monotonic() < deadline, f"{redis.client_count()} connections left"
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["immediate", "fast"])
async def test_postgres_restarted_mid_stream(mode):
    with PostgresCluster() as postgres:
        app, pubsub = make_app(postgres.url)

        async def stop() -> None:
            await asyncio.to_thread(postgres.stop, mode)

        async def start() -> None:
            await asyncio.to_thread(postgres.start)

        await serve_through_an_outage(app, pubsub, stop, start)
        connection = await asyncpg.connect(postgres.url)
        try:
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        assert others == 0
