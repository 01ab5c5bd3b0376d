"""The load generator of bench/ws/run.py: websocket connections that each echo
a text message back and forth (ping-pong: one message in flight per
connection), counting round trips and checking that every echo is the message
sent.

Two clients, the same protocol:

- ``raw`` (the default): RFC 6455 by hand on an asyncio ``Protocol`` over
  uvloop. A message is built and masked with a few integer operations, and
  an echo is checked by comparing the bytes received with the frame expected,
  so each round trip costs the client a few microseconds.
- ``websockets``: the ``websockets`` library's asyncio client, one coroutine
  per connection, for comparison (it costs more per message than the raw one).

``run_client`` is what one client process runs: it opens its connections,
says "ready" on its pipe, waits for the number of seconds to run, runs them
and sends back what it counted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
import resource
import struct
import time
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONNECT_AT_ONCE = 50  # handshakes in flight per client process (Hypercorn's listen backlog is 100)


def frame_header(opcode: int, size: int, masked: bool) -> bytes:
    """The first bytes of a final frame of ``size`` payload bytes (a mask key follows when ``masked``)."""
    mask_bit = 0x80 if masked else 0
    if size < 126:
        return bytes((0x80 | opcode, mask_bit | size))
    if size < 65536:
        return bytes((0x80 | opcode, mask_bit | 126)) + struct.pack("!H", size)
    return bytes((0x80 | opcode, mask_bit | 127)) + struct.pack("!Q", size)


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: ``payload`` masked with a fresh key."""
    key = random.getrandbits(32).to_bytes(4, "big")
    size = len(payload)
    mask = int.from_bytes((key * (size // 4 + 1))[:size], "big")
    body = (int.from_bytes(payload, "big") ^ mask).to_bytes(size, "big") if size else b""
    return frame_header(opcode, size, True) + key + body


def message(number: int, seq: int, size: int) -> bytes:
    """The ``seq``-th message of connection ``number``: ``size`` bytes of ASCII, unique to both."""
    head = b"%06d-%010d-" % (number, seq)
    return (head + b"x" * size)[:size] if size >= len(head) else head[-size:]


class RawEcho(asyncio.Protocol):
    """One connection: the handshake, then a message sent each time the previous one came back."""

    def __init__(self, number: int, host: str, port: int, size: int, opened: asyncio.Future[None]) -> None:
        self.number, self.host, self.port, self.size = number, host, port, size
        self.opened = opened
        self.key = base64.b64encode(os.urandom(16))
        self.transport: asyncio.Transport | None = None
        self.handshaken = False
        self.buffer = b""
        self.header = frame_header(0x1, size, False)
        self.expected = b""  # the frame the server must send back for the message in flight
        self.payload = b""
        self.seq = 0
        self.count = 0
        self.running = False
        self.in_flight = False
        self.errors: list[str] = []
        self.idle: asyncio.Future[None] | None = None  # set once no message is in flight, after stop()
        self.closed: asyncio.Future[None] | None = None

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(
            b"GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (self.host.encode(), self.port, self.key)
        )

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data = self.buffer + data
            self.buffer = b""
        if data == self.expected:  # the usual case: exactly the echo awaited
            self.count += 1
            self.in_flight = False
            if self.running:
                self.send_next()
            elif self.idle is not None and not self.idle.done():
                self.idle.set_result(None)
            return
        if not self.handshaken:
            self.handshake(data)
        else:
            self.frames(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is not None:  # after stop(): the end expected
            if not self.closed.done():
                self.closed.set_result(None)
        elif not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection {self.number} lost in the handshake: {exc!r}"))
        elif not self.errors:
            self.errors.append(f"connection {self.number} lost: {exc!r}")
        if self.idle is not None and not self.idle.done():
            self.idle.set_result(None)

    # -- the protocol
    def handshake(self, data: bytes) -> None:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            self.buffer = data
            return
        head, rest = data[:end].decode("latin-1"), data[end + 4 :]
        lines = head.split("\r\n")
        fields = (line.partition(":") for line in lines[1:])
        headers = {name.strip().lower(): value.strip() for name, _, value in fields}
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()
        if not lines[0].startswith("HTTP/1.1 101") or headers.get("sec-websocket-accept") != accept:
            self.opened.set_exception(RuntimeError(f"handshake refused: {lines[0]!r}"))
            self.transport.close()
            return
        self.handshaken = True
        self.opened.set_result(None)
        if rest:
            self.frames(rest)

    def frames(self, data: bytes) -> None:
        """Frames other than the one awaited whole: split, control frames, several at once."""
        view = 0
        while len(data) - view >= 2:
            first, second = data[view], data[view + 1]
            size, at = second & 0x7F, view + 2
            if size == 126:
                if len(data) - at < 2:
                    break
                size, at = struct.unpack_from("!H", data, at)[0], at + 2
            elif size == 127:
                if len(data) - at < 8:
                    break
                size, at = struct.unpack_from("!Q", data, at)[0], at + 8
            if second & 0x80:
                self.fail("the server masked a frame")
                return
            if len(data) - at < size:
                break
            payload, view = data[at : at + size], at + size
            opcode = first & 0x0F
            if opcode == 0x9:  # ping
                self.transport.write(masked_frame(0xA, payload))
            elif opcode == 0xA:  # pong
                pass
            elif opcode == 0x8:  # close
                if self.closed is None:
                    self.fail(f"the server closed the connection: {payload!r}")
                    return
            elif not first & 0x80 or opcode != 0x1:
                self.fail(f"an unexpected frame (opcode {opcode}, fin {bool(first & 0x80)})")
                return
            elif not self.in_flight or payload != self.payload:
                self.fail(f"echo {payload!r} is not the message sent, {self.payload!r}")
                return
            else:
                self.count += 1
                self.in_flight = False
                if self.running:
                    self.send_next()
                elif self.idle is not None and not self.idle.done():
                    self.idle.set_result(None)
        self.buffer = data[view:]

    def fail(self, error: str) -> None:
        self.errors.append(f"connection {self.number}: {error}")
        self.running = False
        self.transport.close()

    def send_next(self) -> None:
        self.seq += 1
        self.payload = message(self.number, self.seq, self.size)
        self.expected = self.header + self.payload
        self.in_flight = True
        self.transport.write(masked_frame(0x1, self.payload))

    # -- driven by run_raw
    def start(self) -> None:
        self.running = True
        self.send_next()

    async def stop(self) -> None:
        """Stop sending, wait for the echo in flight, then close the connection (code 1000)."""
        self.running = False
        loop = asyncio.get_running_loop()
        if self.in_flight and not self.transport.is_closing():
            self.idle = loop.create_future()
            await asyncio.wait_for(self.idle, 30)
        self.closed = loop.create_future()
        if self.transport.is_closing():
            return
        self.transport.write(masked_frame(0x8, struct.pack("!H", 1000)))
        try:
            await asyncio.wait_for(self.closed, 10)  # the server closes the TCP connection after its close frame
        except TimeoutError:
            self.transport.close()


async def open_raw(host: str, port: int, count: int, first: int, size: int) -> list[RawEcho]:
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(number: int) -> RawEcho:
        async with limit:
            for attempt in range(10):
                opened: asyncio.Future[None] = loop.create_future()
                try:
                    _, protocol = await loop.create_connection(
                        lambda: RawEcho(number, host, port, size, opened), host, port  # noqa: B023  (awaited here)
                    )
                    await asyncio.wait_for(opened, 30)
                    return protocol
                except OSError:
                    if attempt == 9:
                        raise
                    await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(first + index) for index in range(count))))


async def run_raw(connections: list[RawEcho], seconds: float) -> int:
    for connection in connections:
        connection.start()
    await asyncio.sleep(seconds)
    return sum(connection.count for connection in connections)


async def open_websockets(host: str, port: int, count: int, first: int, size: int) -> list[Any]:
    from websockets.asyncio.client import connect

    limit = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one() -> Any:
        async with limit:
            return await connect(f"ws://{host}:{port}/ws", compression=None, ping_interval=None, open_timeout=30)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def run_websockets(sockets: list[Any], first: int, size: int, seconds: float, errors: list[str]) -> int:
    counts = [0] * len(sockets)
    running = True

    async def echo(index: int, socket: Any) -> None:
        seq = 0
        while running:
            seq += 1
            text = message(first + index, seq, size).decode()
            await socket.send(text)
            got = await socket.recv()
            if got != text:
                errors.append(f"connection {first + index}: echo {got!r} is not the message sent, {text!r}")
                return
            counts[index] += 1

    tasks = [asyncio.create_task(echo(index, socket)) for index, socket in enumerate(sockets)]
    await asyncio.sleep(seconds)
    total = sum(counts)
    running = False
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await asyncio.gather(*(socket.close() for socket in sockets))
    return total


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_client(kind: str, host: str, port: int, count: int, first: int, size: int, pipe: Any) -> None:
    """One client process: ``count`` connections numbered from ``first``; on the pipe "ready", then
    (after it is sent the seconds to run) a dict of round trips, seconds, CPU seconds and errors."""
    import uvloop

    async def main() -> None:
        errors: list[str] = []
        if kind == "raw":
            connections = await open_raw(host, port, count, first, size)
        else:
            connections = await open_websockets(host, port, count, first, size)
        pipe.send("ready")
        seconds = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        cpu, started = cpu_seconds(), time.perf_counter()
        if kind == "raw":
            total = await run_raw(connections, seconds)
        else:
            total = await run_websockets(connections, first, size, seconds, errors)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        if kind == "raw":
            await asyncio.gather(*(connection.stop() for connection in connections), return_exceptions=True)
            for connection in connections:
                errors.extend(connection.errors)
        pipe.send({"messages": total, "seconds": elapsed, "cpu": cpu, "errors": errors[:5]})

    try:
        uvloop.run(main())
    except BaseException as error:  # the parent reports it and stops the run
        pipe.send({"error": f"{type(error).__name__}: {error}"})
        raise
