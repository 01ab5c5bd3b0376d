"""JSON helpers that use the current app's provider when there is one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .provider import DefaultJSONProvider, JSONProvider

if TYPE_CHECKING:
    from ..wrappers.response import Response

__all__ = ("DefaultJSONProvider", "JSONProvider", "dump", "dumps", "jsonify", "load", "loads")


def _provider() -> Any:
    from ..globals import _cv_app

    ctx = _cv_app.get(None)
    return ctx.app.json if ctx is not None else None


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialise ``obj`` with the app's JSON settings, or defaults outside an app."""
    provider = _provider()
    if provider is not None:
        return provider.dumps(obj, **kwargs)
    kwargs.setdefault("default", DefaultJSONProvider.default)
    import json

    return json.dumps(obj, **kwargs)


def dump(obj: Any, fp: Any, **kwargs: Any) -> None:
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON with the app's provider, or the standard library outside an app."""
    provider = _provider()
    if provider is not None:
        return provider.loads(s, **kwargs)
    import json

    return json.loads(s, **kwargs)


def load(fp: Any, **kwargs: Any) -> Any:
    return loads(fp.read(), **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response of the arguments: one value, several as a list, or keywords as an object."""
    from ..globals import current_app

    return current_app.json.response(*args, **kwargs)
