"""What the app and blueprints add to Flask's Scaffold: websocket routes
and hooks, shared by ``Quaver`` and ``Blueprint``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask.sansio.scaffold import setupmethod

T = Callable[..., Any]


class QuaverScaffoldMixin:
    """Websocket routes and per-scope websocket hooks."""

    def _init_websocket_funcs(self) -> None:
        self.before_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)
        self.after_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)
        self.teardown_websocket_funcs: dict[str | None, list[T]] = defaultdict(list)

    def websocket(self, rule: str, **options: Any) -> Callable[[T], T]:
        """Register a websocket handler for ``rule``."""

        def decorator(func: T) -> T:
            endpoint = options.pop("endpoint", None)
            self.add_websocket(rule, endpoint, func, **options)
            return func

        return decorator

    @setupmethod
    def add_websocket(self, rule: str, endpoint: str | None = None, view_func: T | None = None, **options: Any) -> None:
        """Register ``view_func`` as the websocket handler for ``rule``."""
        options["websocket"] = True
        options["methods"] = {"GET"}
        options.setdefault("provide_automatic_options", False)
        self.add_url_rule(rule, endpoint, view_func, **options)  # type: ignore[attr-defined]

    @setupmethod
    def before_websocket(self, func: T) -> T:
        """Run ``func()`` before each websocket handler of this scope."""
        self.before_websocket_funcs[None].append(func)
        return func

    @setupmethod
    def after_websocket(self, func: T) -> T:
        """Run ``func(response)`` after each websocket handler of this scope."""
        self.after_websocket_funcs[None].append(func)
        return func

    @setupmethod
    def teardown_websocket(self, func: T) -> T:
        """Run ``func(exc)`` when each websocket of this scope ends."""
        self.teardown_websocket_funcs[None].append(func)
        return func
