"""Runs encode's ``broadcaster`` through issue 13's semantics and fault rows,
on a redis-server and a PostgreSQL cluster of its own (tests/broker_servers.py).
Run it in a scratch venv holding broadcaster, redis and asyncpg:

    python3 -m venv /tmp/bcv && /tmp/bcv/bin/pip install broadcaster redis asyncpg
    /tmp/bcv/bin/python bench/broadcast/evaluate_broadcaster.py

Prints one line per check: PASS or FAIL and what was seen. With broadcaster
0.3.1, redis 8.1.0 and asyncpg 0.32.0 (December 2026) it fails: subscriber
queues are unbounded (no back-pressure, no drop: memory grows); connect()
raises with either broker down at start-up; on Redis a message published
0.5 s after subscribing never arrives (reading its source: its listener can
run before redis-py records the subscription, find none, and wait for good);
on PostgreSQL its one connection is never replaced after a restart, so
subscribers hear nothing again. Messages are strings (no JSON, no size limit).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from broadcaster import Broadcast  # noqa: E402
from broker_servers import PostgresCluster, RedisServer  # noqa: E402


def report(ok: bool, what: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {what}", flush=True)


async def down_at_start_up(kind: str, url: str) -> None:
    broadcast = Broadcast(url)
    try:
        await asyncio.wait_for(broadcast.connect(), 10)
        report(True, f"{kind}: connect() with the broker down at start-up")
    except Exception as error:
        report(False, f"{kind}: connect() with the broker down at start-up raises {type(error).__name__}")


async def slow_subscriber(url: str) -> None:
    async with Broadcast(url) as broadcast:
        async with broadcast.subscribe("slow") as subscriber:
            for number in range(5000):
                await broadcast.publish("slow", str(number))
            await asyncio.sleep(0.5)
            queued = subscriber._queue.qsize()
    report(queued < 5000, f"memory: a subscriber that reads nothing holds {queued} of 5000 messages (no bound)")


async def outage(kind: str, url: str, stop, start) -> None:
    async with Broadcast(url) as broadcast:
        async with broadcast.subscribe("room") as subscriber:
            await asyncio.sleep(0.5)  # a fair chance for the subscription to take
            await broadcast.publish("room", "before")
            try:
                event = await asyncio.wait_for(subscriber.get(), 5)
            except TimeoutError:
                report(False, f"{kind}: a message published 0.5 s after subscribing never arrives")
                return
            report(event.message == "before", f"{kind}: a message before the outage")
            await stop()
            started = time.monotonic()
            try:
                await asyncio.wait_for(broadcast.publish("room", "during"), 10)
                report(False, f"{kind}: publish while down returned without error")
            except TimeoutError:
                report(False, f"{kind}: publish while down hangs (over 10 s)")
            except Exception as error:
                elapsed = time.monotonic() - started
                report(True, f"{kind}: publish while down raises {type(error).__name__} in {elapsed:.1f} s")
            await start()
            back = time.monotonic()
            heard = None
            while time.monotonic() - back < 10 and heard is None:
                try:
                    await asyncio.wait_for(broadcast.publish("room", "after"), 1)
                    heard = (await asyncio.wait_for(subscriber.get(), 0.5)).message
                except Exception:
                    await asyncio.sleep(0.2)
            took = time.monotonic() - back
            report(heard is not None and took < 5, f"{kind}: subscriber resumes after the broker returns "
                   f"({f'heard after {took:.1f} s' if heard else 'nothing heard in 10 s'})")
            listener = broadcast._listener_task
            report(not listener.done(), f"{kind}: the listener task is alive after the outage"
                   + (f" (ended: {listener.exception()!r})" if listener.done() and not listener.cancelled() else ""))


async def main() -> None:
    await slow_subscriber("memory://")
    with RedisServer() as redis:
        redis.kill()
        await down_at_start_up("redis", redis.url)
        redis.start()

        async def kill() -> None:
            redis.kill()

        async def start() -> None:
            redis.start()

        await outage("redis", redis.url, kill, start)
    with PostgresCluster() as postgres:
        postgres.stop()
        await down_at_start_up("postgres", postgres.url)
        postgres.start()

        async def stop() -> None:
            postgres.stop("immediate")

        async def start_pg() -> None:
            postgres.start()

        await outage("postgres", postgres.url, stop, start_pg)


if __name__ == "__main__":
    asyncio.run(main())
