"""In-process benchmark of the blocking watchdog: microseconds per request for
the same Quaver app with BLOCKING_WARNING_THRESHOLD off (the default) and on
at 0.1 s (debug mode's default, the fastest sampling), rounds interleaved.

The watchdog adds nothing to a request; what it costs is its thread waking to
sample the loop's stack (every 20 ms at 0.1 s), which takes the GIL from the
loop for a moment. Run: ``python bench/bench_watchdog.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from apps import make_quaver  # noqa: E402

from bench import ROUTES, run_batch, start_lifespan  # noqa: E402
from quaver.watchdog import Watchdog  # noqa: E402


async def main(rounds: int, count: int) -> dict:
    app = make_quaver()
    app.logger.setLevel(logging.ERROR)  # a batch is one long step of the loop: not a block worth logging here
    lifespan = await start_lifespan(app)
    results: dict = {(name, route[0]): [] for name in ("off", "on") for route in ROUTES}
    for route in ROUTES:  # warm-up
        await run_batch(app, route[1], route[2], route[3], 500)
    gc.collect()
    for _ in range(rounds):
        for route in ROUTES:
            for name in ("off", "on"):
                watchdog = Watchdog(app, 0.1) if name == "on" else None
                if watchdog is not None:
                    watchdog.start()  # its thread samples only while this batch runs
                try:
                    results[(name, route[0])].append(await run_batch(app, route[1], route[2], route[3], count))
                finally:
                    if watchdog is not None:
                        watchdog.stop()
    lifespan.cancel()
    await asyncio.gather(lifespan, return_exceptions=True)
    return {key: statistics.median(values) for key, values in results.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median is reported)")
    parser.add_argument("--count", type=int, default=3000, help="requests per route per round")
    args = parser.parse_args()
    medians = asyncio.run(main(args.rounds, args.count))
    print(f"Python {sys.version.split()[0]}, {args.rounds} rounds x {args.count} requests, median µs per request\n")
    print("| route | watchdog off µs | on (0.1 s) µs | on/off |")
    print("|---|---|---|---|")
    for route in ROUTES:
        off, on = medians[("off", route[0])], medians[("on", route[0])]
        print(f"| {route[0]} | {off:.2f} | {on:.2f} | {on / off:.3f}x |")
