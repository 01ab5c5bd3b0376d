"""Running sync code from async code without blocking the loop; the
reloader's change watch; small task and path helpers."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.datastructures import Headers

if TYPE_CHECKING:
    from .typing import Event, FilePath

T = TypeVar("T")


def is_coroutine_function(func: Any) -> bool:
    """Return True if calling ``func`` returns an awaitable coroutine."""
    while isinstance(func, partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or (callable(func) and inspect.iscoroutinefunction(func.__call__))


_caller_loop: contextvars.ContextVar[asyncio.AbstractEventLoop] = contextvars.ContextVar("quaver.caller_loop")


def caller_loop() -> asyncio.AbstractEventLoop:
    """The event loop that sent this thread-pool call (see ``run_sync``)."""
    try:
        return _caller_loop.get()
    except LookupError:
        raise RuntimeError("No event loop: call this from async code or from a function run by run_sync") from None


def run_sync(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Wrap a sync callable so awaiting it runs it in the loop's thread pool.

    The caller's contextvars (and so ``current_app``, ``request``, ``g``) are
    copied into the worker thread.
    """

    @wraps(func)
    async def _wrapper(*args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        context.run(_caller_loop.set, loop)
        call = partial(context.run, func, *args, **kwargs)
        result = await _ThreadCall(loop, loop.run_in_executor(None, call))
        if inspect.isgenerator(result):
            return run_sync_iterable(result)
        return result

    _wrapper._quaver_sync_to_async = True  # type: ignore[attr-defined]
    return _wrapper


#: The message of the cancellation a request gets when its client leaves
#: (``task.cancel(CLIENT_LEFT)``): one that waits for a sync function running
#: in a thread to return (see ``_ThreadCall``).
CLIENT_LEFT = "the client disconnected"


class _ThreadCall(asyncio.Future):  # type: ignore[type-arg]
    """The outcome of a function running in a thread, which nothing can stop.

    Cancelled because the client left, it does not cancel: the awaiting task
    is cancelled once the function has returned, so what the task runs next
    (teardown closing a database connection, say) never runs under the
    function still at work. Any other cancellation (a server shutting down
    past its grace period) takes effect at once, the thread left to finish.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, running: asyncio.Future[Any]) -> None:
        super().__init__(loop=loop)
        running.add_done_callback(self._copy)

    def _copy(self, running: asyncio.Future[Any]) -> None:
        if running.cancelled():  # the executor shut down before running it
            super().cancel()
            return
        error = running.exception()
        if error is not None:
            self.set_exception(error)
        else:
            self.set_result(running.result())

    def cancel(self, msg: Any = None) -> bool:
        if msg == CLIENT_LEFT:
            return False
        return super().cancel(msg)


_STOP = object()


def _next_or_stop(iterator: Any) -> Any:
    try:
        return next(iterator)
    except StopIteration:
        return _STOP


def _step(lock: threading.Lock, context: contextvars.Context, iterator: Any) -> Any:
    with lock:
        return context.run(_next_or_stop, iterator)


def _close_after_step(lock: threading.Lock, context: contextvars.Context, close: Any) -> None:
    with lock:  # waits for a step still running in another thread
        context.run(close)


async def run_sync_iterable(iterable: Iterable[T]) -> AsyncGenerator[T, None]:
    """Iterate a sync iterable in the thread pool, one item per hop.

    Every step runs in one copy of the caller's context (so ``request`` and
    ``g`` are there, and what the iterator sets stays set). If the iteration
    is abandoned while a step runs (the client left, a timeout), the iterator
    is closed in the thread pool once that step returns, without the caller
    waiting for it.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(_caller_loop.set, loop)
    iterator = iter(iterable)
    lock = threading.Lock()
    stepping = False
    try:
        while True:
            stepping = True
            item = await loop.run_in_executor(None, _step, lock, context, iterator)
            stepping = False
            if item is _STOP:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            closing = loop.run_in_executor(None, _close_after_step, lock, context, close)
            if not stepping:
                await closing


