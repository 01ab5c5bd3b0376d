"""Templates on Jinja2 in async mode: ``await render_template(...)``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, Environment as _JinjaEnvironment, Template, TemplateNotFound

from .globals import _cv_app, _cv_request, _cv_websocket
from .signals import before_render_template, template_rendered

if TYPE_CHECKING:
    from .app import Quaver

__all__ = (
    "DispatchingJinjaLoader",
    "Environment",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
)


class Environment(_JinjaEnvironment):
    """The app's Jinja environment: async rendering, the app's loaders."""

    def __init__(self, app: Quaver, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        options.setdefault("enable_async", True)
        super().__init__(**options)
        self.app = app


class DispatchingJinjaLoader(BaseLoader):
    """Looks a template up in the app's folder, then in each blueprint's."""

    def __init__(self, app: Quaver) -> None:
        self.app = app

    def _loaders(self) -> Any:
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
    """What every template sees: config, g, request/websocket, session, url_for, flashes."""
    from .helpers import get_flashed_messages

    context: dict[str, Any] = {"config": app.config, "g": _cv_app.get().g, "url_for": app.url_for}
    ctx = _cv_request.get(None) or _cv_websocket.get(None)
    if ctx is not None:
        name = "request" if _cv_request.get(None) is ctx else "websocket"
        context[name] = ctx.request_websocket
        context["session"] = ctx.session
        context["get_flashed_messages"] = get_flashed_messages
    return context


async def _prepare(app: Any, template: Template, context: dict[str, Any]) -> dict[str, Any]:
    full = _default_context(app)
    await app.update_template_context(full)
    full.update(context)
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


async def render_template(template_name_or_list: str | Template | list[str | Template], **context: Any) -> str:
    """Render a template from the template folders with ``context``."""
    app = _cv_app.get().app
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return await _render(app, template, context)


async def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as a string."""
    app = _cv_app.get().app
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
        from .helpers import stream_with_context

        return stream_with_context(generate())
    return generate()


async def stream_template(template_name_or_list: str | Template | list[str | Template], **context: Any) -> AsyncIterator[str]:
    """Render a template as a stream of strings, for a streamed response."""
    app = _cv_app.get().app
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return await _stream(app, template, context)


async def stream_template_string(source: str, **context: Any) -> AsyncIterator[str]:
    """Stream a template given as a string."""
    app = _cv_app.get().app
    template = app.jinja_env.from_string(source)
    return await _stream(app, template, context)
