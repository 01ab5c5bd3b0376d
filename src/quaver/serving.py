"""Serving: start-up and shutdown hooks, background tasks, and ``app.run()``
with Hypercorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from flask.sansio.scaffold import setupmethod

from .signals import got_background_exception, got_serving_exception
from .utils import caller_loop

T = Callable[..., Any]


class ServingMixin:
    """before_serving / while_serving / after_serving, background tasks, run()."""

    config: Any
    logger: Any
    background_tasks: set[asyncio.Task[Any]]
    #: Set when shutdown starts: long-running tasks can watch it to stop in time.
    shutdown_event: asyncio.Event

    @setupmethod
    def before_serving(self, func: T) -> T:
        """Run ``func()`` once at start-up, before the first request."""
        self.before_serving_funcs.append(func)
        return func

    @setupmethod
    def after_serving(self, func: T) -> T:
        """Run ``func()`` once at shutdown."""
        self.after_serving_funcs.append(func)
        return func

    @setupmethod
    def while_serving(self, func: T) -> T:
        """Register an async generator: code before its ``yield`` runs at
        start-up, code after it at shutdown."""
        self.while_serving_gens.append(func)
        return func

    async def startup(self) -> None:
        """Run before_serving functions and start while_serving generators."""
        self._got_first_request = False
        self.shutdown_event = asyncio.Event()
        try:
            async with self.app_context():
                for func in self.before_serving_funcs:
                    await self.ensure_async(func)()
                for gen_func in self.while_serving_gens:
                    gen = gen_func()
                    await gen.__anext__()
                    self._serving_gens.append(gen)
        except Exception as error:
            await self.handle_serving_exception(error)
            raise

    async def shutdown(self) -> None:
        """Set ``shutdown_event``, wait for background tasks (up to
        BACKGROUND_TASK_SHUTDOWN_TIMEOUT), then finish while_serving
        generators and run after_serving functions."""
        self.shutdown_event.set()
        try:
            await self._wait_for_background_tasks()
            async with self.app_context():
                while self._serving_gens:
                    gen = self._serving_gens.pop()
                    try:
                        await gen.__anext__()
                    except StopAsyncIteration:
                        pass
                    else:
                        raise RuntimeError("While serving generator didn't terminate")
                for func in self.after_serving_funcs:
                    await self.ensure_async(func)()
        except Exception as error:
            await self.handle_serving_exception(error)
            raise

    async def _wait_for_background_tasks(self) -> None:
        tasks = list(self.background_tasks)
        if not tasks:
            return
        timeout = self.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    def add_background_task(self, func: T, *args: Any, **kwargs: Any) -> None:
        """Run ``func(*args, **kwargs)`` in its own task and app context,
        after (or while) the current request is answered."""

        async def _run() -> None:
            try:
                async with self.app_context():
                    await self.ensure_async(func)(*args, **kwargs)
            except Exception as error:
                await self.handle_background_exception(error)

        def spawn() -> None:
            task = loop.create_task(_run(), context=contextvars.Context())
            self.background_tasks.add(task)
            task.add_done_callback(self.background_tasks.discard)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a sync view or hook, in the thread pool
            loop = caller_loop()
            loop.call_soon_threadsafe(spawn)
        else:
            spawn()

    async def handle_background_exception(self, error: Exception) -> None:
        """Log an error raised by a background task."""
        if got_background_exception.receivers:
            await got_background_exception.send_async(self, _sync_wrapper=self.ensure_async, exception=error)
        self.log_exception((type(error), error, error.__traceback__))

    async def handle_serving_exception(self, error: Exception) -> None:
        if got_serving_exception.receivers:
            await got_serving_exception.send_async(self, _sync_wrapper=self.ensure_async, exception=error)
        self.log_exception((type(error), error, error.__traceback__))

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        use_reloader: bool | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Serve the app with Hypercorn until Ctrl-C or SIGTERM."""
        run_app(
            self,
            host=host,
            port=port,
            debug=debug,
            use_reloader=use_reloader,
            ca_certs=ca_certs,
            certfile=certfile,
            keyfile=keyfile,
            **kwargs,
        )


def run_app(
    app: Any,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    use_reloader: bool | None = None,
    ca_certs: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    http3: bool | None = None,
    **kwargs: Any,
) -> None:
    """Serve ``app`` on ``host:port`` (127.0.0.1:5000 by default).

    Always HTTP/1.1 and HTTP/2 (over TLS by ALPN given ``certfile`` and
    ``keyfile``, else cleartext by upgrade or prior knowledge). With TLS,
    HTTP/3 over QUIC on the same UDP port too, when aioquic is installed
    (``pip install quaver[h3]``) and ``http3`` is not False.
    """
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
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    config.bind = [address]
    config.ca_certs = ca_certs
    config.certfile = certfile
    config.keyfile = keyfile
    tls = bool(certfile and keyfile)
    if tls:
        config.alpn_protocols = ["h2", "http/1.1"]
    quic = tls and http3 is not False and _aioquic_installed()
    if http3 and not quic:
        why = "it needs certfile and keyfile" if not tls else "aioquic is not installed (pip install quaver[h3])"
        app.logger.warning(f"HTTP/3 is off: {why}.")
    if quic:
        config.quic_bind = [address]

    scheme = "https" if tls else "http"
    print(f" * Serving Quaver app '{app.name}'", flush=True)
    print(f" * Debug mode: {'on' if app.debug else 'off'}", flush=True)
    print(f" * Protocols: {_protocols(tls, quic, http3, port)}", flush=True)
    print(f" * Running on {scheme}://{host}:{port} (CTRL + C to quit)", flush=True)

    try:
        changed = asyncio.run(_serve(app, config, serve, use_reloader))
    except KeyboardInterrupt:  # Ctrl-C before the server had set its handlers
        return
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f" * Address {host}:{port} is already in use by another program.", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if changed is not None:
        print(f" * Detected change in {changed!r}, reloading", flush=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _aioquic_installed() -> bool:
    try:
        import aioquic  # noqa: F401
    except ImportError:
        return False
    return True


def _protocols(tls: bool, quic: bool, http3: bool | None, port: int) -> str:
    """The start-up line naming the protocols served."""
    if not tls:
        return "HTTP/1.1, HTTP/2 (cleartext, by upgrade or prior knowledge)"
    if quic:
        return f"HTTP/1.1, HTTP/2 (TLS, ALPN), HTTP/3 (QUIC, UDP port {port})"
    if http3 is False:
        return "HTTP/1.1, HTTP/2 (TLS, ALPN); HTTP/3 off (http3=False)"
    return "HTTP/1.1, HTTP/2 (TLS, ALPN); HTTP/3 off (pip install quaver[h3] for it)"


async def _serve(app: Any, config: Any, serve: Any, use_reloader: bool) -> str | None:
    """Run Hypercorn until a signal (return None) or until a loaded source
    file changes (return its path)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    changed: list[str] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    watcher = None
    if use_reloader:

        async def watch() -> None:
            changed.append(await _wait_for_change())
            stop.set()

        watcher = loop.create_task(watch())
    try:
        await serve(app, config, shutdown_trigger=stop.wait)
    finally:
        if watcher is not None:
            watcher.cancel()
    return changed[0] if changed else None


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


async def _wait_for_change(interval: float = 0.5) -> str:
    """Wait until the source file of a loaded module changes (or goes); return its path."""
    before = _module_files()
    while True:
        await asyncio.sleep(interval)
        for path, mtime in before.items():
            try:
                if os.stat(path).st_mtime != mtime:
                    return path
            except OSError:
                return path
