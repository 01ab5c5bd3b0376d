"""Soak: many requests over mixed routes against one server process.

    python bench/soak.py                       # 100 000 requests on Hypercorn
    python bench/soak.py --requests 20000 --server uvicorn

bench/soak_app.py is served by one worker in a child process (Hypercorn
through ``app.run`` by default, or Uvicorn). Real clients talk to it over
127.0.0.1: ``--concurrency`` workers (12 by default), each with its own
keep-alive ``httpx.AsyncClient`` and its own ``websockets`` connection.
Every cycle of a worker goes through every route: JSON in and out, an
urlencoded form, a multipart upload, a streamed response, a streamed
upload, the session, a template, an error (404 or 418) and two WebSocket
messages; every 5th cycle opens a short WebSocket connection too, every
25th replaces the long one and every 10th walks away from a slow stream
after its first chunk. Each response's status and body are checked. Each
of these steps counts as one request (a WebSocket message and its echo is
one; a short connection with its three messages is one).

A sampler asks ``/_stats`` for the server's running tasks and resident
memory a few times a second. The soak passes when

- no request failed and the server logged no error;
- the median RSS of the last quarter of the run is within 10% of the
  median of the first quarter (the quarters come after a warm-up of
  ``--warmup`` requests, which are not counted);
- the running tasks once idle at the end are as many as at the start;
- the server stops cleanly on SIGINT.

It prints a table of the figures and exits 1 if a criterion fails. The
100 000 take 4 to 5 minutes on a 2-core machine shared with other work;
tests/test_soak.py runs the same code with 20 000 on each server.
bench/soak_app.py's docstring says how to look into a leak.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from soak_app import stream_chunk  # noqa: E402

MEMORY_TOLERANCE = 0.10
SHORT_WEBSOCKET_EVERY = 5
ABANDONED_STREAM_EVERY = 10
NEW_WEBSOCKET_EVERY = 25


class Mismatch(Exception):
    """A response that is not what the route should have answered."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Mismatch(what)


@dataclass
class Sample:
    done: int
    tasks: int
    rss: int


@dataclass
class Progress:
    """What the workers share: requests done, errors, and when to stop."""

    target: int
    done: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    def count(self, error: BaseException | None = None) -> None:
        self.done += 1
        if error is not None:
            self.errors += 1
            if len(self.messages) < 20:
                self.messages.append(f"{type(error).__name__}: {error}"[:300])

    @property
    def finished(self) -> bool:
        return self.done >= self.target


