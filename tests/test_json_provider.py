"""The default JSON provider (orjson where it gives Flask's output) held against
Flask's own provider on a corpus of the places where orjson differs.

Everywhere: the same parsed value, or the same exception type. Byte for byte,
except the accepted differences (the README's): float spelling (orjson's
``1e-7`` for json's ``1e-07``) and a plain ``Enum``, which orjson writes as its
value where Flask raises ``TypeError``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import functools
import json
import uuid
from typing import Any

import flask
import orjson
import pytest
from markupsafe import Markup

from quaver import Quaver, jsonify, request, websocket
from quaver.json import provider as provider_module


@dataclasses.dataclass
class Point:
    y: int
    x: int
    when: datetime.date


Pair = collections.namedtuple("Pair", "second first")


class Ratio(float):
    pass


class Html:
    def __html__(self) -> str:
        return "<b>html</b>"


class Colour(str, enum.Enum):  # noqa: UP042 - the mixin as code written before StrEnum spells it
    RED = "red"


class Shade(enum.StrEnum):
    DARK = "dark"


class Level(enum.IntEnum):
    HIGH = 3


class Plain(enum.Enum):
    ONE = 1


# Values to encode: each is a place orjson differs from json, or a type Flask's provider knows.
ENCODE_CORPUS: dict[str, Any] = {
    "object_keys_unsorted": {"b": 1, "a": [1, "x", True, False], "c": {"z": 0, "y": 1}},
    "none_values": {"a": None, "b": [None]},
    "the_word_null_in_a_string": {"note": "null"},
    "nan_and_infinities": [float("nan"), float("inf"), -float("inf")],
    "nan_in_an_object": {"ratio": float("nan"), "ok": 1},
    "integers_beyond_64_bits": [2**64, -(2**63) - 1, 2**200],
    "integers_at_64_bits": [2**64 - 1, -(2**63), 2**63 - 1],
    "big_id_in_an_object": {"id": 123456789012345678901234567890},
    "non_ascii": {"é": "café ☕ 😀 \u2028\u2029 \uffff"},
    "control_characters_and_escapes": "\x00\x01\x1f\x7f\b\f\n\r\t\"\\/",
    "lone_surrogate": "\ud800 and \udfff",
    "namedtuple": Pair(1, 2),
    "namedtuples_nested": {"pairs": [Pair(1, Pair(2, 3))]},
    "tuples": (1, (2, 3), ()),
    "date": datetime.date(2024, 1, 2),
    "datetime_naive": datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
    "datetime_aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    "time_refused": datetime.time(1, 2),
    "decimal": [decimal.Decimal("1.10"), decimal.Decimal("1e-30")],
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "dataclass": Point(1, 2, datetime.date(2024, 1, 2)),
    "markup": Markup("<i>safe</i>"),
    "object_with_html": Html(),
    "int_keys": {2: "b", 10: "c", 1: "a"},
    "mixed_keys_refused_when_sorted": {1: "a", "b": 2},
    "none_bool_float_keys": {None: 1, True: 2, 1.5: 3},
    "float_subclass": Ratio(1.5),
    "float_subclass_nan": Ratio("nan"),
    "str_enum": Colour.RED,
    "strenum": Shade.DARK,
    "int_enum": Level.HIGH,
    "empty_containers": [[], {}, "", [[]], {"a": {}}],
    "nested_deeply": json.loads("[" * 300 + "]" * 300),
    "bools_and_ints": [True, 1, 0, False],
    "set_refused": {1, 2},
    "bytes_refused": b"x",
    "object_refused": object(),
    "keys_in_code_point_order": {"b": 1, "B": 2, "é": 3, "z": 4, "😀": 5, "\uffff": 6},
    "scalar_string": "just text",
    "scalar_none": None,
}
# Accepted differences: equal parsed values, different bytes.
FLOAT_CORPUS: dict[str, Any] = {
    "floats": [0.1, 1.0, 1e16, 1e-7, 123456789.123, -0.0, 5e-324, 1.7976931348623157e308],
}
SETTINGS = [
    pytest.param(ensure_ascii, sort_keys, debug, id=f"ascii={ensure_ascii}-sort={sort_keys}-debug={debug}")
    for ensure_ascii in (True, False)
    for sort_keys in (True, False)
    for debug in (False, True)
]


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as error:  # noqa: BLE001 - the exception's type is the outcome
        return "raises", TypeError if isinstance(error, TypeError) else type(error)


def _apps(ensure_ascii: bool, sort_keys: bool, debug: bool) -> tuple[flask.Flask, Quaver]:
    flask_app, quaver_app = flask.Flask(__name__), Quaver(__name__)
    flask_app.debug = debug
    quaver_app.config["DEBUG"] = debug
    for app in (flask_app, quaver_app):
        app.json.ensure_ascii = ensure_ascii  # type: ignore[attr-defined]
        app.json.sort_keys = sort_keys  # type: ignore[attr-defined]
    return flask_app, quaver_app


async def _encodings(value: Any, ensure_ascii: bool, sort_keys: bool, debug: bool) -> list[tuple[Any, Any]]:
    """(Flask's, Quaver's) outcomes of dumps(), dumps(compact separators) and response()."""
    flask_app, quaver_app = _apps(ensure_ascii, sort_keys, debug)
    pairs = []
    with flask_app.app_context():
        for call in (lambda app: app.json.dumps(value), lambda app: app.json.dumps(value, separators=(",", ":"))):
            pairs.append((_outcome(functools.partial(call, flask_app)), _outcome(functools.partial(call, quaver_app))))
        flask_response = _outcome(lambda: flask_app.json.response(value).get_data())
    quaver_response = _outcome(lambda: quaver_app.json.response(value))
    if quaver_response[0] == "ok":
        quaver_response = ("ok", await quaver_response[1].get_data())
    pairs.append((flask_response, quaver_response))
    return pairs


@pytest.mark.parametrize(("ensure_ascii", "sort_keys", "debug"), SETTINGS)
@pytest.mark.parametrize("name", sorted(ENCODE_CORPUS))
async def test_encoding_gives_flasks_bytes(name: str, ensure_ascii: bool, sort_keys: bool, debug: bool) -> None:
    for flask_outcome, quaver_outcome in await _encodings(ENCODE_CORPUS[name], ensure_ascii, sort_keys, debug):
        assert quaver_outcome == flask_outcome


@pytest.mark.parametrize(("ensure_ascii", "sort_keys", "debug"), SETTINGS)
async def test_floats_parse_back_equal_though_spelled_as_orjson_spells_them(
    ensure_ascii: bool, sort_keys: bool, debug: bool
) -> None:
    for flask_outcome, quaver_outcome in await _encodings(FLOAT_CORPUS["floats"], ensure_ascii, sort_keys, debug):
        assert quaver_outcome[0] == flask_outcome[0] == "ok"
        assert json.loads(quaver_outcome[1]) == json.loads(flask_outcome[1])
        flask_text = flask_outcome[1] if isinstance(flask_outcome[1], str) else flask_outcome[1].decode()
        quaver_text = quaver_outcome[1] if isinstance(quaver_outcome[1], str) else quaver_outcome[1].decode()
        assert "1e-07" in flask_text and "1e-7" in quaver_text  # the spelling, not the value


async def test_a_plain_enum_is_written_as_its_value_where_flask_raises() -> None:
    flask_app, quaver_app = _apps(True, True, False)
    with flask_app.app_context(), pytest.raises(TypeError):
        flask_app.json.dumps({"level": Plain.ONE})
    assert quaver_app.json.dumps({"level": Plain.ONE}) == '{"level": 1}'


async def test_a_default_hook_of_the_apps_own_sees_what_json_would_hand_it() -> None:
    flask_app, quaver_app = _apps(True, True, False)

    def default(value: Any) -> Any:
        if isinstance(value, (uuid.UUID, enum.Enum, set)):
            return f"<{type(value).__name__}>"
        return flask.json.provider._default(value)

    value = {"id": uuid.UUID(int=1), "level": Plain.ONE, "tags": {1}, "day": datetime.date(2024, 1, 2)}
    for app in (flask_app, quaver_app):
        app.json.default = default  # type: ignore[attr-defined]
    with flask_app.app_context():
        expected = flask_app.json.response(value).get_data()
        assert quaver_app.json.dumps(value) == flask_app.json.dumps(value)
    assert await quaver_app.json.response(value).get_data() == expected


def test_orjson_writes_the_everyday_documents() -> None:
    """The fallbacks are for the corpus's corners: ordinary documents go through orjson."""
    quaver_app = Quaver(__name__)
    everyday = [
        {"id": 1, "title": "Film", "year": 1999, "rating": 4.5, "tags": ["a", "b"], "ok": True},
        [Point(1, 2, datetime.date(2024, 1, 2)), uuid.UUID(int=1), decimal.Decimal("1.5"), Pair(1, 2)],
        {"name": "café"},
    ]
    for value in everyday:
        for indent in (False, True):
            assert quaver_app.json._orjson(value, indent) is not None  # type: ignore[attr-defined]


