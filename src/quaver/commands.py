"""The command group an app carries: ``app.cli`` and ``blueprint.cli``.

Commands added with ``app.cli.command()`` run inside the app context
(:func:`with_appcontext`), and ``async def`` ones are run with asyncio. A
command gets the app from the :class:`ScriptInfo` in its click context: the
``quaver`` command puts there one that finds the app by its import path
(:class:`quaver.cli.ScriptInfo`), ``app.test_cli_runner()`` one that holds
the app itself. This module knows nothing of the app class: the command line
and the test runner, above it, hand it the app.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import click

from .globals import _cv_app

if TYPE_CHECKING:
    from .app import Quaver

__all__ = ("AppGroup", "NoAppException", "ScriptInfo", "with_appcontext")

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class NoAppException(click.UsageError):
    """The app named by ``--app`` or ``QUAVER_APP`` could not be loaded."""


class ScriptInfo:
    """The app the commands of a click context run against: the one
    ``create_app`` returns, made once and kept.

    This is what a command looks up in its context; the ``quaver`` command's
    :class:`quaver.cli.ScriptInfo` also finds the app by ``app_import_path``
    (or ``QUAVER_APP``, or ``app.py`` in the current directory).
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Quaver] | None = None,
        set_debug_flag: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        #: ``--debug``/``--no-debug`` of the ``quaver`` command, if given.
        self.debug: bool | None = None
        self.data: dict[Any, Any] = {}
        self._loaded_app: Quaver | None = None

    def load_app(self) -> Quaver:
        """The app, loaded once and kept."""
        if self._loaded_app is not None:
            return self._loaded_app
        app = self.create_app() if self.create_app is not None else self._locate_app()
        if self.set_debug_flag and self.debug is not None:
            app.debug = self.debug
        self._loaded_app = app
        return app

    def _locate_app(self) -> Quaver:
        """The app when there is no ``create_app``: the one whose ``app.cli``
        was invoked on its own (``app.cli()``); the command line's subclass
        finds it by import path instead."""
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root().command if ctx is not None else None
        if isinstance(root, AppGroup) and root._app is not None:
            return root._app
        raise NoAppException(
            "There is no app to run this command against: run it as 'quaver --app NAME COMMAND', "
            "or in a test with app.test_cli_runner()."
        )


# ----------------------------------------------------------------------
# Running commands in the app context
# ----------------------------------------------------------------------
@contextmanager
def app_context_runner(app: Quaver) -> Iterator[tuple[asyncio.Runner, contextvars.Context]]:
    """Push the app context into a fresh ``contextvars.Context`` and yield
    it with an event loop, so that sync code can run in it (``ctx.run``)
    outside any running loop and coroutines can run in it too
    (``runner.run(coro, context=ctx)``)."""
    context = contextvars.copy_context()
    app_ctx = app.app_context()
    with asyncio.Runner() as runner:
        runner.run(app_ctx.push(), context=context)
        try:
            yield runner, context
        except BaseException as error:
            runner.run(app_ctx.pop(error), context=context)
            raise
        else:
            runner.run(app_ctx.pop(None), context=context)


async def await_result(awaitable: Awaitable[T]) -> T:
    """``awaitable``'s result, as a coroutine (what ``asyncio.run`` takes)."""
    return await awaitable


def _invoke(
    ctx: click.Context, func: Callable[..., Any], runner: asyncio.Runner | None, *args: Any, **kwargs: Any
) -> Any:
    result = ctx.invoke(func, *args, **kwargs)
    if inspect.isawaitable(result):
        if runner is None:
            return asyncio.run(await_result(result))
        # The runner's default context is its own; run in (a copy of) ours.
        return runner.run(await_result(result), context=contextvars.copy_context())
    return result


def _loop_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def with_appcontext(func: F) -> F:
    """Make a click command run inside the app's app context. A coroutine
    function is run to completion with asyncio."""

    @click.pass_context
    def decorator(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        if _cv_app.get(None) is not None:
            return _invoke(ctx, func, None, *args, **kwargs)
        app = ctx.ensure_object(ScriptInfo).load_app()

        def run() -> Any:
            with app_context_runner(app) as (runner, context):
                return context.run(_invoke, ctx, func, runner, *args, **kwargs)

        if _loop_is_running():
            # Invoked from async code (an async test, say): its loop cannot
            # run ours, so the command runs in a thread of its own.
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(contextvars.copy_context().run, run).result()
        return run()

    return cast(F, update_wrapper(decorator, func))


def _run_async(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Make an ``async def`` command a sync one that runs it with asyncio."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(await_result(func(*args, **kwargs)))

    return update_wrapper(wrapper, func)


class AppGroup(click.Group):
    """A click group whose commands run in the app context unless given
    ``with_appcontext=False``; ``async def`` commands are supported."""

    #: The app whose ``cli`` this is (set by the app): its commands run
    #: against it when the group is invoked on its own, ``app.cli()``.
    _app: Quaver | None = None

    @overload
    def command(self, __func: Callable[..., Any]) -> click.Command: ...

    @overload
    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]: ...

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command] | click.Command:
        """As ``click.Group.command``, the command running in the app
        context unless ``with_appcontext=False`` is given."""
        wrap_for_ctx = kwargs.pop("with_appcontext", True)

        def decorator(func: Callable[..., Any]) -> click.Command:
            if wrap_for_ctx:
                func = with_appcontext(func)
            elif inspect.iscoroutinefunction(func):
                func = _run_async(func)
            make: Callable[[Callable[..., Any]], click.Command] = click.Group.command(self, *args, **kwargs)
            return make(func)

        if len(args) == 1 and callable(args[0]) and not kwargs:
            func, args = args[0], ()
            return decorator(func)
        return decorator

    @overload
    def group(self, __func: Callable[..., Any]) -> click.Group: ...

    @overload
    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]: ...

    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group] | click.Group:
        """As ``click.Group.group``, the group an :class:`AppGroup` by default."""
        kwargs.setdefault("cls", AppGroup)
        made: Callable[[Callable[..., Any]], click.Group] | click.Group = click.Group.group(self, *args, **kwargs)
        return made
