"""The app's JSON provider: Flask's settings, a fast response path."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider as _FlaskDefaultJSONProvider
from flask.json.provider import JSONProvider

__all__ = ("DefaultJSONProvider", "JSONProvider")


class DefaultJSONProvider(_FlaskDefaultJSONProvider):
    """Flask's default provider (``sort_keys``, ``ensure_ascii``, ``compact``,
    ``mimetype``, dates, UUIDs, dataclasses), answering with Quaver responses."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """Make a JSON response of the arguments, as ``jsonify`` does."""
        obj = self._prepare_response_obj(args, kwargs)
        indent = None
        separators = (",", ":")
        if self.compact is False or (self.compact is None and self._app.debug):
            indent = 2
            separators = (", ", ": ")
        body = json.dumps(
            obj,
            default=self.default,
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            indent=indent,
            separators=separators,
        )
        return self._app.response_class._from_bytes((body + "\n").encode(), self.mimetype)