# --- reading -----------------------------------------------------------------

DECODE_CORPUS: dict[str, str | bytes] = {
    "object": b'{"a":1,"b":[1,2.5,null,true,false,"x"]}',
    "integer_beyond_64_bits": b"18446744073709551616",
    "negative_integer_beyond_64_bits": b"[-9223372036854775809]",
    "big_id": b'{"id": 123456789012345678901234567890}',
    "integers_at_64_bits": b"[18446744073709551615, 9223372036854775807, -9223372036854775808]",
    "nineteen_digits_in_a_string": b'"1234567890123456789"',
    "nan_and_infinities": b"[NaN, Infinity, -Infinity]",
    "lone_surrogate_escaped": b'"\\ud800"',
    "reversed_surrogates": b'"\\udc00\\ud800"',
    "surrogate_pair": b'"\\ud83d\\ude00"',
    "lone_surrogate_in_text": '"\ud800"',
    "surrogate_encoded_in_utf8": b'"\xed\xa0\x80"',
    "invalid_utf8": b"\xff",
    "empty": b"",
    "whitespace_only": b"  ",
    "trailing_comma": b"[1,]",
    "duplicate_keys": b'{"a":1,"a":2}',
    "utf16_with_bom": '{"a": "café"}'.encode("utf-16"),
    "utf16_le": '{"a": 1}'.encode("utf-16-le"),
    "utf8_bom_bytes": b'\xef\xbb\xbf{"a":1}',
    "bom_in_text": '\ufeff{"a":1}',
    "overflowing_float": b"[1e400]",
    "negative_zero_and_exponents": b"[-0, -0.0, 1E5, 1.0e+2, 0.1000000000000000055511151231257827]",
    "nested_past_the_limit": b"[" * 2000 + b"]" * 2000,
    "nested_below_the_limit": b"[" * 500 + b"]" * 500,
    "spaces_around": b' {"a" : 1 } ',
    "raw_nul_in_a_string": b'"a\x00"',
    "escaped_nul": b'"\\u0000"',
    "non_ascii_text": '{"é": "ü"}',
    "non_ascii_bytes": '{"é": "ü"}'.encode(),
    "trailing_garbage": b"[1] x",
    "scalar_float": b"1.5",
    "truncated_literals": b"tru",
}


