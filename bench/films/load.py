"""The load run: examples/films under 200 connections for 60 seconds.

Serves the example (one uvicorn or Hypercorn server) on 127.0.0.1, sends it
wrk's traffic (``load.lua``: single films, filtered lists, new reviews) and
reads the server's resident memory, its child processes included, every
second. Passes when every answer was 2xx, wrk saw no socket error (connect,
read, write or timeout), and the memory of the last 10 seconds is within 10%
of that of seconds 10 to 20.

    python bench/films/load.py                          # SQLite in a temporary directory
    python bench/films/load.py --database-url postgresql://...

Exits 1 when the run fails. Needs wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent.parent / "examples" / "films"
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE.parent))

from bench_servers import free_port, wait_until_serving  # noqa: E402  (bench/bench_servers.py)
from bench_servers import stop as stop_server  # noqa: E402  (main's `stop` is its sampler's event)


def resident_kib(pid: int) -> int:
    """The resident memory of a process and its children (Hypercorn serves from a child)."""
    total = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            total += sum(resident_kib(int(child)) for child in children.read().split())
    return total


def server_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [str(VENV_BIN / "uvicorn"), "app:app", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--no-access-log"]
    return [str(VENV_BIN / "hypercorn"), "app:app", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--server", choices=("uvicorn", "hypercorn"), default="uvicorn")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds (at least 30)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    if args.duration < 30:
        parser.error("--duration must be at least 30 s: the memory check compares seconds 10-20 with the last 10")

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/films.sqlite"
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url}
        server = subprocess.Popen(server_command(args.server, port), cwd=EXAMPLE, env=env)
        try:
            wait_until_serving(server, port, "/films/1/")
            samples: list[tuple[float, int]] = []
            stop = threading.Event()

            def sample() -> None:
                start = time.monotonic()
                while not stop.wait(1.0 - (time.monotonic() - start) % 1.0):
                    samples.append((time.monotonic() - start, resident_kib(server.pid)))

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                wrk = subprocess.run(
                    ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                     "-s", str(HERE / "load.lua"), f"http://127.0.0.1:{port}/"],
                    capture_output=True, text=True, timeout=args.duration + 60,
                )
            finally:
                stop.set()
                sampler.join()
            alive = server.poll() is None
        finally:
            stop_server(server, signal.SIGTERM, 20)

    output = wrk.stdout
    print(output)
    if wrk.returncode != 0:
        print(wrk.stderr, file=sys.stderr)
        print("FAIL: wrk exited with", wrk.returncode)
        return 1
    total = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    second = [kib for at, kib in samples if 10 <= at < 20]
    last = [kib for at, kib in samples if at >= args.duration - 10]
    memory_second, memory_last = statistics.mean(second), statistics.mean(last)
    growth = memory_last / memory_second - 1

    print(f"server: {args.server}, database: {'SQLite' if not url.startswith('postgres') else 'PostgreSQL'}, "
          f"{args.connections} connections for {args.duration} s")
    print(f"requests: {total} ({rate:,.0f}/s), non-2xx: {non_2xx.group(1) if non_2xx else 0}, "
          f"socket errors: {socket_errors.group(1) if socket_errors else 'none'}")
    print(f"server memory (RSS): {memory_second / 1024:.1f} MiB in seconds 10-20, "
          f"{memory_last / 1024:.1f} MiB in the last 10 ({growth:+.1%}); "
          f"min {min(k for _, k in samples) / 1024:.1f}, max {max(k for _, k in samples) / 1024:.1f} MiB")
    failures = []
    if non_2xx:
        failures.append("answers that were not 2xx")
    if socket_errors:
        failures.append("socket errors")
    if abs(growth) > 0.10:
        failures.append("memory not flat")
    if not alive:
        failures.append("the server died")
    print("FAIL: " + ", ".join(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
