"""The app bench/soak.py serves: one route per kind of traffic, plus /_stats.

Run on its own: ``python bench/soak_app.py --port 8000 [--server uvicorn]``
(Hypercorn, through ``app.run``, is the default). ``/_stats`` tells the
soak how the process is doing: its running tasks, its resident memory and
the garbage collector's counts; ``/_stats?objects=1`` adds the number of
objects the collector tracks and the most numerous types among them.

For hunting a leak: ``/_stats?cycles=1`` counts, by type, what only
reference cycles keep alive (what the next full collection would free);
with SOAK_TRACEMALLOC=1 in the environment, ``/_stats?trace=snap`` and
later ``/_stats?trace=diff`` show where the memory allocated between the
two went.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import tracemalloc
from collections import Counter

import psutil
from jinja2 import DictLoader

from quaver import Quaver, abort, render_template, request, session, websocket

PAGE = """<!doctype html>
<title>{{ title }}</title>
<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
"""

app = Quaver(__name__)
app.secret_key = "soak-secret"
app.jinja_loader = DictLoader({"page.html": PAGE})
_process = psutil.Process()
_snapshot = None
if os.environ.get("SOAK_TRACEMALLOC"):  # /_stats?trace=snap, later ?trace=diff: where memory went
    tracemalloc.start(25)


def stream_chunk(index: int, size: int) -> bytes:
    """The ``index``-th chunk /stream sends: the client rebuilds it to check the body."""
    return (f"{index:06d}" * (size // 6 + 1))[:size].encode()


@app.post("/json")
async def json_echo():
    data = await request.get_json()
    return {"echo": data, "total": sum(data["values"])}


@app.post("/form")
async def form():
    fields = await request.form
    return {"name": fields["name"], "tags": fields.getlist("tag")}


@app.post("/upload")
async def upload():
    files = await request.files
    fields = await request.form
    upload = files["file"]
    content = upload.read()
    return {
        "filename": upload.filename,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "note": fields["note"],
    }


@app.get("/stream")
async def stream():
    chunks = request.args.get("chunks", 5, type=int)
    size = request.args.get("size", 1000, type=int)
    pause = request.args.get("pause", 0.0, type=float)

    async def generate():
        for index in range(chunks):
            if pause:
                await asyncio.sleep(pause)
            yield stream_chunk(index, size)

    return generate(), {"Content-Type": "application/octet-stream"}


@app.post("/stream-in")
async def stream_in():
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.body:
        digest.update(chunk)
        size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


@app.get("/session")
async def visits():
    session["visits"] = session.get("visits", 0) + 1
    return {"visits": session["visits"]}


@app.get("/page/<name>")
async def page(name):
    return await render_template("page.html", title=name, items=[f"{name}-{i}" for i in range(5)])


@app.get("/teapot")
async def teapot():
    abort(418)


@app.websocket("/ws")
async def echo():
    while True:
        message = await websocket.receive()
        if isinstance(message, bytes):
            await websocket.send(message[::-1])
        else:
            await websocket.send(f"echo: {message}")


@app.get("/_stats")
async def stats():
    """The process's figures, for the soak (not part of the framework)."""
    figures = {
        "pid": _process.pid,
        "tasks": len(asyncio.all_tasks()),
        "rss": _process.memory_info().rss,
        "gc_counts": gc.get_count(),
    }
    if request.args.get("objects"):
        figures["collected"] = gc.collect()  # objects that only cycles kept alive
        objects = gc.get_objects()
        figures["objects"] = len(objects)
        figures["types"] = Counter(type(item).__qualname__ for item in objects).most_common(40)
        figures["task_names"] = sorted(Counter(_describe(task) for task in asyncio.all_tasks()).items())
        del objects
    if request.args.get("cycles"):  # what only cycles keep alive now, by type
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            figures["cycles"] = Counter(type(item).__qualname__ for item in gc.garbage).most_common(60)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    trace = request.args.get("trace")
    if trace and tracemalloc.is_tracing():
        global _snapshot
        snapshot = tracemalloc.take_snapshot()
        if trace == "diff" and _snapshot is not None:
            stats = snapshot.compare_to(_snapshot, "traceback")[:15]
            figures["trace"] = ["\n".join([str(stat)] + stat.traceback.format()[-8:]) for stat in stats]
        _snapshot = snapshot
        figures["traced"] = tracemalloc.get_traced_memory()[0]
    return figures


def _describe(task: asyncio.Task) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", type(coro).__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    options = parser.parse_args()
    if options.server == "hypercorn":
        app.run(host="127.0.0.1", port=options.port)
    else:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=options.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