@dataclass
class SoakResult:
    server: str
    requests: int
    errors: int
    error_messages: list[str]
    server_errors: list[str]
    exit_code: int | None
    warmup: int
    seconds: float
    samples: list[Sample]
    rss_first: float
    rss_last: float
    tasks_start: int
    tasks_end: int
    tasks_max: int
    objects_start: int
    objects_end: int
    type_growth: list[tuple[str, int]]

    @property
    def rss_change(self) -> float:
        return (self.rss_last - self.rss_first) / self.rss_first

    @property
    def failures(self) -> list[str]:
        failed = []
        if self.errors:
            failed.append(f"{self.errors} requests failed: {self.error_messages[:5]}")
        if self.server_errors:
            failed.append(f"the server logged errors: {self.server_errors[:5]}")
        if abs(self.rss_change) > MEMORY_TOLERANCE:
            failed.append(
                f"RSS moved {self.rss_change:+.1%} from the first quarter to the last "
                f"({self.rss_first / 2**20:.1f} -> {self.rss_last / 2**20:.1f} MiB)"
            )
        if self.tasks_end != self.tasks_start:
            failed.append(f"{self.tasks_end} tasks once idle at the end, {self.tasks_start} at the start")
        if self.exit_code != 0:
            failed.append(f"the server exited with {self.exit_code} on SIGINT")
        return failed

    @property
    def ok(self) -> bool:
        return not self.failures

    def table(self) -> str:
        mib = 2**20
        rows = [
            ("server", self.server),
            ("requests (after warm-up)", f"{self.requests}"),
            ("warm-up requests", f"{self.warmup}"),
            ("errors", f"{self.errors}"),
            ("server errors logged", f"{len(self.server_errors)}"),
            ("RSS first quarter (median)", f"{self.rss_first / mib:.1f} MiB"),
            ("RSS last quarter (median)", f"{self.rss_last / mib:.1f} MiB ({self.rss_change:+.1%})"),
            ("tasks idle, start / end", f"{self.tasks_start} / {self.tasks_end}"),
            ("tasks running, most seen", f"{self.tasks_max}"),
            ("gc objects idle, start / end", f"{self.objects_start} / {self.objects_end}"),
            ("samples", f"{len(self.samples)}"),
            ("duration", f"{self.seconds:.1f} s"),
            ("requests/s", f"{self.requests / self.seconds:.0f}"),
            ("server exit code", f"{self.exit_code}"),
            ("result", "PASS" if self.ok else "FAIL"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        if self.samples:
            tenths: list[list[int]] = [[] for _ in range(10)]
            for s in self.samples:
                tenths[min(9, s.done * 10 // max(self.requests, 1))].append(s.rss)
            medians = " ".join(f"{statistics.median(tenth) / mib:.1f}" if tenth else "-" for tenth in tenths)
            lines.append(f"RSS by tenth of the run, MiB: {medians}")
        if self.type_growth:
            lines.append("most grown types: " + ", ".join(f"{name} {count:+d}" for name, count in self.type_growth))
        lines.extend(f"FAIL: {failure}" for failure in self.failures)
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(server: str, port: int, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run soak_app.py on ``server`` in a child process; always end it."""
    command = [sys.executable, str(HERE / "soak_app.py"), "--server", server, "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (directory / "stdout").open("wb") as stdout, (directory / "stderr").open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=HERE)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited with {process.returncode}: {(directory / 'stderr').read_text()}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{server} did not answer on port {port} within 20 s") from None
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> int | None:
    """SIGINT, as Ctrl-C; the exit code, or None if it had to be killed."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        return None


def logged_errors(stderr: str) -> list[str]:
    """The lines of the server's log that report an error."""
    markers = ("Traceback", "ERROR", "Error:", "Exception", "CRITICAL", "WARNING")
    return [line for line in stderr.splitlines() if any(marker in line for marker in markers)]


class Stats:
    """/_stats over one keep-alive connection of its own."""

    def __init__(self, base: str) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=30)

    async def get(self, objects: bool = False) -> dict[str, Any]:
        response = await self.client.get("/_stats", params={"objects": "1"} if objects else None)
        response.raise_for_status()
        return response.json()

    async def idle(self, tasks: int | None = None, settle: float = 6, wait: float = 30) -> dict[str, Any]:
        """The figures once the server has let go of closed connections:
        when it runs ``tasks`` tasks, or when its count has not moved for
        ``settle`` seconds (Hypercorn keeps a closed connection's tasks for
        up to its keep-alive timeout, 5 s), or after ``wait`` seconds."""
        began = time.monotonic()
        previous, since = None, began
        while True:
            count = (await self.get())["tasks"]
            now = time.monotonic()
            if count != previous:
                previous, since = count, now
            if count == tasks or now - since >= settle or now - began >= wait:
                return await self.get(objects=True)
            await asyncio.sleep(0.25)

    async def sample(self, progress: Progress, samples: list[Sample], interval: float, over: asyncio.Event) -> None:
        """Record the server's tasks and RSS every ``interval`` seconds until ``over`` is set."""
        while not over.is_set():
            stats = await self.get()
            samples.append(Sample(progress.done, stats["tasks"], stats["rss"]))
            try:
                await asyncio.wait_for(over.wait(), interval)
            except TimeoutError:
                pass

    async def aclose(self) -> None:
        await self.client.aclose()


class Worker:
    """One client: a keep-alive HTTP connection, a session, a websocket."""

    def __init__(self, index: int, base: str, progress: Progress, seed: int) -> None:
        self.index = index
        self.base = base
        self.ws_url = base.replace("http://", "ws://") + "/ws"
        self.progress = progress
        self.random = random.Random(seed * 1000 + index)
        self.visits = 0
        self.cycle = 0
        self.websocket: ClientConnection | None = None

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            self.client = client
            try:
                while not self.progress.finished:
                    await self.run_cycle()
                    self.cycle += 1
            finally:
                if self.websocket is not None:
                    await self.websocket.close()

    async def run_cycle(self) -> None:
        steps = [
            self.post_json,
            self.post_form,
            self.post_multipart,
            self.get_stream,
            self.post_stream,
            self.get_session,
            self.get_page,
            self.get_error,
            self.websocket_text,
            self.websocket_bytes,
        ]
        if self.cycle % SHORT_WEBSOCKET_EVERY == 0:
            steps.append(self.short_websocket)
        if self.cycle % ABANDONED_STREAM_EVERY == 0:
            steps.append(self.abandon_stream)
        for step in steps:
            if self.progress.finished:
                return
            try:
                await step()
            except Exception as error:
                self.progress.count(error)
                if step in (self.websocket_text, self.websocket_bytes) and self.websocket is not None:
                    await self.websocket.close()
                    self.websocket = None
            else:
                self.progress.count()

    def tag(self) -> str:
        return f"w{self.index}c{self.cycle}"

    async def post_json(self) -> None:
        payload = {"tag": self.tag(), "values": [self.random.randrange(1000) for _ in range(10)], "text": "naïve ☃"}
        response = await self.client.post("/json", json=payload)
        expect(response.status_code == 200, f"/json answered {response.status_code}")
        expect(response.json() == {"echo": payload, "total": sum(payload["values"])}, f"/json body {response.text!r}")

    async def post_form(self) -> None:
        fields = {"name": self.tag(), "tag": ["a", str(self.cycle)]}
        response = await self.client.post("/form", data=fields)
        expect(response.status_code == 200, f"/form answered {response.status_code}")
        expect(response.json() == {"name": self.tag(), "tags": ["a", str(self.cycle)]}, f"/form body {response.text!r}")

    async def post_multipart(self) -> None:
        content = self.random.randbytes(self.random.randrange(256, 4096))
        filename = f"{self.tag()}.bin"
        response = await self.client.post(
            "/upload", data={"note": self.tag()}, files={"file": (filename, content, "application/octet-stream")}
        )
        expect(response.status_code == 200, f"/upload answered {response.status_code}")
        wanted = {
            "filename": filename,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "note": self.tag(),
        }
        expect(response.json() == wanted, f"/upload body {response.text!r}")

    async def get_stream(self) -> None:
        chunks, size = 3 + self.cycle % 5, 500 + 100 * (self.cycle % 7)
        async with self.client.stream("GET", "/stream", params={"chunks": chunks, "size": size}) as response:
            expect(response.status_code == 200, f"/stream answered {response.status_code}")
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
        expect(body == b"".join(stream_chunk(i, size) for i in range(chunks)), f"/stream body of {len(body)} bytes")

    async def post_stream(self) -> None:
        parts = [self.random.randbytes(self.random.randrange(1, 3000)) for _ in range(4)]

        async def upload() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        response = await self.client.post("/stream-in", content=upload())
        expect(response.status_code == 200, f"/stream-in answered {response.status_code}")
        whole = b"".join(parts)
        wanted = {"size": len(whole), "sha256": hashlib.sha256(whole).hexdigest()}
        expect(response.json() == wanted, f"/stream-in body {response.text!r}")

    async def get_session(self) -> None:
        response = await self.client.get("/session")
        expect(response.status_code == 200, f"/session answered {response.status_code}")
        visits = response.json()["visits"]
        wanted, self.visits = self.visits + 1, visits
        expect(visits == wanted, f"/session counted {visits} visits, not {wanted}")

    async def get_page(self) -> None:
        name = self.tag()
        response = await self.client.get(f"/page/{name}")
        expect(response.status_code == 200, f"/page answered {response.status_code}")
        items = "".join(f"<li>{name}-{i}</li>" for i in range(5))
        wanted = f"<!doctype html>\n<title>{name}</title>\n<ul>{items}</ul>"
        expect(response.text == wanted, f"/page body {response.text!r}")
        expect(response.headers["content-type"] == "text/html; charset=utf-8", "/page content type")

    async def get_error(self) -> None:
        if self.cycle % 2:
            response = await self.client.get("/teapot")
            expect(response.status_code == 418, f"/teapot answered {response.status_code}")
            expect("teapot" in response.text, f"/teapot body {response.text!r}")
        else:
            response = await self.client.get(f"/missing/{self.tag()}")
            expect(response.status_code == 404, f"/missing answered {response.status_code}")
            expect("Not Found" in response.text, f"/missing body {response.text!r}")

    async def connected(self) -> ClientConnection:
        """The long-lived websocket, replaced every NEW_WEBSOCKET_EVERY cycles."""
        if self.websocket is not None and self.cycle % NEW_WEBSOCKET_EVERY == 0 and self.cycle:
            await self.websocket.close()
            self.websocket = None
        if self.websocket is None:
            self.websocket = await connect(self.ws_url, open_timeout=30)
        return self.websocket

    async def websocket_text(self) -> None:
        ws = await self.connected()
        await ws.send(self.tag())
        reply = await asyncio.wait_for(ws.recv(), 30)
        expect(reply == f"echo: {self.tag()}", f"/ws echoed {reply!r}")

    async def websocket_bytes(self) -> None:
        ws = await self.connected()
        data = self.random.randbytes(64)
        await ws.send(data)
        reply = await asyncio.wait_for(ws.recv(), 30)
        expect(reply == data[::-1], f"/ws echoed {reply!r}")

    async def short_websocket(self) -> None:
        async with connect(self.ws_url, open_timeout=30) as ws:
            for n in range(3):
                await ws.send(f"{self.tag()}-{n}")
                reply = await asyncio.wait_for(ws.recv(), 30)
                expect(reply == f"echo: {self.tag()}-{n}", f"short /ws echoed {reply!r}")

    async def abandon_stream(self) -> None:
        """Read the first chunk of a slow stream, then leave (the connection closes)."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            params = {"chunks": 1000, "size": 100, "pause": 0.01}
            async with client.stream("GET", "/stream", params=params) as response:
                expect(response.status_code == 200, f"slow /stream answered {response.status_code}")
                async for chunk in response.aiter_raw():
                    expect(stream_chunk(0, 100).startswith(chunk[:100]), f"slow /stream began {chunk[:20]!r}")
                    break


async def drive(base: str, requests: int, warmup: int, concurrency: int, interval: float, seed: int) -> dict[str, Any]:
    """The client side of the soak; the figures it gathered."""
    stats = Stats(base)
    try:
        start = await stats.idle()
        if warmup:
            warming = Progress(warmup)
            await asyncio.gather(*(Worker(i, base, warming, seed + 1).run() for i in range(concurrency)))
            if warming.errors:
                raise RuntimeError(f"the warm-up failed: {warming.messages[:5]}")
        warm = await stats.idle(start["tasks"])
        progress = Progress(requests)
        samples: list[Sample] = []
        over = asyncio.Event()
        sampler = asyncio.create_task(stats.sample(progress, samples, interval, over))
        began = time.perf_counter()
        await asyncio.gather(*(Worker(i, base, progress, seed).run() for i in range(concurrency)))
        seconds = time.perf_counter() - began
        over.set()
        await sampler
        end = await stats.idle(start["tasks"])
    finally:
        await stats.aclose()
    return {"start": start, "warm": warm, "end": end, "progress": progress, "samples": samples, "seconds": seconds}


def run_soak(
    requests: int = 100_000,
    server: str = "hypercorn",
    concurrency: int = 12,
    warmup: int | None = None,
    interval: float = 0.25,
    seed: int = 8,
) -> SoakResult:
    """Serve soak_app.py with ``server``, put ``requests`` through it, and measure."""
    if warmup is None:
        warmup = min(5000, requests // 4)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="quaver-soak-") as directory:
        with serve(server, port, Path(directory)) as process:
            figures = asyncio.run(drive(base, requests, warmup, concurrency, interval, seed))
            exit_code = stop(process)
        stderr = (Path(directory) / "stderr").read_text(errors="replace")
    progress: Progress = figures["progress"]
    samples: list[Sample] = figures["samples"]
    quarter = requests / 4
    first = [s.rss for s in samples if s.done <= quarter] or [0]
    last = [s.rss for s in samples if s.done >= requests - quarter] or [0]
    warm, end = figures["warm"], figures["end"]
    before = dict(warm.get("types", []))
    growth = [(name, count - before.get(name, 0)) for name, count in end.get("types", [])]
    growth = sorted((item for item in growth if item[1] > 0), key=lambda item: -item[1])[:6]
    return SoakResult(
        server=server,
        requests=progress.done,
        errors=progress.errors,
        error_messages=progress.messages,
        server_errors=logged_errors(stderr),
        exit_code=exit_code,
        warmup=warmup,
        seconds=figures["seconds"],
        samples=samples,
        rss_first=statistics.median(first),
        rss_last=statistics.median(last),
        tasks_start=figures["start"]["tasks"],
        tasks_end=end["tasks"],
        tasks_max=max((s.tasks for s in samples), default=0),
        objects_start=warm.get("objects", 0),
        objects_end=end.get("objects", 0),
        type_growth=growth,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Soak a Quaver app served by one worker with mixed traffic.")
    parser.add_argument("--requests", type=int, default=100_000, help="requests after the warm-up (100000)")
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--concurrency", type=int, default=12, help="client workers, one connection each (12)")
    parser.add_argument("--warmup", type=int, default=None, help="requests before measuring (a quarter, at most 5000)")
    parser.add_argument("--seed", type=int, default=8)
    options = parser.parse_args()
    result = run_soak(options.requests, options.server, options.concurrency, options.warmup, seed=options.seed)
    print(result.table())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
