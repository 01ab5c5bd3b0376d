"""Templates on Jinja2 in async mode: ``await render_template(...)``.

The app's environment (``app.jinja_env``, made by
``Quaver.create_jinja_environment``) renders asynchronously and looks
templates up in the app's folder, then in each blueprint's. Every template
sees ``config``, ``g``, ``url_for`` and ``get_flashed_messages``; inside a
request also ``request`` and ``session`` (``websocket`` in a websocket).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, Template, TemplateNotFound
from jinja2 import Environment as _JinjaEnvironment

from .globals import _cv_app, _cv_request, _cv_websocket, current_app, session
from .helpers import get_template_attribute, stream_with_context
from .signals import before_render_template, template_rendered

if TYPE_CHECKING:
    from .app import Quaver

__all__ = (
    "DispatchingJinjaLoader",
    "Environment",
    "get_template_attribute",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
)

TemplateName = str | Template | list[str | Template]


class Environment(_JinjaEnvironment):
    """The app's Jinja environment: async rendering, the app's loaders."""

    def __init__(self, app: Quaver, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        options.setdefault("enable_async", True)
        super().__init__(**options)
        self.app = app
        self._sync_twin: _JinjaEnvironment | None = None

    def sync_twin(self) -> _JinjaEnvironment:
        """A non-async view of this environment (same loader, filters,
        tests and globals) whose template modules and macros are plain
        functions; ``get_template_attribute`` (in helpers) uses it."""
        if self._sync_twin is None:
            self._sync_twin = self.overlay(enable_async=False, cache_size=50)
        return self._sync_twin


class DispatchingJinjaLoader(BaseLoader):
    """Looks a template up in the app's folder, then in each blueprint's."""

    def __init__(self, app: Quaver) -> None:
        self.app = app

    def _loaders(self) -> Iterator[tuple[Any, BaseLoader]]:
        loader = self.app.jinja_loader
        if loader is not None:
            yield self.app, loader
        for blueprint in self.app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        for _, loader in self._loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _, loader in self._loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _default_context(app: Any) -> dict[str, Any]:
    """What every template sees besides the environment's globals.

    ``session`` is the lazy proxy, so a template that never reads it does
    not open the session cookie.
    """
    context: dict[str, Any] = {"g": _cv_app.get().g}
    request_ctx = _cv_request.get(None)
    if request_ctx is not None:
        context["request"] = request_ctx.request_websocket
        context["session"] = session
    else:
        websocket_ctx = _cv_websocket.get(None)
        if websocket_ctx is not None:
            context["websocket"] = websocket_ctx.request_websocket
            context["session"] = session
    return context


async def _prepare(app: Any, template: Template, context: dict[str, Any]) -> dict[str, Any]:
    full = dict(context)
    await app.update_template_context(full)  # the context processors, under what the view passed
    for key, value in _default_context(app).items():
        full.setdefault(key, value)
    if before_render_template.receivers:
        await before_render_template.send_async(
            app, _sync_wrapper=app.ensure_async, template=template, context=full
        )
    return full


async def _render(app: Any, template: Template, context: dict[str, Any]) -> str:
    context = await _prepare(app, template, context)
    rendered = await template.render_async(context)
    if template_rendered.receivers:
        await template_rendered.send_async(app, _sync_wrapper=app.ensure_async, template=template, context=context)
    return rendered


def _app() -> Quaver:
    app: Quaver = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
    return app


async def render_template(template_name_or_list: TemplateName, **context: Any) -> str:
    """Render a template from the template folders with ``context``; the
    first name that exists is used when given a list."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return await _render(app, template, context)


async def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as a string (always autoescaped)."""
    app = _app()
    template = app.jinja_env.from_string(source)
    return await _render(app, template, context)


async def _stream(app: Any, template: Template, context: dict[str, Any]) -> AsyncIterator[str]:
    context = await _prepare(app, template, context)

    async def generate() -> AsyncIterator[str]:
        async for chunk in template.generate_async(context):
            yield chunk
        if template_rendered.receivers:
            await template_rendered.send_async(app, _sync_wrapper=app.ensure_async, template=template, context=context)

    if _cv_request.get(None) is not None:
        return stream_with_context(generate())
    return generate()


async def stream_template(template_name_or_list: TemplateName, **context: Any) -> AsyncIterator[str]:
    """Render a template piece by piece: return the value from a view for a
    streamed response. The request context stays available while it streams."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return await _stream(app, template, context)


async def stream_template_string(source: str, **context: Any) -> AsyncIterator[str]:
    """Stream a template given as a string; see ``stream_template``."""
    app = _app()
    template = app.jinja_env.from_string(source)
    return await _stream(app, template, context)
