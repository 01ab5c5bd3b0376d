"""``app.run()``: serve an app with Hypercorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any


def run_app(
    app: Any,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    use_reloader: bool | None = None,
    ca_certs: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    **kwargs: Any,
) -> None:
    """Serve ``app`` on ``host:port`` (127.0.0.1:5000 by default)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config as HyperConfig

    if kwargs:
        app.logger.warning(f"Additional arguments, {','.join(kwargs)}, are not supported.")
    host = host or "127.0.0.1"
    port = 5000 if port is None else port
    if debug is not None:
        app.debug = debug
    if use_reloader is None:
        use_reloader = bool(app.debug)

    config = HyperConfig()
    config.access_log_format = "%(h)s %(r)s %(s)s %(b)s %(D)s"
    config.accesslog = "-" if app.debug else None
    config.errorlog = "-"
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.ca_certs = ca_certs
    config.certfile = certfile
    config.keyfile = keyfile
    if certfile and keyfile:
        config.alpn_protocols = ["h2", "http/1.1"]

    scheme = "https" if certfile else "http"
    print(f" * Serving Quaver app '{app.name}'", flush=True)
    print(f" * Debug mode: {'on' if app.debug else 'off'}", flush=True)
    print(f" * Running on {scheme}://{host}:{port} (CTRL + C to quit)", flush=True)

    restart = asyncio.run(_serve(app, config, serve, use_reloader))
    if restart:
        os.execv(sys.executable, [sys.executable, *sys.argv])


async def _serve(app: Any, config: Any, serve: Any, use_reloader: bool) -> bool:
    """Run Hypercorn until a signal (False) or a changed source file (True)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    state = {"restart": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    watcher = None
    if use_reloader:

        async def watch() -> None:
            await _wait_for_change()
            state["restart"] = True
            stop.set()

        watcher = loop.create_task(watch())
    try:
        await serve(app, config, shutdown_trigger=stop.wait)
    finally:
        if watcher is not None:
            watcher.cancel()
    return state["restart"]


def _module_files() -> dict[str, float]:
    mtimes = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.exists(path):
            try:
                mtimes[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return mtimes


async def _wait_for_change(interval: float = 1.0) -> None:
    """Return when a loaded module's source file changes."""
    before = _module_files()
    while True:
        await asyncio.sleep(interval)
        for path, mtime in before.items():
            try:
                if os.stat(path).st_mtime != mtime:
                    return
            except OSError:
                return
