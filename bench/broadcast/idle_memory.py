"""Idle memory per websocket: a server's RSS after opening ``--sockets``
(10,000) idle websockets, each subscribed to a channel (``/idle`` of
servers.py), minus its RSS before, divided by their number. One Hypercorn
worker; the clients run in processes of their own.

    ulimit -n 30000   # the server holds one descriptor per socket
    .venv/bin/python bench/broadcast/idle_memory.py [--broadcaster-python /tmp/bcv/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))

from broker_servers import free_port, wait_for_port  # noqa: E402


def clients(port: int, count: int, pipe) -> None:  # noqa: ANN001
    import websockets

    async def main() -> None:
        sockets = []
        for _ in range(count):
            sockets.append(await websockets.connect(f"ws://127.0.0.1:{port}/idle", ping_interval=None, open_timeout=60))
        pipe.send(len(sockets))
        pipe.recv()  # hold them until told
        for socket in sockets:
            await socket.close()

    asyncio.run(main())


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def measure(python: str, framework: str, sockets: int, client_procs: int) -> dict:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src")}
    server = subprocess.Popen(
        [python, str(HERE / "servers.py"), framework, "memory://", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    pipes, procs = [], []
    try:
        wait_for_port(port, 30)
        # Warm up: a few sockets opened and closed, so that first-use allocations are in "before".
        warm_parent, warm_child = multiprocessing.Pipe()
        warm = multiprocessing.Process(target=clients, args=(port, 50, warm_child))
        warm.start()
        warm_parent.recv()
        warm_parent.send("close")
        warm.join()
        time.sleep(1)
        before = rss(server.pid)
        share = sockets // client_procs
        for _ in range(client_procs):
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=clients, args=(port, share, child))
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        opened = sum(pipe.recv() for pipe in pipes)
        time.sleep(3)
        after = rss(server.pid)
        return {"framework": framework, "sockets": opened, "before_mib": before / 2**20, "after_mib": after / 2**20,
                "per_socket_kib": (after - before) / opened / 1024}
    finally:
        for pipe in pipes:
            pipe.send("close")
        for proc in procs:
            proc.join(60)
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--broadcaster-python")
    arguments = parser.parse_args()
    gc.collect()
    setups = [("quaver", sys.executable)]
    if arguments.broadcaster_python:
        setups.append(("starlette", arguments.broadcaster_python))
    for framework, python in setups:
        row = measure(python, framework, arguments.sockets, arguments.client_processes)
        print(f"{row['framework']:10} {row['sockets']} sockets: "
              f"RSS {row['before_mib']:.1f} -> {row['after_mib']:.1f} MiB, "
              f"{row['per_socket_kib']:.1f} KiB per socket", flush=True)


if __name__ == "__main__":
    main()
