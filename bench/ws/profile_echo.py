"""Where a framework's echo spends its time: the server under cProfile
(``python -m cProfile -o FILE uvicorn ...``, the servers of run.py), driven by
run.py's client, then the functions by own time and calls per message.

    .venv/bin/python bench/ws/profile_echo.py quaver starlette --connections 1000 --seconds 5

cProfile slows every Python call by about the same amount, so the counts of
calls per message and the shares between functions are what to read, not the
absolute times.
"""

from __future__ import annotations

import argparse
import pstats
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import measure, start, stop  # noqa: E402  (bench/ws/run.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frameworks", nargs="+", help="of bare, starlette, quart, quaver")
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for framework in args.frameworks:
        with tempfile.NamedTemporaryFile(suffix=".prof") as out:
            process, port = start(args.server, framework, (sys.executable, "-m", "cProfile", "-o", out.name))
            try:
                figures = measure("raw", process, port, args.connections, args.seconds, 2, 64)
            finally:
                stop(process, signal.SIGINT)  # Uvicorn raises it again once stopped: cProfile writes its file
            messages = figures["messages"]
            stats = pstats.Stats(out.name)
            calls = sum(entry[1] for entry in stats.stats.values())  # primitive and recursive calls alike
            print(f"\n== {framework} on {args.server}: {messages:,} echoes in {args.seconds:g} s under cProfile; "
                  f"{calls / messages:.0f} function calls per echo (the whole run, start-up and connects included)")
            rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[: args.top]
            total = stats.total_tt
            print(f"{'own %':>6} {'calls/echo':>10}  function")
            for (filename, line, name), (_, ncalls, tottime, _, _) in rows:
                where = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
                print(f"{100 * tottime / total:6.1f} {ncalls / messages:10.2f}  {where}:{line}({name})")


if __name__ == "__main__":
    main()
