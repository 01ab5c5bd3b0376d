"""In-process benchmark: microseconds per request, frameworks interleaved.

Each request gets a fresh ASGI scope; no server and no sockets, so what is
measured is the framework's own cost. The bare ASGI callable encodes and
decodes with orjson, as Quaver's default JSON provider does, so Quaver/bare is
what the framework adds. Run: ``python bench/bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apps import make_bare, make_quart, make_quaver, make_starlette  # noqa: E402

ROUTES = [
    ("GET /json", "GET", "/json", b""),
    ("GET /users/<int>", "GET", "/users/{n}", b""),
    ("POST /echo", "POST", "/echo", b'{"message": "hello", "values": [1, 2, 3]}'),
]
FRAMEWORKS = [("bare", make_bare), ("starlette", make_starlette), ("quaver", make_quaver), ("quart", make_quart)]


class _Done:
    """A finished future's stand-in: awaiting it returns at once."""

    def __await__(self):
        return iter(())

    def done(self) -> bool:
        return True


_DONE = _Done()


def make_scope(method: str, path: str, body: bytes) -> dict:
    headers = [(b"host", b"localhost"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


async def run_batch(app, method: str, path: str, body: bytes, count: int) -> float:
    """Microseconds per request over ``count`` requests.

    ``receive`` behaves as a server's does: the body once, then it waits
    until the response is complete and reports the disconnect.
    """
    loop = asyncio.get_running_loop()
    status = []
    start = time.perf_counter()
    for i in range(count):
        state = {"sent": False, "done": None}

        async def receive(state=state):
            if not state["sent"]:
                state["sent"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            if state["done"] is None:
                state["done"] = loop.create_future()
            await state["done"]
            return {"type": "http.disconnect"}

        async def send(message, state=state):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif not message.get("more_body", False):
                done = state["done"]
                if done is not None and not done.done():
                    done.set_result(None)
                state["done"] = done or _DONE

        await app(make_scope(method, path.format(n=i % 1000), body), receive, send)
    elapsed = time.perf_counter() - start
    if any(code != 200 for code in status):
        raise RuntimeError(f"non-200 answers from {app!r} on {path}: {set(status)}")
    return elapsed / count * 1e6


async def start_lifespan(app) -> asyncio.Task:
    queue: asyncio.Queue = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    done = asyncio.Event()

    async def send(message):
        done.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    task = asyncio.get_running_loop().create_task(app(scope, queue.get, send))
    await asyncio.wait_for(done.wait(), 5)
    return task


async def main(rounds: int, count: int) -> dict:
    apps = {name: make() for name, make in FRAMEWORKS}
    lifespans = [await start_lifespan(apps[name]) for name in ("quaver", "quart")]
    results: dict = {(name, route[0]): [] for name in apps for route in ROUTES}
    for route in ROUTES:  # warm-up
        for app in apps.values():
            await run_batch(app, route[1], route[2], route[3], 500)
    gc.collect()
    for _ in range(rounds):
        for route in ROUTES:
            for name, app in apps.items():
                results[(name, route[0])].append(await run_batch(app, route[1], route[2], route[3], count))
    for task in lifespans:
        task.cancel()
    await asyncio.gather(*lifespans, return_exceptions=True)
    return {key: statistics.median(values) for key, values in results.items()}


def table(medians: dict) -> str:
    lines = [
        "| route | bare µs | Starlette µs | Quaver µs | Quart µs | Quaver/bare | Quaver/Starlette | Quart/Quaver |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for route in ROUTES:
        r = route[0]
        bare, star, qv, qt = (medians[(n, r)] for n in ("bare", "starlette", "quaver", "quart"))
        lines.append(
            f"| {r} | {bare:.1f} | {star:.1f} | {qv:.1f} | {qt:.1f} "
            f"| {qv / bare:.1f}x | {qv / star:.2f}x | {qt / qv:.1f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median is reported)")
    parser.add_argument("--count", type=int, default=3000, help="requests per route per round")
    args = parser.parse_args()
    medians = asyncio.run(main(args.rounds, args.count))
    print(f"Python {sys.version.split()[0]}, {args.rounds} rounds x {args.count} requests, median µs per request\n")
    print(table(medians))
