"""The blocking watchdog: a warning when code running on the event loop holds
it longer than ``BLOCKING_WARNING_THRESHOLD`` seconds, naming the request
(endpoint, method, path) or websocket and the line in the user's code.

Nothing runs per request. A thread samples the loop thread's stack with
``sys._current_frames()`` every few milliseconds: while the loop waits in its
selector the stack ends in the loop's own code (idle, never blamed); while it
runs a callback (a task's step) the frames above the loop's are that step. The
same step seen for longer than the threshold is a block: its stack is taken
then, while it is still blocked, and the request is found in the frames of
Quaver's own handlers. A C call that holds the GIL keeps the thread from
sampling until it returns; the gap is then the block, reported at the line of
the call. The first block at a line is logged in full; later ones there are
counted, and summed up when the watchdog stops (at shutdown).

Started from the ASGI lifespan start-up (``app.startup()``), so it works under
any server: ``app.run()``, ``quaver run``, ``hypercorn module:app``, Uvicorn.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import sysconfig
import threading
import time
import traceback
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

__all__ = ("Watchdog", "blocking_threshold", "start_watchdog", "stop_watchdog")

#: A block still going after this many seconds is logged while it lasts.
LONG_BLOCK = 5.0
#: When the config leaves BLOCKING_WARNING_THRESHOLD as None, debug mode uses this.
DEBUG_THRESHOLD = 0.1

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_LIBRARY_DIRS = tuple(
    {os.path.abspath(p) + os.sep for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                                           sysconfig.get_paths()["platlib"]) if p}
)
_HANDLE_RUN = asyncio.Handle._run.__code__  # where pure-Python asyncio calls every callback
_LOOP_OWN_CODES = {
    asyncio.BaseEventLoop._run_once.__code__,  # type: ignore[attr-defined]  # private: not in typeshed
    asyncio.BaseEventLoop.run_forever.__code__,
}
_ADVICE = (
    "Every other request on this worker waited. Await it instead (an async library: asyncio.sleep, "
    "an async HTTP client or database driver), or run it in the thread pool: make the view a plain "
    "def, or await run_sync(func)(...)."
)


def blocking_threshold(app: Any) -> float | None:
    """The threshold in seconds the app's config asks for, or None when off:
    BLOCKING_WARNING_THRESHOLD, and when it is None, 0.1 in debug mode
    (not under TESTING, where the test client's start-up shares the loop
    with the test's own code)."""
    value = app.config.get("BLOCKING_WARNING_THRESHOLD")
    if value is None:
        return DEBUG_THRESHOLD if app.debug and not app.testing else None
    if not value:  # 0 or False: off, in debug mode too
        return None
    return float(value)


def start_watchdog(app: Any) -> Watchdog | None:
    """Start watching the running loop for ``app`` if its config asks for it
    (call from the loop, at start-up); return the watchdog, or None."""
    stop_watchdog(app)  # a previous start-up's, in tests that start an app twice
    threshold = blocking_threshold(app)
    if threshold is None:
        return None
    watchdog = Watchdog(app, threshold)
    watchdog.start()
    app._blocking_watchdog = watchdog
    return watchdog


def stop_watchdog(app: Any) -> None:
    """Stop ``app``'s watchdog, if it has one, logging the summary of its blocks."""
    watchdog = getattr(app, "_blocking_watchdog", None)
    if watchdog is not None:
        app._blocking_watchdog = None
        watchdog.stop()


@dataclass
class _Line:
    """The blocks seen at one line of code."""

    where: str
    what: str
    count: int = 0
    total: float = 0.0
    longest: float = 0.0


@dataclass
class _Block:
    """One step of the loop, seen running since ``since``."""

    key: Any
    since: float
    reported: bool = False
    logged: bool = False
    turned: bool = False
    line: tuple[str, int] | None = None
    message: list[str] = field(default_factory=list)

    def mark_turned(self) -> None:
        """Run by the loop: it turned, so this step is over."""
        self.turned = True


class Watchdog:
    """Warns through ``app.logger`` when the loop that started it is held for
    longer than ``threshold`` seconds."""

    def __init__(self, app: Any, threshold: float) -> None:
        self.app = app
        self.threshold = threshold
        #: How often the thread samples the loop's stack.
        self.interval = min(max(threshold / 5, 0.005), 0.05)
        self.lines: dict[tuple[str, int], _Line] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._base_codes: set[Any] = set()
        self._cpu_clock: int | None = None
        #: When the loop last ran its heartbeat (a timer every ``interval``):
        #: recent means the loop kept turning, whatever the thread saw.
        self._last_beat = time.monotonic()
        self._beat_handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the thread; called from a task on the loop to watch."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._base_codes = _loop_codes(sys._getframe())
        try:
            self._cpu_clock = time.pthread_getcpuclockid(self._loop_thread)
        except (AttributeError, OSError):  # not on this platform: C calls holding the GIL go unseen
            self._cpu_clock = None
        _ = self.app.logger  # made here, on the loop's thread, not first in the watchdog's
        self._beat()
        self._thread = threading.Thread(target=self._run, name="quaver-blocking-watchdog", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        """Run by the loop every ``interval`` while watched."""
        self._last_beat = time.monotonic()
        if not self._stopping.is_set() and self._loop is not None:
            self._beat_handle = self._loop.call_later(self.interval, self._beat)

    def stop(self) -> None:
        """Stop the thread and log how many blocks each line made."""
        self._stopping.set()
        if self._beat_handle is not None:
            self._beat_handle.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self._log_summary()

    # -- the thread ---------------------------------------------------------
    def _run(self) -> None:
        block: _Block | None = None
        sampled = time.monotonic()
        cpu = self._loop_cpu()
        while not self._stopping.wait(self.interval):
            now = time.monotonic()
            gap, sampled = now - sampled, now
            cpu_before, cpu = cpu, self._loop_cpu()
            if self._loop is None or self._loop.is_closed():
                break
            frame = sys._current_frames().get(self._loop_thread)
            step = self._step(frame) if frame is not None else None
            if block is not None and (step is None or step[0] is not block.key or block.turned):
                self._ended(block, now)
                block = None
            if step is None:
                continue
            key, frames, lines = step
            if block is None:
                since = now
                if (
                    gap > self.threshold + self.interval
                    and cpu - cpu_before > self.threshold
                    and now - self._last_beat > self.threshold
                ):
                    # The thread could not run for a while, the loop's thread was
                    # busy, and its heartbeat did not run meanwhile: a C call held
                    # the GIL (and the loop). A thread merely starved of the GIL
                    # while the loop kept turning sees a recent heartbeat.
                    since = now - gap + self.interval
                block = _Block(key, since)
                if key is frames[0]:  # a loop in C: the same task may step again; ask it to tell us it turned
                    self._ask_to_tell(block)
            if not block.reported and now - block.since >= self.threshold:
                try:
                    self._describe(block, frames, lines)
                except Exception:  # never let the watchdog die of what it watches: say it, go on
                    block.reported = True
                    block.line = ("<unknown>", 0)
                    block.message = ["(the watchdog could not read the stack)", traceback.format_exc().rstrip()]
            if not block.logged and now - block.since >= LONG_BLOCK:
                self._log(block, now - block.since, still=True)
            del frame, frames, lines, step
        if block is not None:
            self._ended(block, time.monotonic())

    def _loop_cpu(self) -> float:
        """The CPU time the loop's thread has used (0 where it cannot be read)."""
        if self._cpu_clock is None:
            return 0.0
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:  # the thread is gone
            return 0.0

    def _ask_to_tell(self, block: _Block) -> None:
        try:
            self._loop.call_soon_threadsafe(block.mark_turned)  # type: ignore[union-attr]
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _step(self, frame: FrameType) -> tuple[Any, list[FrameType], dict[int, int]] | None:
        """The key of the loop's running step, its frames (outermost first)
        and each frame's line by ``id``, read as the frames are walked: the
        loop's thread goes on meanwhile, and a line read later could be one
        the block has already left. None while the loop is in its own code."""
        frames: list[FrameType] = []
        lines: dict[int, int] = {}
        base: FrameType | None = frame
        while base is not None and base.f_code not in self._base_codes:
            frames.append(base)
            lines[id(base)] = base.f_lineno
            base = base.f_back
        if base is None or not frames:
            return None
        if base.f_code is _HANDLE_RUN:
            key: Any = base  # a new frame for each callback the loop calls
        elif base.f_code in _LOOP_OWN_CODES:
            return None  # asyncio's own work between callbacks: the selector, timers
        else:
            key = frames[-1]  # a loop in C (uvloop) calls the step straight from its runner
        frames.reverse()
        return key, frames, lines

    def _describe(self, block: _Block, frames: list[FrameType], lines: dict[int, int]) -> None:
        """Take the block's stack and what it was serving, at the lines the sample saw."""
        block.reported = True
        user = [f for f in frames if _is_user_code(f.f_code.co_filename)]
        if user:  # from the user's outermost frame down: the server's and Quaver's frames are noise
            shown = frames[frames.index(user[0]):]
        else:
            shown = [f for f in frames if not f.f_code.co_filename.startswith((_PACKAGE_DIR, _ASYNCIO_DIR))]
        line_frame = user[-1] if user else (shown[-1] if shown else frames[-1])
        block.line = (line_frame.f_code.co_filename, lines[id(line_frame)])
        what = self._serving(frames, user)
        stack = traceback.StackSummary.extract(((f, lines[id(f)]) for f in (shown or frames)), lookup_lines=True)
        block.message = [what, "".join(stack.format()).rstrip("\n")]

    def _ended(self, block: _Block, now: float) -> None:
        if not block.reported or block.line is None:
            return
        held = now - block.since
        line = self.lines.get(block.line)
        if line is None:
            line = self.lines[block.line] = _Line(f"{block.line[0]}:{block.line[1]}", block.message[0])
            if not block.logged:
                self._log(block, held)
        line.count += 1
        line.total += held
        line.longest = max(line.longest, held)

    def _log(self, block: _Block, held: float, still: bool = False) -> None:
        block.logged = True
        what, stack = block.message
        how_long = (
            f"has held the event loop for {held:.1f} s so far"
            if still
            else f"held the event loop for {held:.2f} s"
        )
        self.app.logger.warning(
            f"Blocking code {how_long} (BLOCKING_WARNING_THRESHOLD {self.threshold:g} s): {what}\n{stack}\n{_ADVICE}"
        )

    def _log_summary(self) -> None:
        if not self.lines:
            return
        rows = sorted(self.lines.values(), key=lambda line: line.total, reverse=True)
        self.app.logger.warning(
            "Blocking code held the event loop while serving:\n"
            + "\n".join(
                f"  {line.count} time{'s' if line.count != 1 else ''}, {line.total:.2f} s in all, "
                f"longest {line.longest:.2f} s: {line.where} ({line.what})"
                for line in rows
            )
        )

    def _serving(self, frames: list[FrameType], user: list[FrameType]) -> str:
        """What the blocked step was doing: the request or websocket, and the
        hook or view whose code it was."""
        served = None
        for frame in frames:
            if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                names = frame.f_locals
                for name in ("request", "websocket"):
                    value = names.get(name)
                    if value is not None and hasattr(value, "path") and hasattr(value, "url_rule"):
                        served = value
                        break
                if served is not None:
                    break
        roles = _roles(self.app)
        role = next((roles[f.f_code] for f in frames if f.f_code in roles), None)
        if role == "in a background task" and user:
            role = f"in a background task {user[0].f_code.co_name}()"
        elif role is None and user:
            role = f"in {user[0].f_code.co_name}()"
        if served is None:
            return role or "outside any request"
        rule = served.url_rule
        endpoint = f"endpoint '{rule.endpoint}'" if rule is not None else "no endpoint"
        scope = getattr(served, "scope", None) or {}
        if scope.get("type") == "websocket":
            request = f"websocket {served.path}"
        else:
            request = f"{served.method} {served.path}"
        return f"{request} ({endpoint}), {role or 'in Quaver'}"


def _loop_codes(frame: FrameType | None) -> set[Any]:
    """The code of the frames below the running task's outermost coroutine:
    the loop and what started it."""
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    outermost = max(
        (i for i, f in enumerate(frames) if f.f_code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE)),
        default=0,
    )
    return {f.f_code for f in frames[outermost + 1:]}


def _is_user_code(filename: str) -> bool:
    return not (filename.startswith(_PACKAGE_DIR) or filename.startswith(_LIBRARY_DIRS) or filename.startswith("<"))


def _roles(app: Any) -> dict[Any, str]:
    """The code of the app's registered functions, and what each is."""
    roles: dict[Any, str] = {}

    def add(funcs: Any, kind: str) -> None:
        for func in funcs:
            code = getattr(inspect.unwrap(func), "__code__", None)
            if code is not None:
                roles.setdefault(code, f"in the {kind} {code.co_name}()")

    for attr, kind in (
        ("before_request_funcs", "before_request hook"),
        ("after_request_funcs", "after_request hook"),
        ("teardown_request_funcs", "teardown_request hook"),
        ("before_websocket_funcs", "before_websocket hook"),
        ("after_websocket_funcs", "after_websocket hook"),
        ("teardown_websocket_funcs", "teardown_websocket hook"),
    ):
        for funcs in (getattr(app, attr, None) or {}).values():
            add(funcs, kind)
    add(getattr(app, "before_serving_funcs", ()), "before_serving function")
    add(getattr(app, "after_serving_funcs", ()), "after_serving function")
    for func in app.view_functions.values():
        code = getattr(inspect.unwrap(func), "__code__", None)
        if code is not None:
            roles.setdefault(code, f"in the view {code.co_name}()")
        view_class = getattr(func, "view_class", None)
        if view_class is not None:
            for name, method in vars(view_class).items():
                if callable(method) and hasattr(method, "__code__"):
                    roles.setdefault(method.__code__, f"in the view {view_class.__name__}.{name}()")
    spawner = getattr(type(app), "add_background_task", None)  # its _run closure runs each background task
    for const in getattr(getattr(spawner, "__code__", None), "co_consts", ()):
        if getattr(const, "co_name", None) == "_run":
            roles[const] = "in a background task"
    for handlers in app.error_handler_spec.values():
        for by_class in handlers.values():
            add(by_class.values(), "error handler")
    return roles
