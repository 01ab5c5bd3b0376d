"""The ``quaver`` command and the app's command group."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

__all__ = ("AppGroup", "ScriptInfo", "main", "with_appcontext")


class ScriptInfo:
    """Finds and loads the app named by ``--app`` or ``QUAVER_APP``."""

    def __init__(self, app_import_path: str | None = None, create_app: Any = None) -> None:
        self.app_import_path = app_import_path or os.environ.get("QUAVER_APP")
        self.create_app = create_app
        self._loaded_app: Any = None

    def load_app(self) -> Any:
        if self._loaded_app is not None:
            return self._loaded_app
        if self.create_app is not None:
            app = self.create_app()
        else:
            app = _locate_app(self.app_import_path)
        self._loaded_app = app
        return app


def _locate_app(import_path: str | None) -> Any:
    from .app import Quaver

    if import_path is None:
        for candidate in ("wsgi", "app", "asgi"):
            if os.path.exists(f"{candidate}.py"):
                import_path = candidate
                break
        else:
            raise click.UsageError("Could not find an app. Use '--app' or set QUAVER_APP.")
    module_name, _, attr = import_path.partition(":")
    if module_name.endswith(".py"):
        module_name = module_name[:-3].replace(os.sep, ".")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    if attr:
        name, paren, rest = attr.partition("(")
        target = getattr(module, name)
        if paren:
            target = target()
        elif not isinstance(target, Quaver) and callable(target):
            target = target()
        return target
    for name in ("app", "application"):
        value = getattr(module, name, None)
        if isinstance(value, Quaver):
            return value
    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if callable(factory):
            return factory()
    matches = [value for value in vars(module).values() if isinstance(value, Quaver)]
    if len(matches) == 1:
        return matches[0]
    raise click.UsageError(f"Could not find a Quaver app in module {module_name!r}.")


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(func: Any) -> Any:
    """Run a command inside the app's app context."""
    import asyncio
    from functools import update_wrapper

    @click.pass_context
    def decorator(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        from .globals import _cv_app

        if _cv_app.get(None) is not None:
            return ctx.invoke(func, *args, **kwargs)
        app = ctx.ensure_object(ScriptInfo).load_app()

        async def _run() -> Any:
            async with app.app_context():
                return ctx.invoke(func, *args, **kwargs)

        return asyncio.run(_run())

    return update_wrapper(decorator, func)


class AppGroup(click.Group):
    """A click group whose commands run in the app context by default."""

    def command(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        wrap_for_ctx = kwargs.pop("with_appcontext", True)

        def decorator(func: Any) -> Any:
            if wrap_for_ctx:
                func = with_appcontext(func)
            return click.Group.command(self, *args, **kwargs)(func)

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


@click.group()
@click.option("--app", "app_path", default=None, help="The app to load: 'module', 'module:app' or 'module:factory()'.")
@click.version_option(package_name="quaver")
@click.pass_context
def cli(ctx: click.Context, app_path: str | None) -> None:
    """Quaver: an async Flask."""
    ctx.obj = ScriptInfo(app_path)


@cli.command("run")
@click.option("--host", "-h", default="127.0.0.1")
@click.option("--port", "-p", default=5000, type=int)
@click.option("--debug/--no-debug", default=None)
@click.option("--reload/--no-reload", "reload", default=None)
@click.option("--certfile", default=None)
@click.option("--keyfile", default=None)
@pass_script_info
def run_command(info: ScriptInfo, host: str, port: int, debug: bool | None, reload: bool | None, certfile: str | None, keyfile: str | None) -> None:
    """Serve the app with Hypercorn."""
    app = info.load_app()
    app.run(host=host, port=port, debug=debug, use_reloader=reload, certfile=certfile, keyfile=keyfile)


@cli.command("routes")
@pass_script_info
def routes_command(info: ScriptInfo) -> None:
    """List the app's routes."""
    app = info.load_app()
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    rows = [("Endpoint", "Methods", "Rule")]
    for rule in rules:
        methods = ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        rows.append((rule.endpoint, "WEBSOCKET" if rule.websocket else methods, rule.rule))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> None:
    cli.main(prog_name="quaver")
