"""Blueprints: Flask's registration semantics, with websocket routes and
serving hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask.sansio.blueprints import Blueprint as _SansIOBlueprint
from flask.sansio.blueprints import BlueprintSetupState
from flask.sansio.scaffold import setupmethod

from .commands import AppGroup
from .globals import current_app
from .helpers import send_from_directory
from .scaffold import (
    QuaverScaffoldMixin,
    T_after_websocket,
    T_before_websocket,
    T_teardown,
    T_websocket,
)
from .serving import T_after_serving, T_before_serving, T_while_serving
from .wrappers.response import Response

if TYPE_CHECKING:
    from .app import Quaver

__all__ = (
    "Blueprint",
    "BlueprintSetupState",
    "T_after_serving",
    "T_after_websocket",
    "T_before_serving",
    "T_before_websocket",
    "T_teardown",
    "T_websocket",
    "T_while_serving",
)


def _app_of(state: BlueprintSetupState) -> Quaver:
    """The app a blueprint is being registered on (Flask's state types it as its base App)."""
    return cast("Quaver", state.app)


# static_folder is a Path, as in Quart, where Flask's Scaffold has a str.
class Blueprint(QuaverScaffoldMixin, _SansIOBlueprint):  # type: ignore[misc]
    """A group of routes, hooks and handlers registered on an app later,
    optionally under a ``url_prefix`` or subdomain, and nestable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_websocket_funcs()
        self.cli = AppGroup(self.name)

    def _merge_blueprint_funcs(self, app: Any, name: str) -> None:
        super()._merge_blueprint_funcs(app, name)
        for attr in ("before_websocket_funcs", "after_websocket_funcs", "teardown_websocket_funcs"):
            parent = getattr(app, attr)
            for key, values in getattr(self, attr).items():
                parent[name if key is None else f"{name}.{key}"].extend(values)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The Cache-Control max-age of this blueprint's static files: the
        app's (``SEND_FILE_MAX_AGE_DEFAULT``); override to change it here only."""
        return current_app.get_send_file_max_age(filename)

    async def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from this blueprint's static folder."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        max_age = self.get_send_file_max_age(filename)
        return await send_from_directory(self.static_folder, filename, max_age=max_age)  # type: ignore[arg-type]

    # Hooks registered on the app from a blueprint ------------------------
    @setupmethod
    def before_app_websocket(self, func: T_before_websocket) -> T_before_websocket:
        self.record_once(lambda s: _app_of(s).before_websocket_funcs[None].append(func))
        return func

    @setupmethod
    def after_app_websocket(self, func: T_after_websocket) -> T_after_websocket:
        self.record_once(lambda s: _app_of(s).after_websocket_funcs[None].append(func))
        return func

    @setupmethod
    def teardown_app_websocket(self, func: T_teardown) -> T_teardown:
        self.record_once(lambda s: _app_of(s).teardown_websocket_funcs[None].append(func))
        return func

    @setupmethod
    def before_app_serving(self, func: T_before_serving) -> T_before_serving:
        def register(state: BlueprintSetupState) -> None:
            _app_of(state).before_serving(func)

        self.record_once(register)
        return func

    @setupmethod
    def after_app_serving(self, func: T_after_serving) -> T_after_serving:
        def register(state: BlueprintSetupState) -> None:
            _app_of(state).after_serving(func)

        self.record_once(register)
        return func

    @setupmethod
    def while_app_serving(self, func: T_while_serving) -> T_while_serving:
        def register(state: BlueprintSetupState) -> None:
            _app_of(state).while_serving(func)

        self.record_once(register)
        return func
