"""JSON helpers that use the current app's provider when there is one."""

from __future__ import annotations

import json as _json
from typing import IO, TYPE_CHECKING, Any

from ..globals import _cv_app, current_app
from .provider import DefaultJSONProvider, JSONProvider

if TYPE_CHECKING:
    from ..wrappers.response import Response

__all__ = ("DefaultJSONProvider", "JSONProvider", "dump", "dumps", "jsonify", "load", "loads")


def _provider() -> JSONProvider | None:
    ctx = _cv_app.get(None)
    return ctx.app.json if ctx is not None else None


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialise ``obj`` with the app's JSON settings, or defaults outside an app."""
    provider = _provider()
    if provider is not None:
        return provider.dumps(obj, **kwargs)
    kwargs.setdefault("default", DefaultJSONProvider.default)
    return _json.dumps(obj, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON with the app's provider, or the standard library outside an app."""
    provider = _provider()
    if provider is not None:
        return provider.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: IO[str] | IO[bytes], **kwargs: Any) -> Any:
    return loads(fp.read(), **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response of the arguments: one value, several as a list, or keywords as an object."""
    # Flask's JSONProvider is typed for Werkzeug's response; the app's provider makes the app's response_class.
    response: Response = current_app.json.response(*args, **kwargs)  # type: ignore[assignment]
    return response