def _parsed(call: Any) -> tuple[str, Any]:
    try:
        value = call()
    except RecursionError:
        return "raises", RecursionError
    except ValueError:
        return "raises", ValueError
    # json's spelling keeps NaN, types of numbers and big integers visible
    return "ok", json.dumps(value)


@pytest.mark.parametrize("name", sorted(DECODE_CORPUS))
def test_decoding_gives_flasks_value(name: str) -> None:
    text = DECODE_CORPUS[name]
    flask_app, quaver_app = flask.Flask(__name__), Quaver(__name__)
    assert _parsed(lambda: quaver_app.json.loads(text)) == _parsed(lambda: flask_app.json.loads(text))


# --- through the request path ------------------------------------------------


async def _flask_answer(body: bytes, route: Any) -> tuple[int, bytes]:
    flask_app = flask.Flask(__name__)
    flask_app.post("/")(route)
    response = flask_app.test_client().post("/", data=body, content_type="application/json")
    return response.status_code, response.get_data()


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 123456789012345678901234567890, "small": 1}',
        b'{"ratio": NaN, "top": Infinity}',
        b'{"name": "\\ud800"}',
        b'{"name": "caf\xc3\xa9 \\u00e9"}',
        b"[1,",
        b"\xff",
        b'{"a": [1, 2.5, null]}',
    ],
    ids=["big-id", "nan", "lone-surrogate", "non-ascii", "truncated", "invalid-utf8", "with-null"],
)
async def test_get_json_and_returned_value_answer_as_flask_does(body: bytes) -> None:
    def echo() -> Any:
        return flask.jsonify(flask.request.get_json())

    app = Quaver(__name__)

    @app.post("/")
    async def quaver_echo() -> Any:
        return jsonify(await request.get_json())

    @app.post("/returned")
    async def returned() -> Any:
        value = await request.get_json()
        return value if isinstance(value, (dict, list)) else jsonify(value)

    expected = await _flask_answer(body, echo)
    client = app.test_client()
    for path in ("/", "/returned"):
        response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert (response.status_code, await response.get_data()) == expected


