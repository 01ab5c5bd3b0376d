"""The app's JSON provider: Flask's settings, a fast response path."""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from flask.json.provider import DefaultJSONProvider as _FlaskDefaultJSONProvider
from flask.json.provider import JSONProvider

__all__ = ("DefaultJSONProvider", "JSONProvider")

_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once
_OPENERS = (b"{", b"[")


class DefaultJSONProvider(_FlaskDefaultJSONProvider):
    """Flask's default provider (``sort_keys``, ``ensure_ascii``, ``compact``,
    ``mimetype``, dates, UUIDs, dataclasses), answering with Quaver responses.

    Compact output reuses one C encoder per combination of settings instead
    of building a new encoder for every response.
    """

    _encoder: tuple[Any, Any] | None = None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text; bytes in UTF-8 skip the encoding sniffing."""
        if kwargs:
            return json.loads(s, **kwargs)
        if s.__class__ is bytes and s[:1] in _OPENERS and s[1:2] != b"\x00":
            # An object or array in UTF-8 with nothing around it (the usual
            # body): one call to the C scanner. Anything else takes json's path.
            text = s.decode("utf-8", "surrogatepass")
            try:
                obj, end = _SCAN(text, 0)
            except (StopIteration, RecursionError):
                pass
            else:
                if end == len(text):
                    return obj
            return _DECODER.decode(text)
        if not isinstance(s, str):
            head = bytes(s[:4])
            if b"\x00" in head or head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:3] == b"\xef\xbb\xbf":
                return json.loads(s)  # UTF-16/32 or a BOM: let json detect it
            s = s.decode("utf-8", "surrogatepass")
        return _DECODER.decode(s)

    def _dumps_compact(self, obj: Any) -> str:
        key = (self.ensure_ascii, self.sort_keys, self.default)
        cached = self._encoder
        if cached is None or cached[0] != key:
            if c_make_encoder is None:  # no C accelerator
                return json.dumps(obj, default=self.default, ensure_ascii=self.ensure_ascii,
                                  sort_keys=self.sort_keys, separators=(",", ":"))
            strings = encode_basestring_ascii if self.ensure_ascii else encode_basestring
            # No markers: one encoder can serve several threads; a cycle
            # surfaces as RecursionError, reported below as ValueError.
            encoder = c_make_encoder(None, self.default, strings, None, ":", ",", self.sort_keys, False, True)
            cached = self._encoder = (key, encoder)
        try:
            return "".join(cached[1](obj, 0))
        except RecursionError:
            raise ValueError("Circular reference detected") from None

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """Make a JSON response of the arguments, as ``jsonify`` does."""
        if len(args) == 1 and not kwargs:
            obj = args[0]
        else:
            obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        if compact is False or (compact is None and self._app.config["DEBUG"]):
            body = json.dumps(
                obj,
                default=self.default,
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=2,  # json's own separators with an indent leave no trailing spaces
            )
        else:
            body = self._dumps_compact(obj)
        return self._app.response_class._from_bytes((body + "\n").encode(), self.mimetype)
