"""Over the wire: the same small apps (bare ASGI, Starlette, FastAPI, Quart,
Quaver) on Uvicorn (uvloop, httptools), Granian and Hypercorn, one worker
each, bound to 127.0.0.1, driven by wrk; servers, routes and frameworks
interleaved, the median of the rounds reported as a markdown table.

Run: ``bash bench/wire/run.sh`` (installs wrk from Debian's packages), or
``.venv/bin/python bench/wire/run.py --rounds 3 --duration 5``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_servers import free_port, stop, wait_until_serving  # noqa: E402  (bench/bench_servers.py)

BIN = Path(sys.executable).parent
FRAMEWORKS = ("bare", "starlette", "fastapi", "quart", "quaver")
SERVERS = ("uvicorn", "granian", "hypercorn")
ROUTES = (("GET /json", "/json", []), ("GET /users/<int>", "/users/7", []),
          ("POST /echo", "/echo", ["-s", str(HERE / "echo.lua")]))


def command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [str(BIN / "uvicorn"), "wire_apps:app", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
    if server == "granian":
        return [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--log-level", "warning", "wire_apps:app"]
    return [str(BIN / "hypercorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning",
            "wire_apps:app"]


def start(server: str, framework: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(command(server, port), cwd=HERE, env={**os.environ, "WIRE_FRAMEWORK": framework},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_until_serving(process, port, "/json", name=f"{server} {framework}")
    return process, port


def wrk(port: int, path: str, extra: list[str], duration: float, connections: int) -> float:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "2s", *extra,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True,
                         timeout=duration + 30).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"errors in wrk's run on {path}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per server, framework and route")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset of " + ",".join(SERVERS))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated subset of " + ",".join(FRAMEWORKS) + " (the ratio needs both)")
    args = parser.parse_args()
    servers = tuple(s for s in SERVERS if s in args.servers.split(","))
    frameworks = tuple(f for f in FRAMEWORKS if f in args.frameworks.split(","))
    results: dict = {}
    for round_ in range(args.rounds):
        for server in servers:
            order = frameworks[round_ % len(frameworks):] + frameworks[:round_ % len(frameworks)]
            for framework in order:
                process, port = start(server, framework)
                try:
                    wrk(port, "/json", [], 1, args.connections)  # warm-up
                    for name, path, extra in ROUTES:
                        rps = wrk(port, path, extra, args.duration, args.connections)
                        results.setdefault((server, framework, name), []).append(rps)
                        print(f"round {round_ + 1}: {server:9s} {framework:9s} {name:18s} {rps:9,.0f} req/s",
                              file=sys.stderr, flush=True)
                finally:
                    stop(process)
    print(f"Python {sys.version.split()[0]}, wrk -t1 -c{args.connections}, {args.rounds} rounds x "
          f"{args.duration} s, one worker, median requests per second\n")
    ratio = "quaver" in frameworks and "starlette" in frameworks
    print("| server | route | " + " | ".join(frameworks) + (" | Quaver/Starlette |" if ratio else " |"))
    print("|---|---|" + "---:|" * (len(frameworks) + ratio))
    for server in servers:
        for name, _, _ in ROUTES:
            medians = {f: statistics.median(results[(server, f, name)]) for f in frameworks}
            cells = " | ".join(f"{medians[f]:,.0f}" for f in frameworks)
            tail = f" | {medians['quaver'] / medians['starlette']:.2f}x |" if ratio else " |"
            print(f"| {server} | {name} | {cells}{tail}")
    load = os.getloadavg()[0]
    print(f"\nload average (1 min) at the end: {load:.2f}")


if __name__ == "__main__":
    main()
