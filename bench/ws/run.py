"""WebSockets over the wire: a text echo (``bench/ws/ws_apps.py``: a bare ASGI
callable, Starlette, Quart, Quaver) on Uvicorn and Hypercorn, one worker each,
bound to 127.0.0.1, driven by client processes of ``bench/ws/client.py``.
Two cases: one connection, and many concurrent connections (1,000), each
echoing a 64-byte text message back and forth; messages per second (round
trips), every echo checked. Servers and frameworks interleaved, the
frameworks' order rotating each round, each framework started fresh for its
turn; the median of the rounds reported as a markdown table.

Run: ``.venv/bin/python bench/ws/run.py`` (7 minutes on 2 cores), ``--quick`` for a
smoke run, ``--client websockets`` to drive it with the websockets library.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_servers import free_port, stop, wait_until_serving  # noqa: E402  (bench/bench_servers.py)
from client import run_client  # noqa: E402  (bench/ws/client.py)

FRAMEWORKS = ("bare", "starlette", "quart", "quaver")
LABELS = {"bare": "bare", "starlette": "Starlette", "quart": "Quart", "quaver": "Quaver"}
# uvicorn's --ws auto is websockets' Sans-I/O implementation when websockets is installed
SERVERS = {
    "uvicorn": ["uvicorn", "ws_apps:app", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                "--loop", "uvloop", "--ws", "auto", "--log-level", "warning", "--no-access-log"],
    "uvicorn-websockets": ["uvicorn", "ws_apps:app", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                           "--loop", "uvloop", "--ws", "websockets", "--log-level", "warning", "--no-access-log"],
    "uvicorn-wsproto": ["uvicorn", "ws_apps:app", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                        "--loop", "uvloop", "--ws", "wsproto", "--log-level", "warning", "--no-access-log"],
    "hypercorn": ["hypercorn", "--bind", "127.0.0.1:{port}", "--workers", "1", "--log-level", "warning",
                  "ws_apps:app"],
    "hypercorn-uvloop": ["hypercorn", "--bind", "127.0.0.1:{port}", "--workers", "1", "--log-level", "warning",
                         "--worker-class", "uvloop", "ws_apps:app"],
}
DEFAULT_SERVERS = "uvicorn,hypercorn"


def start(server: str, framework: str, wrap: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    """The server on a free port, once it accepts connections; ``wrap`` goes before its command
    (``python -m cProfile -o FILE`` in profile_echo.py)."""
    port = free_port()
    argv = [arg.format(port=port) for arg in SERVERS[server]]
    argv = [*wrap, str(BIN / argv[0]), *argv[1:]]
    process = subprocess.Popen(argv, cwd=HERE, env={**os.environ, "WS_FRAMEWORK": framework},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_until_serving(process, port, name=f"{server} {framework}")
    return process, port


def server_cpu(process: subprocess.Popen) -> float:
    """CPU seconds of the server and its children so far (Hypercorn serves from a child)."""
    total = 0.0
    parent = psutil.Process(process.pid)
    for proc in [parent, *parent.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(kind: str, process: subprocess.Popen, port: int, connections: int, seconds: float, client_procs: int,
            size: int) -> dict:
    """Round trips per second over ``connections`` spread across client processes, with CPU shares."""
    procs = min(client_procs, connections)
    share = -(-connections // procs)
    context = multiprocessing.get_context("fork")
    pipes, workers = [], []
    try:
        for index in range(procs):
            count = min(share, connections - index * share)
            parent, child = context.Pipe()
            worker = context.Process(target=run_client,
                                     args=(kind, "127.0.0.1", port, count, index * share, size, child))
            worker.start()
            child.close()  # a client process that dies makes recv() raise EOFError
            pipes.append(parent)
            workers.append(worker)
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("a client process did not connect within 120 s")
            ready = pipe.recv()
            if ready != "ready":
                raise RuntimeError(f"a client process failed: {ready}")
        cpu = server_cpu(process)
        for pipe in pipes:
            pipe.send(seconds)
        time.sleep(seconds)
        cpu = server_cpu(process) - cpu
        results = [pipe.recv() for pipe in pipes]
    finally:
        for worker in workers:
            worker.join(60)
            if worker.is_alive():
                worker.kill()
                worker.join()
    failed = [result["error"] for result in results if "error" in result]
    errors = [error for result in results for error in result.get("errors", ())]
    if failed or errors:
        raise RuntimeError(f"the echo failed: {(failed + errors)[:5]}")
    return {
        "rate": sum(result["messages"] / result["seconds"] for result in results),
        "messages": sum(result["messages"] for result in results),
        "client_cpu": [result["cpu"] / result["seconds"] for result in results],
        "server_cpu": cpu / seconds,
        "server_us": 1e6 * cpu / max(1, sum(result["messages"] for result in results)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=4, help="seconds per case")
    parser.add_argument("--connections", type=int, default=1000, help="connections of the concurrent case")
    parser.add_argument("--client-processes", type=int, default=2, help="client processes of the concurrent case")
    parser.add_argument("--size", type=int, default=64, help="bytes per message")
    parser.add_argument("--servers", default=DEFAULT_SERVERS, help=f"of {', '.join(SERVERS)}")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--client", choices=("raw", "websockets"), default="raw")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 1 s, 100 connections")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.connections = 1, 1.0, min(args.connections, 100)
    servers = args.servers.split(",")
    frameworks = tuple(args.frameworks.split(","))
    cases = (("1 connection", 1), (f"{args.connections:,} connections", args.connections))
    results: dict = {}
    shares: dict = {}
    begun = time.monotonic()
    for round_ in range(args.rounds):
        for server in servers:
            order = frameworks[round_ % len(frameworks):] + frameworks[:round_ % len(frameworks)]
            for framework in order:
                process, port = start(server, framework)
                try:
                    measure(args.client, process, port, 1, min(1.0, args.duration), 1, args.size)  # warm-up
                    for name, connections in cases:
                        figures = measure(args.client, process, port, connections, args.duration,
                                          args.client_processes, args.size)
                        results.setdefault((server, name, framework), []).append(figures["rate"])
                        shares.setdefault((server, name, framework), []).append(figures)
                        client_cpu = " ".join(f"{share:.0%}" for share in figures["client_cpu"])
                        print(f"round {round_ + 1}: {server:16s} {framework:9s} {name:17s} {figures['rate']:9,.0f} "
                              f"msg/s  server CPU {figures['server_cpu']:4.0%}  client CPU {client_cpu}",
                              file=sys.stderr, flush=True)
                finally:
                    stop(process)
    print(f"Python {sys.version.split()[0]}, {args.client} client ({args.client_processes} processes for the "
          f"concurrent case), {args.size}-byte text echo, {args.rounds} rounds x {args.duration:g} s, one worker, "
          f"median messages (round trips) per second\n")
    labels = [LABELS.get(framework, framework) for framework in frameworks]
    ratio = "quaver" in frameworks and "starlette" in frameworks
    print("| server | case | " + " | ".join(labels) + (" | Quaver/Starlette |" if ratio else " |"))
    print("|---|---|" + "---:|" * (len(frameworks) + ratio))
    for server in servers:
        for name, _ in cases:
            medians = {framework: statistics.median(results[(server, name, framework)]) for framework in frameworks}
            cells = " | ".join(f"{medians[framework]:,.0f}" for framework in frameworks)
            tail = f" | {medians['quaver'] / medians['starlette']:.2f}x |" if ratio else " |"
            print(f"| {server} | {name} | {cells}{tail}")
    print("\nServer CPU per message (µs, median; the server's user + system time over the case's seconds,"
          " divided by the round trips: less sensitive to other work on the machine than the rate):\n")
    print("| server | case | " + " | ".join(labels) + (" | Quaver/Starlette |" if ratio else " |"))
    print("|---|---|" + "---:|" * (len(frameworks) + ratio))
    for server in servers:
        for name, _ in cases:
            medians = {framework: statistics.median(run["server_us"] for run in shares[(server, name, framework)])
                       for framework in frameworks}
            cells = " | ".join(f"{medians[framework]:,.1f}" for framework in frameworks)
            tail = f" | {medians['quaver'] / medians['starlette']:.2f}x |" if ratio else " |"
            print(f"| {server} | {name} | {cells}{tail}")
    print("\nMedian CPU use during the case (share of one core): the server; the busiest client process\n")
    for server in servers:
        for name, _ in cases:
            cells = []
            for framework in frameworks:
                runs = shares[(server, name, framework)]
                server_share = statistics.median(run["server_cpu"] for run in runs)
                client_share = statistics.median(max(run["client_cpu"]) for run in runs)
                cells.append(f"{framework} {server_share:.0%}; {client_share:.0%}")
            print(f"- {server}, {name}: " + ", ".join(cells))
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}; {time.monotonic() - begun:.0f} s in all")


if __name__ == "__main__":
    main()
