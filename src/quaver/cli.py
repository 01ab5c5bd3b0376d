"""The ``quaver`` command.

``quaver --app NAME COMMAND`` finds the app (see :class:`ScriptInfo`), loads
``.env`` and ``.quaverenv`` when python-dotenv is installed, and runs one of
``run``, ``routes``, ``shell`` or a command the app or its blueprints added
with ``app.cli.command()``. The group those commands live on, and running
them in the app context, are :mod:`quaver.commands`' (``AppGroup`` and
``with_appcontext`` are importable from here too, as from Quart's ``cli``).
"""

from __future__ import annotations

import ast
import code
import functools
import inspect
import os
import platform
import sys
import traceback
from collections.abc import Callable
from functools import update_wrapper
from importlib import import_module
from importlib.metadata import version as _package_version
from types import ModuleType
from typing import Any, Concatenate, ParamSpec, TypeVar

import click

from . import commands
from . import config as _config
from ._quart_alias import install as install_quart_alias
from ._quart_alias import installed as quart_alias_installed
from .app import Quaver
from .commands import AppGroup, NoAppException, app_context_runner, await_result, with_appcontext
from .globals import g
from .helpers import get_debug_flag
from .workers import run_workers

__all__ = (
    "AppGroup",
    "NoAppException",
    "QuaverGroup",
    "ScriptInfo",
    "load_dotenv",
    "main",
    "pass_script_info",
    "with_appcontext",
)

P = ParamSpec("P")
R = TypeVar("R")

_FACTORY_NAMES = ("create_app", "make_app")
_APP_NAMES = ("app", "application")
#: The Quart alias: its import switches it on, so it is named here, never imported at the top.


# ----------------------------------------------------------------------
# Finding the app
# ----------------------------------------------------------------------
def _call_factory(factory: Callable[..., object], args: list[Any], kwargs: dict[str, Any], where: str) -> Quaver:
    try:
        app = factory(*args, **kwargs)
    except TypeError as error:
        if _error_is_from_call(factory):
            raise NoAppException(f"Could not call the factory {where} with these arguments: {error}") from error
        raise
    if not isinstance(app, Quaver):
        raise NoAppException(f"The factory {where} returned {app!r}, not a Quaver app.")
    return app


def _error_is_from_call(factory: Callable[..., object]) -> bool:
    """True if the TypeError being handled came from calling ``factory``
    itself (wrong arguments), not from inside it."""
    tb = sys.exc_info()[2]
    while tb is not None:
        if tb.tb_frame.f_code is getattr(factory, "__code__", None):
            return False
        tb = tb.tb_next
    return True


def find_best_app(module: ModuleType) -> Quaver:
    """The app in ``module``: ``app`` or ``application``, the only app
    among its globals, or what ``create_app()``/``make_app()`` returns."""
    for name in _APP_NAMES:
        value = getattr(module, name, None)
        if isinstance(value, Quaver):
            return value
    apps = [value for value in vars(module).values() if isinstance(value, Quaver)]
    if len(apps) == 1:
        return apps[0]
    if len(apps) > 1:
        raise NoAppException(
            f"Found several apps in module {module.__name__!r}. Name the one to use: '{module.__name__}:name'."
        )
    for name in _FACTORY_NAMES:
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            return _call_factory(factory, [], {}, f"{name!r} in module {module.__name__!r}")
    raise NoAppException(
        f"Could not find a Quaver app or factory in module {module.__name__!r}. Use '{module.__name__}:name'."
    )


