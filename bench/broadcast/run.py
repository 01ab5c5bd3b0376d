"""Broadcast benchmark: K websocket clients connected straight to N server
processes, M messages of 200 bytes of JSON published (POST /publish to the
first process) at 20 a second and, separately, as one burst of 100 back to
back. Every client must get every message, in order (checked); the table
gives p50/p99 delivery latency (publish call to receipt) and deliveries per
second, for quaver.pubsub and for Starlette + encode's broadcaster, on
memory (N=1), Redis and PostgreSQL, same clients, same rates, one run.

    /tmp/bcv/bin/pip install broadcaster starlette hypercorn redis asyncpg websockets
    .venv/bin/python bench/broadcast/run.py --clients 2000 --processes 2 \\
        --broadcaster-python /tmp/bcv/bin/python

Brokers are started by the script (a redis-server and a throwaway
PostgreSQL cluster of its own). Raise ``ulimit -n`` for many clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from broker_servers import PostgresCluster, RedisServer, free_port, wait_for_port  # noqa: E402


def message(seq: int) -> dict:
    """A 200-byte JSON message (compact), numbered ``seq``."""
    body = {"seq": seq, "t": round(time.time(), 6), "pad": ""}
    size = len(json.dumps(body, separators=(",", ":")))
    body["pad"] = "x" * (200 - size)
    return body


def client_process(ports: list[int], count: int, offset: int, expected: int, pipe) -> None:  # noqa: ANN001
    """``count`` websockets (spread over ``ports``): each records (seq, time) of
    what it receives; reports to ``pipe`` once all are ready, then the results."""
    import websockets

    async def main() -> None:
        sockets = []
        for number in range(count):
            port = ports[(offset + number) % len(ports)]
            for attempt in range(20):
                try:
                    socket = await websockets.connect(
                        f"ws://127.0.0.1:{port}/ws", max_queue=None, ping_interval=None, open_timeout=30
                    )
                    break
                except OSError:
                    await asyncio.sleep(0.1 * (attempt + 1))
            else:
                raise RuntimeError(f"could not connect to {port}")
            assert await socket.recv() == "ready"
            sockets.append(socket)
        pipe.send("ready")
        got: list[list[tuple[int, float]]] = [[] for _ in sockets]

        async def read(index: int, socket) -> None:  # noqa: ANN001
            while len(got[index]) < expected:
                raw = await socket.recv()
                got[index].append((json.loads(raw)["seq"], time.time()))

        timeout = pipe.recv()  # the parent starts publishing now
        try:
            await asyncio.wait_for(asyncio.gather(*(read(i, s) for i, s in enumerate(sockets))), timeout)
        except TimeoutError:
            pass
        pipe.send(got)
        for socket in sockets:
            await socket.close()

    asyncio.run(main())


def run_case(ports: list[int], clients: int, messages: int, rate: float | None, client_procs: int) -> dict:
    """Connect, publish, collect: the figures of one case."""
    import httpx

    pipes, procs = [], []
    share = -(-clients // client_procs)
    try:
        for index in range(client_procs):
            count = min(share, clients - index * share)
            if count <= 0:
                break
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=client_process, args=(ports, count, index * share, messages, child))
            proc.start()
            child.close()  # a client process that dies makes recv() raise EOFError
            pipes.append(parent)
            procs.append(proc)
        for pipe in pipes:
            assert pipe.recv() == "ready"
        timeout = (messages / rate if rate else 0) + 120  # a loaded machine delivers slowly; a miss is still counted
        for pipe in pipes:
            pipe.send(timeout)
        sent: dict[int, float] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=10) as http:
            started = time.time()
            for seq in range(messages):
                if rate:
                    delay = started + seq / rate - time.time()
                    if delay > 0:
                        time.sleep(delay)
                body = message(seq)
                sent[seq] = body["t"]
                assert http.post("/publish", json=body).status_code == 204
        results = []
        for pipe in pipes:
            results.extend(pipe.recv())
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    latencies, complete, in_order, last = [], 0, 0, 0.0
    for got in results:
        seqs = [seq for seq, _ in got]
        complete += bool(seqs) and sorted(set(seqs)) == list(range(messages))
        in_order += seqs == list(range(messages))
        for seq, when in got:
            latencies.append(when - sent[seq])
            last = max(last, when)
    latencies.sort()
    total = len(latencies)
    return {
        "clients": clients,
        "complete": complete,
        "in_order": in_order,
        "deliveries": total,
        "expected": clients * messages,
        "p50_ms": 1000 * latencies[total // 2] if total else None,
        "p99_ms": 1000 * latencies[min(total - 1, int(total * 0.99))] if total else None,
        "per_second": total / (last - started) if total else 0,
    }


def start_servers(
    python: str, framework: str, url: str, count: int, logs: Path
) -> tuple[list[int], list[subprocess.Popen]]:
    ports, procs = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for number in range(count):
        port = free_port()
        log = open(logs / f"{framework}-{number}.log", "wb")
        command = [python, str(HERE / "servers.py"), framework, url, str(port)]
        procs.append(subprocess.Popen(command, stdout=log, stderr=log, env=env))
        ports.append(port)
    for port in ports:
        wait_for_port(port, 30)
    return ports, procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2, help="server processes for Redis and PostgreSQL")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--broadcaster-python", help="a python with starlette, broadcaster, hypercorn (skipped without)"
    )
    parser.add_argument("--brokers", default="memory,redis,postgres")
    parser.add_argument("--logs", default="/tmp/quaver-bench-broadcast")
    arguments = parser.parse_args()
    logs = Path(arguments.logs)
    logs.mkdir(parents=True, exist_ok=True)
    setups = [("quaver", sys.executable)]
    if arguments.broadcaster_python:
        setups.append(("starlette", arguments.broadcaster_python))
    rows = []
    with RedisServer() as redis, PostgresCluster() as postgres:
        urls = {"memory": "memory://", "redis": redis.url, "postgres": postgres.url}
        for broker in arguments.brokers.split(","):
            count = 1 if broker == "memory" else arguments.processes
            for framework, python in setups:
                for mode, rate in (("20/s", 20.0), ("burst", None)):
                    ports, procs = start_servers(python, framework, urls[broker], count, logs)
                    try:
                        figures = run_case(
                            ports, arguments.clients, arguments.messages, rate, arguments.client_processes
                        )
                    except Exception as error:  # e.g. the server refused websockets: a row saying so
                        figures = {"clients": arguments.clients, "complete": 0, "in_order": 0, "deliveries": 0,
                                   "expected": arguments.clients * arguments.messages, "p50_ms": None,
                                   "p99_ms": None, "per_second": 0, "error": f"{type(error).__name__}: {error}"[:120]}
                    finally:
                        stop(procs)
                    row = {"setup": framework, "broker": broker, "N": count, "mode": mode, **figures}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print()
    print("| set-up | broker | N | K | published | all delivered, in order | p50 ms | p99 ms | deliveries/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    names = {"quaver": "Quaver + quaver.pubsub", "starlette": "Starlette + broadcaster"}
    for row in rows:
        ok = f"{row['in_order']}/{row['clients']}"
        if row["deliveries"] != row["expected"]:
            ok += f" ({row['deliveries']}/{row['expected']})"
        if row.get("error"):
            ok += f" ({row['error']})"
        p50 = f"{row['p50_ms']:.0f}" if row["p50_ms"] is not None else "-"
        p99 = f"{row['p99_ms']:.0f}" if row["p99_ms"] is not None else "-"
        published = f"{arguments.messages} {'at 20/s' if row['mode'] == '20/s' else 'in a burst'}"
        print(
            f"| {names[row['setup']]} | {row['broker']} | {row['N']} | {row['clients']} | {published} "
            f"| {ok} | {p50} | {p99} | {row['per_second']:.0f} |"
        )


if __name__ == "__main__":
    main()
