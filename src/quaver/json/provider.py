"""The app's JSON provider: Flask's output, encoded and decoded with orjson.

orjson writes and reads what Flask's provider (the standard library's
``json``) does for the documents apps send every day, many times faster. Where
it would not give Flask's answer, the call falls back to the standard library,
so the bytes stay Flask's:

* NaN and infinities (orjson writes ``null``): any ``null`` in orjson's output;
* integers beyond 64 bits (orjson refuses them), keys that are not strings,
  strings with lone surrogates, nesting past orjson's limit, cycles, and any
  error at all: the call is made again with ``json``, which gives Flask's
  result or Flask's exception;
* reading: integers of 19 digits or more (orjson reads those beyond 64 bits
  as floats), and whatever orjson refuses (``NaN``, lone surrogates, UTF-16),
  so ``json`` decides, and a bad body is still Flask's 400;
* a ``default`` hook other than Flask's (set on the provider or a subclass):
  orjson writes UUIDs and enums itself, before a hook could see them.

``ensure_ascii`` (Flask's default) escapes orjson's UTF-8 as ``json`` does, and
the spaced separators of ``dumps()`` are made from orjson's indented output.
Accepted differences (parsed values equal, bytes not): floats are spelled as
orjson spells them (``1e-7`` for ``1e-07``), and a plain ``Enum`` is written
as its value where Flask raises ``TypeError``.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

import orjson
from flask.json.provider import DefaultJSONProvider as _FlaskDefaultJSONProvider
from flask.json.provider import JSONProvider

if TYPE_CHECKING:
    from ..app import Quaver
    from ..wrappers.response import Response

__all__ = ("DefaultJSONProvider", "JSONProvider")

_DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]  # set by its __init__
_OPENERS = (b"{", b"[")
_FLASK_DEFAULT = _FlaskDefaultJSONProvider.default

# Always through the default hook, as json does: dates become HTTP dates and
# dataclasses go through dataclasses.asdict (Flask's default).
_BASE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED = _BASE | orjson.OPT_SORT_KEYS
_INDENT = orjson.OPT_INDENT_2
# An integer orjson might read as a float (beyond 64 bits) has 19 digits or
# more: digits all made 0, then one search (a regex is ten times slower).
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19
_BREAK = re.compile(rb"\n +")
_INF = float("inf")


class _Fallback(Exception):
    """Raised inside orjson's default hook: this value is json's to write."""


def _escape_non_ascii(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler writing characters as json's ``ensure_ascii`` does."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    parts = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code < 0x10000:
            parts.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            parts.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
    return "".join(parts), error.end


codecs.register_error("quaver.json.ensure_ascii", _escape_non_ascii)


def _orjson_default(obj: Any) -> Any:
    """orjson's hook: what json writes natively but orjson does not, then Flask's default."""
    if isinstance(obj, tuple):  # namedtuples: json writes any tuple as a list
        return list(obj)
    if isinstance(obj, float):  # float subclasses; NaN and infinities are json's
        value = float(obj)
        if value != value or value in (_INF, -_INF):
            raise _Fallback
        return value
    return _FLASK_DEFAULT(obj)


def _spaced(out: bytes) -> bytes:
    """orjson's indented output with json's default separators (", " and ": ").

    In orjson's output every newline is structure (a newline in a string is
    written as ``\\n``): the indentation after each goes, then the newlines.
    """
    for _ in range(8):  # two spaces a level, one level a pass
        if b"\n " not in out:
            break
        out = out.replace(b"\n  ", b"\n")
    else:
        out = _BREAK.sub(b"\n", out)
    return out.replace(b",\n", b", ").replace(b"\n", b"")


def _to_ascii(out: bytes) -> bytes:
    """orjson's UTF-8 escaped as json escapes with ``ensure_ascii`` (non-ASCII and DEL)."""
    if not out.isascii():
        out = out.decode("utf-8").encode("ascii", "quaver.json.ensure_ascii")
    if b"\x7f" in out:  # json escapes DEL too (it is outside ' '..'~')
        out = out.replace(b"\x7f", b"\\u007f")
    return out


class DefaultJSONProvider(_FlaskDefaultJSONProvider):
    """Flask's default provider (``sort_keys``, ``ensure_ascii``, ``compact``,
    ``mimetype``, dates, UUIDs, dataclasses, ``default``), encoding with
    orjson where that gives Flask's output, answering with Quaver responses.
    """

    _app: Quaver
    _encoder: tuple[Any, Any] | None = None

    def _orjson(self, obj: Any, indent: bool) -> bytes | None:
        """orjson's encoding of ``obj`` in Flask's form, or None where json must write it."""
        if self.default is not _FLASK_DEFAULT:
            return None
        option = _SORTED if self.sort_keys else _BASE
        try:
            out = orjson.dumps(obj, default=_orjson_default, option=option | _INDENT if indent else option)
        except orjson.JSONEncodeError:
            return None
        if b"null" in out:  # None, or a NaN or infinity orjson wrote as null
            return None
        if self.ensure_ascii and (not out.isascii() or b"\x7f" in out):
            return _to_ascii(out)
        return out

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``obj`` as ``json.dumps`` would with the provider's settings."""
        if not kwargs:
            out = self._orjson(obj, True)
            if out is not None:
                return (_spaced(out) if b"\n" in out else out).decode()
        elif kwargs.keys() == {"separators"} and tuple(kwargs["separators"]) == (",", ":"):
            out = self._orjson(obj, False)
            if out is not None:
                return out.decode()
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text as ``json.loads`` does."""
        if not kwargs:
            data: Any = s
            if data.__class__ is str:
                try:
                    data = data.encode()
                except UnicodeEncodeError:  # lone surrogates: json's to read
                    data = None
            if data.__class__ is bytes and _LONG_RUN not in data.translate(_ZEROS):
                try:
                    return orjson.loads(data)
                except orjson.JSONDecodeError:
                    pass  # json decides: NaN, lone surrogates, UTF-16 are its to read or refuse
        return self._loads_json(s, **kwargs)

    def _loads_json(self, s: str | bytes, **kwargs: Any) -> Any:
        """The standard library's parse; bytes in UTF-8 skip the encoding sniffing."""
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
        """json's compact encoding, one C encoder kept per combination of settings."""
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

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Make a JSON response of the arguments, as ``jsonify`` does."""
        if len(args) == 1 and not kwargs:
            obj = args[0]
        else:
            obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        indent = compact is False or (compact is None and self._app.config["DEBUG"])
        body = self._orjson(obj, indent)
        if body is not None:
            return self._app.response_class._from_bytes(body + b"\n", self.mimetype)
        if indent:
            text = json.dumps(
                obj,
                default=self.default,
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=2,  # json's own separators with an indent leave no trailing spaces
            )
        else:
            text = self._dumps_compact(obj)
        return self._app.response_class._from_bytes((text + "\n").encode(), self.mimetype)
