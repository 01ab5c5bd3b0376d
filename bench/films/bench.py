"""The films API on Flask, Quart and Quaver, over HTTP with wrk, on one PostgreSQL.

Flask runs on gunicorn (one sync worker, psycopg), Quart and Quaver on uvicorn
(one worker, asyncpg), all three on the same database and data. For each route
wrk keeps 20 connections busy for ``--duration`` seconds; the frameworks take
turns, route by route, for ``--rounds`` rounds, and the median requests per
second is reported with the ratios, as a markdown table.

Needs wrk (Debian's ``wrk`` package) and PostgreSQL: ``bench/films/run.sh``
sets up both and runs this. Takes about rounds x 9 x duration seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import urllib.request
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE.parent))

from bench_servers import free_port, stop, wait_until_serving  # noqa: E402  (bench/bench_servers.py)

FRAMEWORKS = ("flask", "quart", "quaver")
# (name, wrk arguments after the URL's host)
ROUTES = (
    ("single film", ["-s", str(HERE / "film.lua")], "/films/1/"),
    ("all films (1000)", [], "/films/"),
    ("new review", ["-s", str(HERE / "review.lua")], "/reviews/"),
)
CONNECTIONS = 20


def server_command(framework: str, port: int) -> list[str]:
    if framework == "flask":
        return [str(VENV_BIN / "gunicorn"), "--workers", "1", "--worker-class", "sync",
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "flask_app:app"]
    return [str(VENV_BIN / "uvicorn"), "async_app:app", "--workers", "1", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log"]


def fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read()


def prepare_database(url: str) -> None:
    """The example's tables and 1000 films (made by the example's own code), and no reviews."""
    sys.path.insert(0, str(ROOT / "examples" / "films"))
    from database import PostgresDatabase

    async def prepare() -> None:
        database = PostgresDatabase(url)
        await database.open()
        try:
            await database.pool.execute("TRUNCATE reviews RESTART IDENTITY")
            assert await database.pool.fetchval("SELECT count(*) FROM films") == 1000
        finally:
            await database.close()

    asyncio.run(prepare())


def run_wrk(port: int, route: tuple, duration: int) -> float:
    """Requests per second; any error, non-2xx answer or socket error stops the run."""
    name, args, path = route
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", *args, f"http://127.0.0.1:{port}{path}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    problems = re.findall(r"^\s*(Non-2xx or 3xx responses: \d+|Socket errors: .*)$", output, re.MULTILINE)
    if problems:
        raise RuntimeError(f"{name} on port {port}: {'; '.join(problems)}\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def table(results: dict[tuple[str, str], list[float]]) -> str:
    lines = [
        "| route | Flask req/s | Quart req/s | Quaver req/s | Quaver / Flask | Quaver / Quart |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, _, _ in ROUTES:
        flask, quart, quaver = (statistics.median(results[(fw, name)]) for fw in FRAMEWORKS)
        lines.append(
            f"| {name} | {flask:,.0f} | {quart:,.0f} | {quaver:,.0f} | {quaver / flask:.2f}x | {quaver / quart:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per framework, route and round")
    parser.add_argument("--warm-up", type=int, default=3, help="seconds of wrk per framework and route first")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL (bench/films/run.sh does)")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk; bench/films/run.sh does)")

    load_before = os.getloadavg()[0]
    prepare_database(args.database_url)
    env = {**os.environ, "DATABASE_URL": args.database_url}
    results: dict[tuple[str, str], list[float]] = {(fw, r[0]): [] for fw in FRAMEWORKS for r in ROUTES}
    with ExitStack() as stack:
        ports = {}
        for framework in FRAMEWORKS:
            port = free_port()
            process = subprocess.Popen(
                server_command(framework, port), cwd=HERE, env={**env, "BENCH_FRAMEWORK": framework}
            )
            stack.callback(stop, process, signal.SIGTERM, 15)
            wait_until_serving(process, port, "/films/1/", name=f"the {framework} server")
            ports[framework] = port
        answers = {fw: (fetch(port, "/films/7/"), len(fetch(port, "/films/"))) for fw, port in ports.items()}
        print("answers to /films/7/ and the length of /films/:", answers, file=sys.stderr)

        for route in ROUTES:
            for framework in FRAMEWORKS:
                run_wrk(ports[framework], route, args.warm_up)
        for round_number in range(args.rounds):
            order = FRAMEWORKS[round_number % 3 :] + FRAMEWORKS[: round_number % 3]
            for route in ROUTES:
                for framework in order:
                    rate = run_wrk(ports[framework], route, args.duration)
                    results[(framework, route[0])].append(rate)
                    print(f"round {round_number + 1}: {framework:6} {route[0]:17} {rate:9,.0f} req/s", file=sys.stderr)

    cpu = os.cpu_count()
    print(f"\nPython {sys.version.split()[0]}, {cpu} cores shared by server, PostgreSQL and wrk; "
          f"wrk -t1 -c{CONNECTIONS}, {args.rounds} rounds x {args.duration} s, median requests per second\n")
    print(table(results))
    print(f"\nload average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
          "(before: near 0 when nothing else runs on the machine)")


if __name__ == "__main__":
    main()
