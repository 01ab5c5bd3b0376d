"""Serving: start-up and shutdown hooks, background tasks, and ``app.run()``
with Hypercorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from flask.sansio.scaffold import setupmethod

from ._appview import AppView
from .signals import got_background_exception, got_serving_exception
from .typing import AfterServingCallable, BeforeServingCallable, WhileServingCallable
from .utils import MustReloadError, caller_loop, observe_changes, restart
from .watchdog import start_watchdog, stop_watchdog

if TYPE_CHECKING:
    from hypercorn.config import Config as HyperConfig

    from .app import Quaver

# Hypercorn's server (hypercorn.asyncio, its Config) is imported in the
# functions that serve: an app run by another ASGI server never loads it.

T = Callable[..., Any]
T_before_serving = TypeVar("T_before_serving", bound=BeforeServingCallable)
T_after_serving = TypeVar("T_after_serving", bound=AfterServingCallable)
T_while_serving = TypeVar("T_while_serving", bound=WhileServingCallable)


class ServingMixin(AppView):
    """before_serving / while_serving / after_serving, background tasks, run()."""

    #: Set when shutdown starts: long-running tasks can watch it to stop in time.
    shutdown_event: asyncio.Event

    @setupmethod
    def before_serving(self, func: T_before_serving) -> T_before_serving:
        """Run ``func()`` once at start-up, before the first request."""
        self.before_serving_funcs.append(func)
        return func

    @setupmethod
    def after_serving(self, func: T_after_serving) -> T_after_serving:
        """Run ``func()`` once at shutdown."""
        self.after_serving_funcs.append(func)
        return func

    @setupmethod
    def while_serving(self, func: T_while_serving) -> T_while_serving:
        """Register an async generator: code before its ``yield`` runs at
        start-up, code after it at shutdown."""
        self.while_serving_gens.append(func)
        return func

    async def startup(self) -> None:
        """Run before_serving functions and start while_serving generators."""
        self._got_first_request = False
        self.shutdown_event = asyncio.Event()
        start_watchdog(self)  # BLOCKING_WARNING_THRESHOLD (0.1 s in debug mode): nothing per request
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
        finally:
            stop_watchdog(self)  # and log the summary of the blocks it saw

    async def _wait_for_background_tasks(self) -> None:
        """Wait for background tasks up to BACKGROUND_TASK_SHUTDOWN_TIMEOUT;
        cancel (and log) those still running then."""
        tasks = list(self.background_tasks)
        if not tasks:
            return
        timeout = self.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            self.logger.warning(
                f"Cancelled {task.get_name()}: still running after BACKGROUND_TASK_SHUTDOWN_TIMEOUT ({timeout} s)."
            )
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

        name = f"background task {getattr(func, '__qualname__', func)!r}"

        def spawn() -> None:
            task = loop.create_task(_run(), name=name, context=contextvars.Context())
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
        """Serve the app with Hypercorn until Ctrl-C or SIGTERM, which stop
        it gracefully (see GRACEFUL_SHUTDOWN_TIMEOUT)."""
        run_app(
            self,  # type: ignore[arg-type]  # the Quaver app (a base of it)
            host=host,
            port=port,
            debug=debug,
            use_reloader=use_reloader,
            ca_certs=ca_certs,
            certfile=certfile,
            keyfile=keyfile,
            **kwargs,
        )

    def run_task(
        self,
        host: str = "127.0.0.1",
        port: int = 5000,
        debug: bool | None = None,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        shutdown_trigger: Callable[..., Awaitable[None]] | None = None,
    ) -> Coroutine[Any, Any, None]:
        """A coroutine serving the app with Hypercorn on ``host:port`` until
        ``shutdown_trigger()`` returns (or the task is cancelled), to run
        beside other work in a loop of your own: ``await app.run_task()``.
        ``host`` may be ``unix:/path`` or ``fd://n``. For development; in
        production, run the app under an ASGI server."""
        from hypercorn.asyncio import serve
        from hypercorn.config import Config as HyperConfig

        config = HyperConfig()
        config.access_log_format = "%(h)s %(r)s %(s)s %(b)s %(D)s"
        config.accesslog = self.logger
        config.errorlog = self.logger
        if host.startswith(("unix:", "fd:")):
            config.bind = [host]
        else:
            config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
        config.ca_certs = ca_certs
        config.certfile = certfile
        config.keyfile = keyfile
        if debug is not None:
            self.debug = debug
        # The app is an ASGI callable (Quaver.__call__), its scope a plain dict
        # where Hypercorn types each kind of scope.
        return serve(self, config, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]


def run_app(
    app: Quaver,
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
    if kwargs:
        app.logger.warning(f"Additional arguments, {','.join(kwargs)}, are not supported.")
    host = host or "127.0.0.1"
    port = 5000 if port is None else port
    if debug is not None:
        app.debug = debug
    if use_reloader is None:
        use_reloader = bool(app.debug)

    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    tls = bool(certfile and keyfile)
    quic = tls and http3 is not False and _aioquic_installed()
    if http3 and not quic:
        why = "it needs certfile and keyfile" if not tls else "aioquic is not installed (pip install quaver[h3])"
        app.logger.warning(f"HTTP/3 is off: {why}.")
    config = hypercorn_config(app, address, ca_certs, certfile, keyfile, quic)

    scheme = "https" if tls else "http"
    print(f" * Serving Quaver app '{app.name}'", flush=True)
    print(f" * Debug mode: {'on' if app.debug else 'off'}", flush=True)
    print(f" * Protocols: {_protocols(tls, quic, http3, port)}", flush=True)
    print(f" * Running on {scheme}://{host}:{port} (CTRL + C to quit)", flush=True)
    serve_until_stopped(app, config, use_reloader, (host, port) if quic else None, address)


def hypercorn_config(
    app: Quaver, bind: str, ca_certs: str | None, certfile: str | None, keyfile: str | None, quic: bool = False
) -> HyperConfig:
    """Hypercorn's Config to serve ``app`` on ``bind`` (``host:port`` or
    ``fd://n``), with the app's shutdown timeouts."""
    from hypercorn.config import Config as HyperConfig

    config = HyperConfig()
    config.access_log_format = "%(h)s %(r)s %(s)s %(b)s %(D)s"
    config.accesslog = "-" if app.debug else None
    config.errorlog = "-"
    config.bind = [bind]
    config.ca_certs = ca_certs
    config.certfile = certfile
    config.keyfile = keyfile
    if certfile and keyfile:
        config.alpn_protocols = ["h2", "http/1.1"]
    if quic:
        config.quic_bind = [bind]
    # On a signal: requests in flight get GRACEFUL_SHUTDOWN_TIMEOUT to finish,
    # then the lifespan shutdown waits for background tasks (bounded by
    # BACKGROUND_TASK_SHUTDOWN_TIMEOUT) and runs the after_serving hooks.
    config.graceful_timeout = float(app.config["GRACEFUL_SHUTDOWN_TIMEOUT"])
    config.shutdown_timeout = max(config.shutdown_timeout, app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] + 60)
    return config