def find_app_by_string(module: ModuleType, spec: str) -> Quaver:
    """The app named by ``spec`` in ``module``: an attribute name, or a
    call with literal arguments such as ``create_app('dev', testing=True)``."""
    try:
        expr = ast.parse(spec.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(f"Could not parse {spec!r} as an attribute name or a function call.") from None
    if isinstance(expr, ast.Name):
        name, call = expr.id, None
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        name, call = expr.func.id, expr
    else:
        raise NoAppException(f"Could not parse {spec!r} as an attribute name or a function call.")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise NoAppException(f"Module {module.__name__!r} has no attribute {name!r}.") from None
    where = f"{name!r} in module {getattr(module, '__name__', '?')!r}"
    if call is not None:
        try:
            args = [ast.literal_eval(arg) for arg in call.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg is not None}
        except ValueError:
            raise NoAppException(f"The arguments in {spec!r} must be Python literals.") from None
        return _call_factory(value, args, kwargs, where)
    if isinstance(value, Quaver):
        return value
    if inspect.isfunction(value):
        return _call_factory(value, [], {}, where)
    raise NoAppException(f"{where} is {value!r}, not a Quaver app or a factory.")


def prepare_import(path: str) -> str:
    """The module name for ``path`` (a dotted name or a file path), with
    the directory it is imported from put first on ``sys.path``."""
    path = os.path.realpath(path) if (path.endswith(".py") or os.sep in path) else path
    if not os.path.isabs(path):
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        return path
    base, ext = os.path.splitext(path)
    if ext != ".py":
        base = path
    if os.path.basename(base) == "__init__":
        base = os.path.dirname(base)
    names = []
    while True:
        base, name = os.path.split(base)
        names.append(name)
        if not os.path.exists(os.path.join(base, "__init__.py")):
            break
    if base not in sys.path:
        sys.path.insert(0, base)
    return ".".join(reversed(names))


def locate_app(module_name: str, app_spec: str | None) -> Quaver:
    """Import ``module_name`` and find the app in it (by ``app_spec`` if given)."""
    try:
        module = import_module(module_name)
    except ImportError as error:
        # "The module is missing" is ours to report; an ImportError raised
        # while the module ran is the user's, shown with its traceback.
        missing = getattr(error, "name", None)
        if isinstance(error, ModuleNotFoundError) and missing and (
            module_name == missing or module_name.startswith(missing + ".")
        ):
            raise NoAppException(f"Could not import {module_name!r}.") from None
        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised:\n\n{traceback.format_exc()}"
        ) from None
    if app_spec:
        return find_app_by_string(module, app_spec)
    return find_best_app(module)



class ScriptInfo(commands.ScriptInfo):
    """Finds and loads the app named by ``--app`` or ``QUAVER_APP`` (or the
    app in ``wsgi.py``, ``asgi.py`` or ``app.py`` in the current directory),
    or the one ``create_app`` returns."""

    def _locate_app(self) -> Quaver:
        path = self.app_import_path or os.environ.get(f"{_config.ENV_PREFIX}_APP")
        if path:
            module_path, app_spec = _split_import_path(path)
            return locate_app(prepare_import(module_path), app_spec)
        for candidate in ("wsgi.py", "asgi.py", "app.py"):
            if os.path.exists(candidate):
                return locate_app(prepare_import(candidate), None)
        raise NoAppException(
            "Could not find a Quaver app. Use 'quaver --app NAME', set QUAVER_APP, "
            "or put one in 'app.py' in the current directory."
        )


def _split_import_path(path: str) -> tuple[str, str | None]:
    """``'module:spec'`` as ``('module', 'spec')``; a Windows drive letter
    (``C:\\dir\\app.py``) is not taken for the separator."""
    start = 2 if len(path) > 2 and path[0].isalpha() and path[1] == ":" and path[2] in "\\/" else 0
    colon = path.find(":", start)
    if colon == -1:
        return path, None
    return path[:colon], path[colon + 1 :] or None


def _script_info(ctx: click.Context) -> commands.ScriptInfo:
    """The context's app holder: the test runner's or the command line's
    (one is made, to find the app by name, if there is none)."""
    return ctx.find_object(commands.ScriptInfo) or ctx.ensure_object(ScriptInfo)