async def test_a_big_id_comes_back_exact_from_the_test_clients_json() -> None:
    app = Quaver(__name__)

    @app.post("/")
    async def echo() -> Any:
        return await request.get_json()

    response = await app.test_client().post("/", json={"id": 2**70, "nan": float("nan")})
    assert await response.get_data() == b'{"id":1180591620717411303424,"nan":NaN}\n'
    parsed = await response.get_json()
    assert parsed["id"] == 2**70 and parsed["nan"] != parsed["nan"]


async def test_the_test_clients_responses_are_read_with_the_apps_provider() -> None:
    app = Quaver(__name__)

    @app.get("/")
    async def index() -> Any:
        return {"a": 1}

    response = await app.test_client().get("/")
    assert response.json_module is app.json


async def test_websocket_json_both_ways_as_flasks_provider_writes_it() -> None:
    app = Quaver(__name__)
    flask_json = flask.Flask(__name__).json
    value = {"id": 2**70, "é": "☕", "pair": Pair(1, 2), "b": [1, None]}

    @app.websocket("/ws")
    async def echo() -> None:
        received = await websocket.receive_json()
        await websocket.send_json(received)
        await websocket.send_json(value)

    async with app.test_client().websocket("/ws") as connection:
        await connection.send_json({"id": 2**70, "x": [1.5, "ü"]})
        assert await connection.receive() == flask_json.dumps({"id": 2**70, "x": [1.5, "ü"]})
        assert await connection.receive() == flask_json.dumps(value)


async def test_websocket_receive_json_reads_a_big_id_exact() -> None:
    app = Quaver(__name__)

    @app.websocket("/ws")
    async def echo() -> None:
        await websocket.send("[123456789012345678901234567890]")

    async with app.test_client().websocket("/ws") as connection:
        assert await connection.receive_json() == [123456789012345678901234567890]


def test_orjson_reads_ordinary_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """json is only asked about the corpus's corners."""
    quaver_app = Quaver(__name__)
    monkeypatch.setattr(quaver_app.json, "_loads_json", None)
    assert quaver_app.json.loads(b'{"message": "hello", "values": [1, 2, 3], "id": 123456789012345678}') == {
        "message": "hello",
        "values": [1, 2, 3],
        "id": 123456789012345678,
    }
    assert provider_module.orjson is orjson