def serve_until_stopped(
    app: Quaver, config: HyperConfig, use_reloader: bool, quic_address: tuple[str, int] | None, address: str
) -> None:
    """Serve until a signal (see ``_serve``); exit 1 with a one-line reason
    if the address is in use or the app fails in start-up or shutdown."""
    from hypercorn.asyncio import serve
    from hypercorn.utils import LifespanFailureError

    try:
        changed = asyncio.run(_serve(app, config, serve, use_reloader, quic_address))
    except KeyboardInterrupt:  # Ctrl-C before the server had set its handlers
        return
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f" * Address {address} is already in use by another program.", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    except LifespanFailureError as failure:  # the app logged its error with the traceback already
        stage = "start-up" if "in startup" in str(failure) else "shutdown"
        cause = failure.__context__ or failure  # raised while handle_lifespan handled the app's error
        print(f" * The app failed in {stage}: {type(cause).__name__}: {cause}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if changed is not None:
        _restart(changed)


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


async def _serve(
    app: Quaver,
    config: HyperConfig,
    serve: Callable[..., Awaitable[None]],
    use_reloader: bool,
    quic_address: tuple[str, int] | None = None,
) -> str | None:
    """Run Hypercorn until a signal (return None) or until a loaded source
    file changes (return its path).

    The first SIGINT or SIGTERM starts a graceful shutdown: no new
    connections, ``app.shutdown_event`` set, open websockets closed with 1001
    (going away), requests in flight given GRACEFUL_SHUTDOWN_TIMEOUT. A second
    one ends the process at once."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    changed: list[str] = []
    served = _ServedApp(app)
    helpers: list[asyncio.Task[Any]] = []

    def begin_shutdown(close_code: int) -> None:
        stop.set()
        app.shutdown_event.set()
        helpers.append(loop.create_task(served.close_websockets(close_code)))

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            _exit_at_once(sig)
        grace = app.config["GRACEFUL_SHUTDOWN_TIMEOUT"]
        print(
            f" * Stopping: finishing requests in flight (up to {grace} s; {sig.name} or Ctrl-C again to quit at once)",
            flush=True,
        )
        begin_shutdown(1001)  # going away

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # Connections cut at the end of the grace period make asyncio's
        # streams report their cancelled tasks (Python 3.11): not an error.
        if stop.is_set() and isinstance(context.get("exception"), asyncio.CancelledError):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(on_loop_error)
    threads = _ThreadPool()
    loop.set_default_executor(threads)  # where sync views, hooks and background tasks run
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):
            pass
    if quic_address is not None:
        helpers.append(loop.create_task(_wake_quic_server(quic_address, stop)))
    if use_reloader:

        async def watch() -> None:
            changed.append(await _wait_for_change())
            begin_shutdown(1012)  # service restart

        helpers.append(loop.create_task(watch()))
    try:
        await serve(served, config, shutdown_trigger=stop.wait)
    finally:
        for helper in helpers:
            helper.cancel()
    if threads.running:
        # A sync view or background task, cancelled, still runs in a thread
        # that nothing can stop; Python would wait for it before exiting.
        app.logger.warning(
            f"{threads.running} sync function(s) still running in threads after shutdown: exiting without them."
        )
        _leave_threads_behind(changed[0] if changed else None)
    return changed[0] if changed else None


class _ThreadPool(ThreadPoolExecutor):
    """The loop's default executor, counting the calls still running."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="asyncio")
        self.running = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self.running += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any] | None) -> None:
        with self._count_lock:
            self.running -= 1


