"""JSON out (jsonify, dict and list returns) and in (quaver.json), with the app's provider settings."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

import pytest
from markupsafe import Markup

from quaver import Quaver, jsonify, request
from quaver import json as quaver_json
from quaver.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    y: int


# --- jsonify arguments -------------------------------------------------------


async def test_jsonify_one_argument_is_the_document(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify({"b": 1, "a": [1, 2]})

    response = await client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert await response.get_data() == b'{"a":[1,2],"b":1}\n'


async def test_jsonify_several_arguments_make_a_list(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify(1, "two", None)

    response = await client.get("/")
    assert await response.get_data() == b'[1,"two",null]\n'


async def test_jsonify_keywords_make_an_object(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify(name="q", count=3)

    response = await client.get("/")
    assert await response.get_json() == {"name": "q", "count": 3}


async def test_jsonify_without_arguments_is_null(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify()

    response = await client.get("/")
    assert await response.get_data() == b"null\n"


async def test_jsonify_of_a_string_is_a_json_string(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify("just text")

    response = await client.get("/")
    assert await response.get_data() == b'"just text"\n'


async def test_jsonify_with_args_and_kwargs_raises_type_error(app: Quaver) -> None:
    async with app.app_context():
        with pytest.raises(TypeError):
            jsonify(1, a=2)


async def test_jsonify_sets_content_length(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify([])

    response = await client.get("/")
    assert response.headers["Content-Length"] == "3"


async def test_jsonify_response_status_can_be_changed_by_a_tuple(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return jsonify(created=True), 201

    response = await client.post("/")
    assert response.status_code == 201
    assert await response.get_json() == {"created": True}


async def test_jsonify_of_unserialisable_object_raises_type_error(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify(object())

    with pytest.raises(TypeError):
        await client.get("/")


async def test_jsonify_of_circular_structure_raises_value_error(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        loop: list = []
        loop.append(loop)
        return jsonify(loop)

    with pytest.raises(ValueError):
        await client.get("/")


# --- types the default provider knows ---------------------------------------


async def test_jsonify_serialises_dates_uuids_decimals_dataclasses_and_markup(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify(
            when=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            day=datetime.date(2020, 1, 2),
            id=uuid.UUID(int=1),
            price=decimal.Decimal("1.50"),
            point=Point(3, 4),
            html=Markup("<b>bold</b>"),
        )

    response = await client.get("/")
    assert await response.get_json() == {
        "when": "Thu, 02 Jan 2020 03:04:05 GMT",
        "day": "Thu, 02 Jan 2020 00:00:00 GMT",
        "id": "00000000-0000-0000-0000-000000000001",
        "price": "1.50",
        "point": {"x": 3, "y": 4},
        "html": "<b>bold</b>",
    }


async def test_returned_dict_uses_the_provider_for_unusual_types(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"id": uuid.UUID(int=2), "items": [Point(1, 2)]}

    response = await client.get("/")
    assert await response.get_json() == {"id": "00000000-0000-0000-0000-000000000002", "items": [{"x": 1, "y": 2}]}


async def test_floats_and_nan_are_written_as_python_json_writes_them(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify([0.1, 1e100, float("nan"), float("inf"), -0.0])

    response = await client.get("/")
    assert await response.get_data() == b"[0.1,1e+100,NaN,Infinity,-0.0]\n"


# --- provider settings --------------------------------------------------------


async def test_keys_are_sorted_by_default(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"z": 1, "a": {"y": 2, "b": 3}}

    response = await client.get("/")
    assert await response.get_data() == b'{"a":{"b":3,"y":2},"z":1}\n'


async def test_sort_keys_false_keeps_insertion_order(app: Quaver, client) -> None:
    app.json.sort_keys = False

    @app.get("/")
    async def index():
        return jsonify({"z": 1, "a": 2})

    response = await client.get("/")
    assert await response.get_data() == b'{"z":1,"a":2}\n'


async def test_sort_keys_can_change_between_requests(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return {"z": 1, "a": 2}

    assert await (await client.get("/")).get_data() == b'{"a":2,"z":1}\n'
    app.json.sort_keys = False
    assert await (await client.get("/")).get_data() == b'{"z":1,"a":2}\n'
    app.json.sort_keys = True
    assert await (await client.get("/")).get_data() == b'{"a":2,"z":1}\n'


async def test_non_ascii_is_escaped_by_default(app: Quaver, client) -> None:
    @app.get("/")
    async def index():
        return jsonify("caf\u00e9 \u2603")

    response = await client.get("/")
    assert await response.get_data() == b'"caf\\u00e9 \\u2603"\n'


async def test_ensure_ascii_false_writes_utf8(app: Quaver, client) -> None:
    app.json.ensure_ascii = False

    @app.get("/")
    async def index():
        return jsonify("caf\u00e9 \u2603")

    response = await client.get("/")
    assert await response.get_data() == '"caf\u00e9 \u2603"\n'.encode()
    assert await response.get_json() == "caf\u00e9 \u2603"


async def test_debug_output_is_indented_without_trailing_spaces(app: Quaver, client) -> None:
    app.config["DEBUG"] = True

    @app.get("/")
    async def index():
        return jsonify({"b": 1, "a": [1, 2]})

    response = await client.get("/")
    assert await response.get_data() == b'{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


async def test_compact_false_indents_outside_debug(app: Quaver, client) -> None:
    app.json.compact = False

    @app.get("/")
    async def index():
        return {"k": [True]}

    response = await client.get("/")
    assert await response.get_data() == b'{\n  "k": [\n    true\n  ]\n}\n'


async def test_compact_true_stays_compact_in_debug(app: Quaver, client) -> None:
    app.config["DEBUG"] = True
    app.json.compact = True

    @app.get("/")
    async def index():
        return {"k": [1, 2]}

    response = await client.get("/")
    assert await response.get_data() == b'{"k":[1,2]}\n'


async def test_provider_mimetype_is_the_responses_content_type(app: Quaver, client) -> None:
    app.json.mimetype = "application/vnd.api+json"

    @app.get("/")
    async def index():
        return jsonify(ok=True)

    response = await client.get("/")
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert await response.get_json() == {"ok": True}


async def test_custom_provider_default_serialises_new_types(client) -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    class MoneyProvider(DefaultJSONProvider):
        @staticmethod
        def default(o):
            if isinstance(o, Money):
                return f"{o.cents / 100:.2f}"
            return DefaultJSONProvider.default(o)

    class MoneyApp(Quaver):
        json_provider_class = MoneyProvider

    app = MoneyApp(__name__)
    app.config["TESTING"] = True

    @app.get("/")
    async def index():
        return {"price": Money(1999)}

    response = await app.test_client().get("/")
    assert await response.get_json() == {"price": "19.99"}


async def test_a_plain_json_provider_subclass_can_replace_the_default(app: Quaver, client) -> None:
    import json as std_json

    from quaver.json.provider import JSONProvider

    class Uppercase(JSONProvider):
        def dumps(self, obj, **kwargs):
            return std_json.dumps(obj, **kwargs).upper()

        def loads(self, s, **kwargs):
            return std_json.loads(s, **kwargs)

    app.json = Uppercase(app)

    @app.get("/")
    async def index():
        return jsonify(word="quiet")

    response = await client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert (await response.get_data()).strip() == b'{"WORD": "QUIET"}'


# --- quaver.json functions ------------------------------------------------------


async def test_dumps_inside_an_app_context_uses_the_app_settings(app: Quaver) -> None:
    app.json.sort_keys = False
    async with app.app_context():
        assert quaver_json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'


def test_dumps_outside_an_app_serialises_dates_and_keeps_key_order() -> None:
    text = quaver_json.dumps({"b": datetime.date(2021, 3, 4), "a": uuid.UUID(int=3)})
    assert quaver_json.loads(text) == {
        "b": "Thu, 04 Mar 2021 00:00:00 GMT",
        "a": "00000000-0000-0000-0000-000000000003",
    }
    assert text.index('"b"') < text.index('"a"')


def test_loads_accepts_bytes_and_str() -> None:
    assert quaver_json.loads(b'{"a": [1]}') == {"a": [1]}
    assert quaver_json.loads('"\u00e9"') == "\u00e9"


@pytest.mark.parametrize(
    "document",
    [
        b'{"a": [1, 2.5, null, true], "b": {"c": "\\u00e9"}}',
        b"[]",
        b"[1, 2] ",
        b" [1, 2]",
        b'{"a": 1}\n',
        b'{"a": 1}x',
        b'{"a": 1}{"b": 2}',
        b"{",
        b"[1,]",
        b'{"a": NaN}',
        b"[" + b"1" * 5000 + b"]",
        '{"k": "\u00e9"}'.encode("utf-16"),
        '{"k": 1}'.encode("utf-16-le"),
        '{"k": 1}'.encode("utf-32-le"),
        b'\xef\xbb\xbf{"k": 1}',
        b'["\xff"]',
        b"42",
        b'"text"',
    ],
)
def test_the_providers_loads_answers_as_json_loads_does(app: Quaver, document: bytes) -> None:
    import json

    try:
        expected: object = json.loads(document)
    except ValueError as error:
        expected = type(error)
    try:
        got: object = app.json.loads(document)
    except ValueError as error:
        got = type(error)
    assert got == expected


async def test_deeply_nested_json_gets_400_not_500(app: Quaver, client) -> None:
    @app.post("/")
    async def index():
        return {"got": await request.get_json()}

    @app.post("/silent")
    async def silent():
        return {"got": await request.get_json(silent=True)}

    nested = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/", data=nested, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert b"nested too deeply" not in await response.get_data()
    app.debug = True
    response = await client.post("/", data=nested, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert b"nested too deeply" in await response.get_data()
    app.debug = False
    response = await client.post("/silent", data=nested, headers={"Content-Type": "application/json"})
    assert (await response.get_json()) == {"got": None}


def test_load_and_dump_use_file_objects() -> None:
    import io

    buffer = io.StringIO()
    quaver_json.dump({"k": 1}, buffer)
    buffer.seek(0)
    assert quaver_json.load(buffer) == {"k": 1}


async def test_loads_inside_an_app_context_uses_the_provider(app: Quaver) -> None:
    class FloatAsDecimal(DefaultJSONProvider):
        def loads(self, s, **kwargs):
            kwargs.setdefault("parse_float", decimal.Decimal)
            return super().loads(s, **kwargs)

    app.json = FloatAsDecimal(app)
    async with app.app_context():
        assert quaver_json.loads("1.5") == decimal.Decimal("1.5")


async def test_jsonify_outside_an_app_context_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        jsonify(1)