def ensure_async(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Return ``func`` if it is async, else a thread-pool wrapper of it."""
    if is_coroutine_function(func):
        return func
    return run_sync(func)


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """ASGI ``[(b"name", b"value")]`` headers as Werkzeug Headers."""
    return Headers([(key.decode("latin-1").title(), value.decode("latin-1")) for key, value in raw])


def spec_version(scope: dict[str, Any]) -> tuple[int, ...]:
    """The ASGI spec version the server gives in ``scope["asgi"]``, as numbers:
    ``(2, 3)``; 2.0 when it gives none (or one that is not a version)."""
    raw = (scope.get("asgi") or {}).get("spec_version") or "2.0"
    try:
        return tuple(int(part) for part in raw.split("."))
    except (ValueError, AttributeError):
        return (2, 0)


def encode_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    """Turn a Headers object into the ASGI list of lowercase byte pairs."""
    return [
        (key.lower().encode("latin-1"), value.encode("latin-1"))
        for key, value in headers.items()
    ]


class _Resume:
    """Awaitable that carries on a coroutine already started with ``send(None)``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Any, first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Any:
        coro, value = self.coro, self.first
        send = getattr(coro, "send", None)  # some servers' awaitables are plain iterators
        throw = getattr(coro, "throw", None)
        while True:
            try:
                sent = yield value
            except BaseException as error:  # cancellation and the like go on to the coroutine
                if throw is None:
                    raise
                try:
                    value = throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = send(sent) if send is not None else next(coro)
                except StopIteration as done:
                    return done.value


class _Deadlines:
    """The deadlines of the tasks of one event loop waiting in
    ``await_by_deadline``, kept by one timer: it fires at the earliest
    deadline it was armed for, cancels the tasks past theirs, and rearms at
    the earliest left. A wait costs a dict entry, not a timer of its own (as
    ``asyncio.timeout`` takes): on a server whose ``receive()`` always waits
    (Granian), every request body read would otherwise arm and disarm one."""

    __slots__ = ("loop", "waiting", "expired", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, task: asyncio.Task[Any], deadline: float) -> None:
        """``task`` starts a wait that must end by ``deadline`` (loop time)."""
        self.waiting[task] = deadline
        if self.timer is None or deadline < self.timer.when():
            self._arm(deadline)

    def timed_out(self, task: asyncio.Task[Any]) -> bool:
        """For a wait that ended in CancelledError: True if the deadline
        cancelled it (and nothing else did), so it should raise TimeoutError."""
        return task in self.expired and task.uncancel() == 0

    def done(self, task: asyncio.Task[Any]) -> None:
        """``task``'s wait ended, whichever way."""
        self.waiting.pop(task, None)
        self.expired.discard(task)

    def _arm(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._sweep)

    def _sweep(self) -> None:
        self.timer = None
        now = self.loop.time()
        earliest = None
        for task, deadline in list(self.waiting.items()):
            if deadline <= now:
                del self.waiting[task]
                self.expired.add(task)
                task.cancel()
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(earliest)


_deadlines: _Deadlines | None = None  # the last loop's, the one in use nearly always
_deadlines_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = weakref.WeakKeyDictionary()


def deadlines_of(loop: asyncio.AbstractEventLoop) -> _Deadlines:
    """The loop's deadline keeper: ``add(task, deadline)`` before a wait,
    ``timed_out(task)`` on its CancelledError, ``done(task)`` after it."""
    global _deadlines
    deadlines = _deadlines
    if deadlines is None or deadlines.loop is not loop:
        deadlines = _deadlines_by_loop.get(loop)
        if deadlines is None:
            deadlines = _deadlines_by_loop[loop] = _Deadlines(loop)
        _deadlines = deadlines
    return deadlines


async def await_by_deadline(awaitable: Awaitable[T], deadline: float) -> T:
    """Await ``awaitable``, raising TimeoutError past ``deadline`` (loop
    time), the deadline kept by the loop's keeper (``deadlines_of``). Outside
    a task (a coroutine driven by hand) there is nothing to cancel, so no
    deadline."""
    task = asyncio.current_task()
    if task is None:
        return await awaitable
    deadlines = deadlines_of(asyncio.get_running_loop())
    deadlines.add(task, deadline)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if deadlines.timed_out(task):
            raise TimeoutError from None
        raise
    finally:
        deadlines.done(task)


async def resume_with_deadline(coro: Any, first: Any, deadline: float) -> Any:
    """Finish a coroutine already started with ``coro.send(None)`` (which
    yielded ``first``), raising TimeoutError past ``deadline`` (loop time).

    Callers start an awaitable themselves and come here only if it has to
    wait: most ASGI ``receive()`` calls return data the server already
    holds, and those cost no deadline at all.
    """
    return await await_by_deadline(_Resume(coro, first), deadline)


def file_path_to_path(*paths: FilePath) -> Path:
    """Join ``paths`` (str, bytes or os.PathLike) into one ``Path``."""
    return Path(*(os.fsdecode(path) if isinstance(path, bytes) else path for path in paths))


class MustReloadError(Exception):
    """A loaded module's source file changed or went: the process should
    restart (``restart()``). ``args[0]`` is the file's path."""


def _module_mtimes() -> dict[str, float]:
    mtimes = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path:
            try:
                mtimes[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return mtimes


async def observe_changes(
    sleep: Callable[[float], Awaitable[Any]], shutdown_event: Event, interval: float = 1.0
) -> None:
    """Poll the source files of the loaded modules every ``interval``
    seconds (``await sleep(interval)``) until ``shutdown_event`` is set;
    raise ``MustReloadError(path)`` as soon as one changes or goes."""
    before = _module_mtimes()
    while not shutdown_event.is_set():
        await sleep(interval)
        for path, mtime in before.items():
            try:
                changed = os.stat(path).st_mtime != mtime
            except OSError:
                changed = True
            if changed:
                raise MustReloadError(path)


def restart() -> None:
    """Replace this process by a fresh run of the same command line
    (``python -m pkg``, ``python app.py`` or ``quaver run`` alike)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def raise_task_exceptions(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Raise the exception of the first of the (finished) ``tasks`` that
    failed; cancelled tasks are not failures."""
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def cancel_tasks(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks``, wait until they have all ended, then raise the
    first exception one of them failed with (``raise_task_exceptions``)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    raise_task_exceptions(tasks)