def _leave_threads_behind(changed: str | None) -> None:
    """Restart (``changed``) or exit with 0 now, without joining threads."""
    logging.shutdown()
    if changed is not None:
        _restart(changed)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _restart(changed: str) -> None:
    """Replace this process by a fresh run of the same command."""
    print(f" * Detected change in {changed!r}, reloading", flush=True)
    restart()


async def _wake_quic_server(address: tuple[str, int], stop: asyncio.Event) -> None:
    """Once shutdown starts, send empty datagrams to the QUIC port until
    cancelled: Hypercorn's QUIC server checks for shutdown only when a
    datagram arrives, and would otherwise hold the exit up to the end of
    the grace period. (An empty datagram is no QUIC packet: it is dropped.)"""
    await stop.wait()
    host, port = address
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        while True:
            try:
                sock.sendto(b"", (host, port))
            except OSError:
                pass
            await asyncio.sleep(0.05)


def _exit_at_once(sig: signal.Signals) -> None:
    """End the process by ``sig``'s default action, now: a second Ctrl-C."""
    print(f" * {sig.name} again: quitting without waiting.", flush=True)
    sys.stderr.flush()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


class _ServedApp:
    """The app as ``app.run()`` hands it to Hypercorn: the same, except that
    it keeps track of open websockets, to close them when shutdown starts
    (else each would hold the shutdown for the whole grace period and then be
    cut without a close frame)."""

    def __init__(self, app: Quaver) -> None:
        self.app = app
        self.websockets: set[_ClosableWebsocket] = set()
        self.close_code: int | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        websocket = _ClosableWebsocket(self, send)
        self.websockets.add(websocket)
        try:
            await self.app(scope, receive, websocket.send)
        finally:
            self.websockets.discard(websocket)

    async def close_websockets(self, code: int) -> None:
        self.close_code = code
        for websocket in list(self.websockets):
            await websocket.close(code)


class _ClosableWebsocket:
    """One websocket's ``send``, which the server side can close: after that,
    what the app sends is dropped, and the server tells the app's ``receive``
    that the connection is gone (which ends the handler)."""

    def __init__(self, served: _ServedApp, send: Any) -> None:
        self.served = served
        self._send = send
        self.accepted = False
        self.closed = False

    async def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        kind = message["type"]
        if kind == "websocket.close":
            self.closed = True
        await self._send(message)
        if kind == "websocket.accept":
            self.accepted = True
            if self.served.close_code is not None:  # accepted while shutting down
                await self.close(self.served.close_code)

    async def close(self, code: int) -> None:
        if self.accepted and not self.closed:
            self.closed = True
            reason = "server restarting" if code == 1012 else "server shutting down"
            try:
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
            except OSError:
                pass


async def _wait_for_change(interval: float = 0.5) -> str:
    """Wait until the source file of a loaded module changes (or goes); return its path."""
    try:
        await observe_changes(asyncio.sleep, asyncio.Event(), interval)
    except MustReloadError as change:
        return str(change.args[0])
    raise AssertionError("observe_changes ends only by raising")  # the event above is never set