def pass_script_info(func: Callable[Concatenate[commands.ScriptInfo, P], R]) -> Callable[P, R]:
    """Call the command with the context's :class:`ScriptInfo` first."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.invoke(func, _script_info(ctx), *args, **kwargs)

    return update_wrapper(decorator, func)


# ----------------------------------------------------------------------
# .env files
# ----------------------------------------------------------------------
def load_dotenv(path: str | os.PathLike[str] | None = None) -> bool:
    """Load ``.quaverenv`` and ``.env`` (found from the current directory
    upward), then ``path``, into ``os.environ``. Variables already set are
    kept; ``.env`` wins over ``.quaverenv`` and ``path`` over both.
    Returns whether anything was loaded. Without python-dotenv, says how to
    get it if such files exist, and loads nothing."""
    try:
        import dotenv
    except ImportError:
        own = f".{_config.ENV_PREFIX.lower()}env"
        if path or os.path.isfile(".env") or os.path.isfile(own):
            click.secho(
                f" * Tip: There are .env or {own} files present. Do \"pip install python-dotenv\" to use them.",
                fg="yellow",
                err=True,
            )
        return False
    values: dict[str, str | None] = {}
    for name in (f".{_config.ENV_PREFIX.lower()}env", ".env"):
        found = dotenv.find_dotenv(name, usecwd=True)
        if found:
            values.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        values.update(dotenv.dotenv_values(path, encoding="utf-8"))
    for key, value in values.items():
        if value is not None:
            os.environ.setdefault(key, value)
    return bool(values)


# ----------------------------------------------------------------------
# ----------------------------------------------------------------------
# The quaver command
# ----------------------------------------------------------------------
def get_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: print the Python, Quaver and Werkzeug versions and exit."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"Python {platform.python_version()}\n"
        f"Quaver {_package_version('quaver')}\n"
        f"Werkzeug {_package_version('werkzeug')}",
        color=ctx.color,
    )
    ctx.exit()


version_option = click.Option(
    ["--version"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=get_version,
    help="Show the Quaver version.",
)


def _as_quart(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value and not ctx.resilient_parsing:
        install_quart_alias()
        if ctx.parent is not None and getattr(ctx.parent.command, "load_dotenv", False):
            load_dotenv()  # given to 'run': the group read .quaverenv, not yet .quartenv
    return value


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        _script_info(ctx).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool | None) -> bool | None:
    if value is not None:
        _script_info(ctx).debug = value
    return value


def _env_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    group = ctx.command
    if value is not None or getattr(group, "load_dotenv", False):
        load_dotenv(value)
    return value


class QuaverGroup(AppGroup):
    """The ``quaver`` command: ``run``, ``routes``, ``shell`` and the app's
    own commands (found by loading the app when a name is not built in).
    Build one with ``create_app`` for a project's own management script."""

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[..., Quaver] | None = None,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        params += [
            click.Option(
                ["--as-quart"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_as_quart,
                help="Run a Quart app unchanged: 'import quart' gives Quaver (quaver.as_quart); "
                "QUART_APP and .quartenv are read. Also QUAVER_AS_QUART=1.",
            ),
            click.Option(
                ["-e", "--env-file"],
                type=click.Path(exists=True, dir_okay=False),
                expose_value=False,
                is_eager=True,
                callback=_env_file,
                help="Load environment variables from this file, over those of '.env' and '.quaverenv'. "
                "python-dotenv must be installed.",
            ),
            click.Option(
                ["-A", "--app"],
                metavar="IMPORT",
                expose_value=False,
                is_eager=True,
                callback=_set_app,
                help="The app or factory to load: 'module', 'module:name' or 'module:create_app(args)'. "
                "The module can be a dotted name or a file path. Default: the QUAVER_APP variable.",
            ),
            click.Option(
                ["--debug/--no-debug"],
                default=None,
                expose_value=False,
                callback=_set_debug,
                help="Set debug mode.",
            ),
            version_option,
        ]
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(routes_command)
            self.add_command(shell_command)

    def _app_commands(self, ctx: click.Context) -> click.Group:
        return _script_info(ctx).load_app().cli

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        try:
            app_cli = self._app_commands(ctx)
        except NoAppException as error:
            click.secho(f"Error: {error.format_message()}\n", err=True, fg="red")
            return None
        return app_cli.get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        try:
            names.update(self._app_commands(ctx).list_commands(ctx))
        except NoAppException as error:
            click.secho(f"Error: {error.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(names)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(create_app=self.create_app, set_debug_flag=self.set_debug_flag)
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if (not args and self.no_args_is_help) or (args and args[0] in ("--help", "-h")):
            # Help lists the app's commands: load .env for QUAVER_APP first.
            if self.load_dotenv:
                load_dotenv()
        return super().parse_args(ctx, args)


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="The interface to bind to.")
@click.option("--port", "-p", default=5000, show_default=True, type=int, help="The port to bind to.")
@click.option(
    "--debug/--no-debug", default=None, help="Set debug mode (default: 'quaver --debug', else QUAVER_DEBUG; off)."
)
@click.option(
    "--reload/--no-reload", "reload", default=None, help="Restart when a source file changes (default: in debug mode)."
)
@click.option(
    "--certfile", "--cert", type=click.Path(exists=True, dir_okay=False), help="A certificate file, to serve HTTPS."
)
@click.option("--keyfile", "--key", type=click.Path(exists=True, dir_okay=False), help="The certificate's key file.")
@click.option(
    "--workers",
    "-w",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Serve in this many processes (Hypercorn's workers), on one socket.",
)
@click.option(
    "--as-quart",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_as_quart,
    help="Run a Quart app unchanged (quaver.as_quart), as 'quaver --as-quart run'.",
)
@pass_script_info
def run_command(
    info: commands.ScriptInfo,
    host: str,
    port: int,
    debug: bool | None,
    reload: bool | None,
    certfile: str | None,
    keyfile: str | None,
    workers: int,
) -> None:
    """Serve the app with Hypercorn until Ctrl-C or SIGTERM.

    Requests in flight then get GRACEFUL_SHUTDOWN_TIMEOUT seconds to finish
    (a second Ctrl-C quits at once). With --workers N, N processes serve,
    each shutting down so.
    """
    if bool(certfile) != bool(keyfile):
        raise click.BadParameter("'--certfile' and '--keyfile' go together.", param_hint="'--certfile'/'--keyfile'")
    if workers > 1 and reload:
        raise click.BadParameter("'--reload' works with one worker.", param_hint="'--reload'")
    app = info.load_app()
    if debug is None:  # 'quaver --debug', else QUAVER_DEBUG: off unless asked, as in Flask and Quart
        debug = info.debug if info.debug is not None else get_debug_flag()
    if workers > 1:
        load = functools.partial(
            _load_worker_app, info.app_import_path, info.create_app, info.debug, quart_alias_installed()
        )
        sys.exit(run_workers(load, workers, host=host, port=port, debug=debug, certfile=certfile, keyfile=keyfile))
    if reload is None:
        reload = debug
    app.run(debug=debug, host=host, port=port, certfile=certfile, keyfile=keyfile, use_reloader=reload)


def _load_worker_app(
    import_path: str | None, create_app: Callable[..., Quaver] | None, debug: bool | None, as_quart: bool
) -> Quaver:
    """The app, loaded in a worker process of 'quaver run --workers' as the
    command loaded it."""
    if as_quart:
        install_quart_alias()
    info = ScriptInfo(app_import_path=import_path, create_app=create_app)
    info.debug = debug
    return info.load_app()


_ROUTE_SORTS = ("endpoint", "methods", "rule", "match")


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(_ROUTE_SORTS),
    default="endpoint",
    show_default=True,
    help="The order of the rows ('match': the order they are matched in).",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
@pass_script_info
def routes_command(info: commands.ScriptInfo, sort: str, all_methods: bool) -> None:
    """Show every route of the app: endpoint, methods and rule."""
    app = info.load_app()
    rules = list(app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    hidden = set() if all_methods else {"HEAD", "OPTIONS"}

    def methods_of(rule: Any) -> str:
        if getattr(rule, "websocket", False):
            return "WEBSOCKET"
        return ", ".join(sorted((rule.methods or set()) - hidden))

    if sort == "endpoint":
        rules.sort(key=lambda rule: (rule.endpoint, rule.rule))
    elif sort == "methods":
        rules.sort(key=lambda rule: (methods_of(rule), rule.rule))
    elif sort == "rule":
        rules.sort(key=lambda rule: rule.rule)
    rows = [("Endpoint", "Methods", "Rule")]
    rows += [(rule.endpoint, methods_of(rule), rule.rule) for rule in rules]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    rows.insert(1, tuple("-" * width for width in widths))  # type: ignore[arg-type]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.command("shell", short_help="Run a shell in the app context.")
@pass_script_info
def shell_command(info: commands.ScriptInfo) -> None:
    """Run an interactive Python shell in the app context, with ``app``,
    ``g`` and what the app's shell context processors return in scope."""
    app = info.load_app()
    banner = f"Python {sys.version} on {sys.platform}\nApp: {app.import_name}\nInstance: {app.instance_path}"
    with app_context_runner(app) as (runner, context):
        namespace: dict[str, Any] = {"app": app, "g": g}
        if _overrides(app, "make_shell_context"):
            namespace = context.run(app.make_shell_context)  # a subclass's own, as Quart's shell calls it
        else:
            for processor in app.shell_context_processors:  # async processors too
                result = context.run(processor)
                if inspect.isawaitable(result):
                    result = runner.run(await_result(result), context=context)
                namespace.update(result)
        startup = os.environ.get("PYTHONSTARTUP")
        if startup and os.path.isfile(startup):
            with open(startup) as file:
                exec(compile(file.read(), startup, "exec"), namespace)
        _enable_completion(namespace)
        context.run(code.interact, banner=banner, local=namespace, exitmsg="")


def _overrides(app: Quaver, name: str) -> bool:
    """True if ``app``'s class, or a class between it and Quaver, has its own ``name``."""
    return getattr(type(app), name) is not getattr(Quaver, name)


def _enable_completion(namespace: dict[str, Any]) -> None:
    """Tab completion of the shell's names, where readline exists."""
    try:
        import readline
        from rlcompleter import Completer
    except ImportError:
        return
    readline.set_completer(Completer(namespace).complete)
    readline.parse_and_bind("tab: complete")


cli = QuaverGroup(
    name="quaver",
    help="The Quaver command. Name the app with '--app', the QUAVER_APP variable, "
    "or put it in 'app.py' in the current directory.",
)


def main() -> None:
    if os.environ.get("QUAVER_AS_QUART", "").lower() in ("1", "true", "yes"):
        install_quart_alias()
    cli.main(prog_name="quaver")


if __name__ == "__main__":
    main()
