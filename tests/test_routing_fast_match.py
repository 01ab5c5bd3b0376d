"""``QuaverMap.fast_match`` against Werkzeug's matcher.

The fast matcher may decline (return None) whenever it likes, but when it
answers, the answer must be exactly what ``MapAdapter.match`` returns: the
same rule object and the same converted arguments. Werkzeug's answer is the
reference; every path that Werkzeug would redirect, refuse (404, 405) or
answer from another rule must make the fast matcher decline.

The path sweeps are deterministic: paths are derived from the rules
themselves (filled in with values each converter accepts and rejects) plus
an exhaustive set over a small alphabet, and random rule sets come from
fixed seeds, so a failure names the seed that reproduces it.
"""

from __future__ import annotations

import itertools
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, RequestRedirect, ValidationError

from quaver import Quaver
from quaver.routing import QuaverMap, QuaverRule

UUID = "12345678-1234-5678-1234-567812345678"


# -- custom converters ------------------------------------------------------
class HexConverter(BaseConverter):
    """Lower-case hex digits, converted to an int."""

    regex = "[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)

    def to_url(self, value: int) -> str:
        return f"{value:x}"


class EvenConverter(BaseConverter):
    """Digits, but odd numbers are refused by ``to_python``."""

    regex = r"\d+"
    weight = 40

    def to_python(self, value: str) -> int:
        number = int(value)
        if number % 2:
            raise ValidationError()
        return number


class ChoiceConverter(BaseConverter):
    """A regex with a plain (unnamed) group in it."""

    regex = "(a|b)+"


class TaggedConverter(BaseConverter):
    """A regex with a named group of its own."""

    regex = r"(?P<tag>[xy])\d"


class MaybeEmptyConverter(BaseConverter):
    """A segment that may be empty (the "/" in the regex would make it span segments)."""

    regex = "[^/]*"
    part_isolating = True


class TwoPartsConverter(BaseConverter):
    """A regex spanning two path segments (so not part-isolating)."""

    regex = "[^/]+/[^/]+"


class RegexConverter(BaseConverter):
    """The classic ``<re("..."):name>`` converter: the regex is an argument."""

    def __init__(self, url_map: Any, pattern: str) -> None:
        super().__init__(url_map)
        self.regex = pattern


CONVERTERS = {
    "hex": HexConverter,
    "even": EvenConverter,
    "choice": ChoiceConverter,
    "tagged": TaggedConverter,
    "maybe": MaybeEmptyConverter,
    "two": TwoPartsConverter,
    "re": RegexConverter,
}

#: Values that each converter accepts, and some that it rejects.
SAMPLES = {
    "default": ["a", "x", "42", "x-1-y"],
    "string": ["a", "ab", "42"],
    "int": ["0", "7", "42", "007", "-3", "1.5"],
    "float": ["1.5", "-2.5", "3", "0.0"],
    "uuid": [UUID, UUID.upper(), "1234"],
    "path": ["a", "a/b", "a/b/", "x/1"],
    "any": ["a", "b", "c"],
    "hex": ["ff", "10", "FF", "g"],
    "even": ["2", "3", "10"],
    "choice": ["a", "abba", "c"],
    "tagged": ["x1", "y2", "z3"],
    "maybe": ["", "a", "ab"],
    "two": ["a/b", "a"],
    "re": ["abc", "ab", "a1"],
}

_variable = re.compile(r"<(?:(?P<conv>[a-zA-Z_]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")


# -- helpers ------------------------------------------------------------------
def make_map(rules: list[dict[str, Any]], **map_options: Any) -> QuaverMap:
    """A QuaverMap with the given rules (dicts of Rule arguments)."""
    url_map = QuaverMap(**map_options)
    url_map.converters.update(CONVERTERS)
    for spec in rules:
        spec = dict(spec)
        url_map.add(QuaverRule(spec.pop("rule"), **spec))
    return url_map


def werkzeug_answer(url_map: QuaverMap, path: str, method: str, websocket: bool) -> tuple[Any, ...]:
    """What Werkzeug does with this request: a match, a redirect, or an error code."""
    adapter = url_map.bind("localhost")
    try:
        rule, args = adapter.match(path, method, return_rule=True, websocket=websocket)
    except RequestRedirect as redirect:
        return ("redirect", redirect.new_url)
    except HTTPException as error:
        return ("error", error.code)
    return ("match", rule, args)


def check(url_map: QuaverMap, path: str, method: str = "GET", websocket: bool = False) -> Any:
    """Assert the fast matcher agrees with Werkzeug (or declines); return its answer."""
    fast = url_map.fast_match(path, method, websocket)
    if fast is None:
        return None
    expected = werkzeug_answer(url_map, path, method, websocket)
    assert expected[0] == "match", (
        f"{method} {path!r} websocket={websocket}: fast matcher answered {fast[0]!r} {fast[1]!r}, "
        f"Werkzeug {expected!r}"
    )
    rule, args = fast
    assert rule is expected[1], f"{method} {path!r}: fast matcher chose {rule!r}, Werkzeug {expected[1]!r}"
    assert args == expected[2], f"{method} {path!r}: fast matcher args {args!r}, Werkzeug {expected[2]!r}"
    assert [type(value) for value in args.values()] == [type(value) for value in expected[2].values()]
    return fast


def fill(rule: str, choice: Any) -> str:
    """``rule`` with each variable replaced by a sample value for its converter."""

    def replace(match: re.Match[str]) -> str:
        converter = match.group("conv") or "default"
        if converter == "any":
            options = [item.strip().strip("'\"") for item in (match.group("args") or "").split(",")]
            return choice(options + ["zz"])
        return choice(SAMPLES[converter])

    return _variable.sub(replace, rule)


ALPHABET = ["", "a", "b", "x", "static", "42", "-3", "1.5", "x-1-y", UUID, "ff"]


def paths_for(rules: list[dict[str, Any]], seed: int = 0) -> list[str]:
    """Paths worth asking about for these rules: filled-in rules, their
    slash variants, and every path of up to three segments over ALPHABET."""
    rng = random.Random(seed)
    paths = {"/", ""}
    for spec in rules:
        for _ in range(6):
            filled = fill(spec["rule"], rng.choice)
            paths.update({filled, filled.rstrip("/") or "/", filled + "/", filled.replace("/", "//", 1)})
            paths.add("/" + filled.lstrip("/").replace("/", "//"))
    for depth in range(1, 4):
        for segments in itertools.product(ALPHABET, repeat=depth):
            paths.add("/" + "/".join(segments))
    return sorted(paths)


def sweep(url_map: QuaverMap, paths: list[str], methods: tuple[str, ...] = ("GET", "POST", "HEAD")) -> int:
    """Check every path with every method, http and websocket; return how many the fast matcher answered."""
    answered = 0
    for path in paths:
        for method in methods:
            for websocket in (False, True):
                if check(url_map, path, method, websocket) is not None:
                    answered += 1
    return answered


# -- the fast matcher is used at all --------------------------------------------
def test_fast_matcher_answers_plain_static_rules() -> None:
    url_map = make_map([{"rule": "/", "endpoint": "index"}, {"rule": "/about", "endpoint": "about"}])
    rule, args = check(url_map, "/about")
    assert (rule.endpoint, args) == ("about", {})
    rule, args = check(url_map, "/")
    assert (rule.endpoint, args) == ("index", {})


def test_fast_matcher_answers_plain_dynamic_rules_with_converted_values() -> None:
    url_map = make_map([
        {"rule": "/users/<int:user_id>", "endpoint": "user"},
        {"rule": "/posts/<slug>/comments/<uuid:comment>", "endpoint": "comment"},
    ])
    rule, args = check(url_map, "/users/42")
    assert (rule.endpoint, args) == ("user", {"user_id": 42})
    rule, args = check(url_map, f"/posts/hello/comments/{UUID}")
    assert (rule.endpoint, args) == ("comment", {"slug": "hello", "comment": uuid.UUID(UUID)})


def test_fast_matcher_picks_the_rule_for_the_method_among_same_path_rules() -> None:
    url_map = make_map([
        {"rule": "/items/<int:item>", "endpoint": "show", "methods": ["GET"]},
        {"rule": "/items/<int:item>", "endpoint": "update", "methods": ["PUT"]},
        {"rule": "/items", "endpoint": "list", "methods": ["GET"]},
        {"rule": "/items", "endpoint": "create", "methods": ["POST"]},
    ])
    assert check(url_map, "/items", "POST")[0].endpoint == "create"
    assert check(url_map, "/items", "GET")[0].endpoint == "list"
    found = check(url_map, "/items/3", "PUT")
    assert found is None or found[0].endpoint == "update"
    assert check(url_map, "/items", "DELETE") is None  # a 405 is Werkzeug's to raise


def test_fast_matcher_skips_a_rule_whose_method_does_not_fit() -> None:
    url_map = make_map([
        {"rule": "/r/<int:n>", "endpoint": "int_post", "methods": ["POST"]},
        {"rule": "/r/<s>", "endpoint": "string_get", "methods": ["GET"]},
    ])
    rule, args = check(url_map, "/r/5", "GET")
    assert (rule.endpoint, args) == ("string_get", {"s": "5"})
    rule, args = check(url_map, "/r/5", "POST")
    assert (rule.endpoint, args) == ("int_post", {"n": 5})


def test_fast_matcher_declines_what_werkzeug_refuses_or_redirects() -> None:
    url_map = make_map([
        {"rule": "/dir/", "endpoint": "dir"},
        {"rule": "/only-post", "endpoint": "post", "methods": ["POST"]},
        {"rule": "/ws", "endpoint": "ws", "websocket": True},
        {"rule": "/n/<int:n>", "endpoint": "n"},
    ])
    assert werkzeug_answer(url_map, "/dir", "GET", False)[0] == "redirect"
    assert url_map.fast_match("/dir", "GET", False) is None
    assert url_map.fast_match("/only-post", "GET", False) is None
    assert url_map.fast_match("/ws", "GET", False) is None
    assert url_map.fast_match("/n/x", "GET", False) is None
    assert url_map.fast_match("/missing", "GET", False) is None
    assert check(url_map, "/ws", "GET", True)[0].endpoint == "ws"


def test_fast_matcher_sees_rules_added_after_it_was_first_used() -> None:
    url_map = make_map([{"rule": "/a/<int:n>", "endpoint": "int"}])
    assert check(url_map, "/a/1")[0].endpoint == "int"
    url_map.add(QuaverRule("/a/1", endpoint="one"))
    assert werkzeug_answer(url_map, "/a/1", "GET", False)[1].endpoint == "one"
    check(url_map, "/a/1")
    url_map.add(QuaverRule("/a/<path:rest>", endpoint="rest"))
    check(url_map, "/a/2")


def test_fast_matcher_answers_a_repeated_static_path_afresh_each_time() -> None:
    url_map = make_map([{"rule": "/x", "endpoint": "x", "methods": ["GET"]}])
    rule, args = check(url_map, "/x")
    args["taken"] = 1  # a url_value_preprocessor may change the view's arguments
    again, fresh = check(url_map, "/x")
    assert (again, fresh) == (rule, {})
    assert url_map.fast_match("/x", "POST", False) is None  # a 405 stays Werkzeug's, hit or not
    url_map.add(QuaverRule("/x", endpoint="x_post", methods=["POST"]))
    assert check(url_map, "/x", "POST")[0].endpoint == "x_post"
    url_map.add(QuaverRule("/x", endpoint="x_default", defaults={"page": 1}))
    assert url_map.fast_match("/x", "GET", False) is None  # a rule with defaults makes Werkzeug decide


# -- hand-written rule sets, each swept over many paths -------------------------
RULE_SETS: dict[str, list[dict[str, Any]]] = {
    "static_beats_dynamic": [
        {"rule": "/users/me", "endpoint": "me"},
        {"rule": "/users/<name>", "endpoint": "by_name"},
        {"rule": "/<section>/me", "endpoint": "section_me"},
    ],
    "int_before_string_at_same_position": [
        {"rule": "/v/<int:n>", "endpoint": "int"},
        {"rule": "/v/<s>", "endpoint": "string"},
        {"rule": "/v/<float:f>", "endpoint": "float"},
    ],
    "string_registered_before_int": [
        {"rule": "/v/<s>", "endpoint": "string"},
        {"rule": "/v/<int:n>", "endpoint": "int"},
    ],
    "converter_weights_across_segments": [
        {"rule": "/<a>/<int:b>", "endpoint": "s_i"},
        {"rule": "/<int:a>/<b>", "endpoint": "i_s"},
        {"rule": "/<int:a>/<int:b>", "endpoint": "i_i"},
    ],
    "trailing_slash_strict": [
        {"rule": "/dir/", "endpoint": "dir"},
        {"rule": "/file", "endpoint": "file"},
        {"rule": "/d/<name>/", "endpoint": "named_dir"},
        {"rule": "/f/<name>", "endpoint": "named_file"},
        {"rule": "/both", "endpoint": "both_plain"},
        {"rule": "/both/", "endpoint": "both_slash"},
        {"rule": "/<name>", "endpoint": "any_name"},
    ],
    "trailing_slash_not_strict": [
        {"rule": "/dir/", "endpoint": "dir", "strict_slashes": False},
        {"rule": "/file", "endpoint": "file", "strict_slashes": False},
        {"rule": "/d/<name>/", "endpoint": "named_dir", "strict_slashes": False},
        {"rule": "/other/<int:n>", "endpoint": "other"},
    ],
    "slash_rule_beside_plain_dynamic": [
        {"rule": "/<a>", "endpoint": "plain"},
        {"rule": "/<int:a>/", "endpoint": "int_dir"},
        {"rule": "/k/<a>/", "endpoint": "k_dir", "methods": ["POST"]},
        {"rule": "/k/<int:a>", "endpoint": "k_int"},
    ],
    "defaults": [
        {"rule": "/page/", "endpoint": "page", "defaults": {"n": 1}},
        {"rule": "/page/<int:n>", "endpoint": "page"},
        {"rule": "/lang", "endpoint": "lang", "defaults": {"code": "en"}},
        {"rule": "/other/<int:n>", "endpoint": "other"},
    ],
    "redirect_to_and_alias": [
        {"rule": "/old/<int:n>", "endpoint": "old", "redirect_to": "/new/<n>"},
        {"rule": "/new/<int:n>", "endpoint": "new"},
        {"rule": "/alias/<int:n>", "endpoint": "new", "alias": True},
        {"rule": "/gone", "endpoint": "gone", "redirect_to": "/"},
        {"rule": "/", "endpoint": "index"},
    ],
    "path_converters": [
        {"rule": "/files/<path:p>", "endpoint": "files"},
        {"rule": "/files/<path:p>/edit", "endpoint": "edit"},
        {"rule": "/files/readme", "endpoint": "readme"},
        {"rule": "/dirs/<path:p>/", "endpoint": "dirs"},
        {"rule": "/x/<int:n>", "endpoint": "x"},
        {"rule": "/<path:anything>", "endpoint": "catch_all", "methods": ["POST"]},
    ],
    "custom_converters": [
        {"rule": "/h/<hex:n>", "endpoint": "hex"},
        {"rule": "/h/<s>", "endpoint": "h_string"},
        {"rule": "/e/<even:n>", "endpoint": "even"},
        {"rule": "/e/<int:n>", "endpoint": "e_int"},
        {"rule": "/w/<int:n>", "endpoint": "w_int"},
        {"rule": "/w/<even:n>", "endpoint": "w_even"},
        {"rule": "/c/<choice:c>", "endpoint": "choice"},
        {"rule": "/t/<tagged:t>", "endpoint": "tagged"},
        {"rule": "/r/<re('[a-c]{3}'):r>", "endpoint": "regex"},
        {"rule": "/g/<re('(ab|a1)'):r>", "endpoint": "regex_group"},
        {"rule": "/two/<two:t>", "endpoint": "two"},
    ],
    "may_be_empty_segments": [
        {"rule": "/<maybe:first>/<second>", "endpoint": "first_empty"},
        {"rule": "/m/<maybe:m>", "endpoint": "m"},
        {"rule": "/m/<maybe:m>/end", "endpoint": "m_end"},
        {"rule": "/", "endpoint": "index"},
    ],
    "mixed_static_dynamic_segments": [
        {"rule": "/x-<int:a>-y", "endpoint": "x_int_y"},
        {"rule": "/x-<a>-y", "endpoint": "x_str_y"},
        {"rule": "/p/<int:a>.<int:b>", "endpoint": "dotted"},
        {"rule": "/p/<name>.json", "endpoint": "json"},
        {"rule": "/p/<name>", "endpoint": "plain"},
        {"rule": "/q/v<int:version>", "endpoint": "versioned"},
        {"rule": "/q/<any(v1,v2):version>", "endpoint": "any_version"},
    ],
    "websocket_rules": [
        {"rule": "/ws", "endpoint": "ws", "websocket": True},
        {"rule": "/ws", "endpoint": "http"},
        {"rule": "/live/<int:n>", "endpoint": "live", "websocket": True},
        {"rule": "/live/<name>", "endpoint": "live_http"},
        {"rule": "/only-ws/<x>", "endpoint": "only_ws", "websocket": True},
    ],
    "methods": [
        {"rule": "/r", "endpoint": "get", "methods": ["GET"]},
        {"rule": "/r", "endpoint": "post", "methods": ["POST"]},
        {"rule": "/r/<int:n>", "endpoint": "n_get", "methods": ["GET"]},
        {"rule": "/r/<int:n>", "endpoint": "n_post", "methods": ["POST"]},
        {"rule": "/r/<s>", "endpoint": "s_post", "methods": ["POST"]},
        {"rule": "/any-method/<int:n>", "endpoint": "any_method"},
        {"rule": "/dup", "endpoint": "dup_first"},
        {"rule": "/dup", "endpoint": "dup_second"},
        {"rule": "/dup/<int:n>", "endpoint": "dupn_first"},
        {"rule": "/dup/<int:n>", "endpoint": "dupn_second"},
    ],
    "all_werkzeug_converters": [
        {"rule": "/s/<string(length=2):s>", "endpoint": "len2"},
        {"rule": "/s/<string(minlength=3):s>", "endpoint": "min3"},
        {"rule": "/i/<int(min=5):n>", "endpoint": "min5"},
        {"rule": "/i/<int(signed=True):n>", "endpoint": "signed"},
        {"rule": "/i/<int(fixed_digits=3):n>", "endpoint": "fixed"},
        {"rule": "/f/<float(signed=True):f>", "endpoint": "float"},
        {"rule": "/u/<uuid:u>", "endpoint": "uuid"},
        {"rule": "/a/<any(a, b, 'c d'):v>", "endpoint": "any"},
        {"rule": "/p/<path:p>", "endpoint": "path"},
    ],
    "non_strict_rule_is_werkzeugs_fallback_before_longer_rules": [
        {"rule": "/<int:a>", "endpoint": "int_loose", "strict_slashes": False},
        {"rule": "/a", "endpoint": "a_loose", "strict_slashes": False},
        {"rule": "/<b>/<maybe:c>", "endpoint": "longer"},
    ],
    "path_converter_with_static_text": [
        {"rule": "/x<path:p>", "endpoint": "x_path"},
        {"rule": "/<a>/<b>", "endpoint": "two_segments"},
        {"rule": "/<a>", "endpoint": "one_segment"},
    ],
    "build_only": [
        {"rule": "/built", "endpoint": "built", "build_only": True},
        {"rule": "/built/<int:n>", "endpoint": "built_n", "build_only": True},
        {"rule": "/real/<int:n>", "endpoint": "real"},
    ],
    "no_merge_slashes": [
        {"rule": "/a//b", "endpoint": "double", "merge_slashes": False},
        {"rule": "//lead", "endpoint": "lead", "merge_slashes": False},
        {"rule": "/a/b", "endpoint": "single"},
        {"rule": "/n/<int:n>", "endpoint": "n"},
    ],
    "subdomain_rules": [
        {"rule": "/", "endpoint": "api_index", "subdomain": "api"},
        {"rule": "/", "endpoint": "index"},
        {"rule": "/u/<int:n>", "endpoint": "user"},
    ],
    "rule_with_host": [
        {"rule": "/h", "endpoint": "h", "host": "example.com"},
        {"rule": "/n/<int:n>", "endpoint": "n"},
    ],
}


@pytest.mark.parametrize("name", sorted(RULE_SETS))
def test_fast_matcher_agrees_with_werkzeug_on_rule_set(name: str) -> None:
    rules = RULE_SETS[name]
    sweep(make_map(rules), paths_for(rules))


@pytest.mark.parametrize("name", ["static_beats_dynamic", "trailing_slash_strict", "methods", "custom_converters"])
def test_fast_matcher_agrees_with_werkzeug_when_map_slashes_are_not_strict(name: str) -> None:
    rules = RULE_SETS[name]
    sweep(make_map(rules, strict_slashes=False), paths_for(rules))


@pytest.mark.parametrize("name", ["static_beats_dynamic", "redirect_to_and_alias", "no_merge_slashes"])
def test_fast_matcher_agrees_with_werkzeug_without_merge_slashes_or_redirect_defaults(name: str) -> None:
    rules = RULE_SETS[name]
    sweep(make_map(rules, merge_slashes=False, redirect_defaults=False), paths_for(rules))


@pytest.mark.parametrize("with_host", [False, True])
def test_fast_matcher_agrees_with_werkzeug_under_host_matching(with_host: bool) -> None:
    rules = [{"rule": "/", "endpoint": "no_host"}, {"rule": "/n/<int:n>", "endpoint": "n"}]
    if with_host:
        rules.append({"rule": "/", "endpoint": "localhost", "host": "localhost"})
    sweep(make_map(rules, host_matching=True), paths_for(rules))


def test_fast_matcher_agrees_with_werkzeug_with_a_default_subdomain() -> None:
    rules = [{"rule": "/", "endpoint": "index"}, {"rule": "/n/<int:n>", "endpoint": "n"}]
    sweep(make_map(rules, default_subdomain="www"), paths_for(rules))


def test_fast_matcher_answers_most_requests_of_a_typical_app() -> None:
    rules = [
        {"rule": "/", "endpoint": "index"},
        {"rule": "/login", "endpoint": "login", "methods": ["GET", "POST"]},
        {"rule": "/users/", "endpoint": "users"},
        {"rule": "/users/<int:user_id>", "endpoint": "user", "methods": ["GET"]},
        {"rule": "/users/<int:user_id>", "endpoint": "user_update", "methods": ["PUT"]},
        {"rule": "/users/<int:user_id>/posts/<slug>", "endpoint": "post"},
        {"rule": "/static/<path:filename>", "endpoint": "static"},
    ]
    url_map = make_map(rules)
    requests = [
        ("/", "GET"), ("/login", "POST"), ("/users/", "GET"), ("/users/7", "GET"),
        ("/users/7", "PUT"), ("/users/7/posts/hello", "GET"),
    ]
    answered = [path for path, method in requests if check(url_map, path, method) is not None]
    assert answered == [path for path, _ in requests]


# -- random rule sets -------------------------------------------------------------
_FIRST_SEGMENTS = ["a", "b", "static", "<s>", "<int:n>", "x-<int:n>-y", "v<int:n>"]
_SEGMENTS = [
    "a", "b", "static", "x-<int:n>-y", "x-<s>-y", "<s>", "<int:n>", "<float:f>", "<uuid:u>",
    "<any(a,b):v>", "<hex:h>", "<even:e>", "<choice:c>", "<maybe:m>", "<string(length=2):s>",
    "v<int:n>", "<s>.json", "<re('[ab]x'):r>",
]
_TAILS = ["", "/", "/<path:p>", "/<path:p>/"]


def random_rules(rng: random.Random) -> list[dict[str, Any]]:
    """A small random rule set; variable names are made unique per rule.

    First segments are mostly static: a rule Werkzeug must decide alone
    (a redirect, a path converter, ...) turns the fast matcher off for every
    path that starts the way it does, and for all paths if that start is dynamic.
    """
    rules = []
    for index in range(rng.randint(2, 8)):
        segments = []
        if rng.random() < 0.9:
            segments.append(rng.choices(_FIRST_SEGMENTS, weights=[4, 4, 2, 1, 1, 1, 1])[0])
            segments.extend(rng.choice(_SEGMENTS) for _ in range(rng.randint(0, 2)))
        tail = rng.choices(_TAILS, weights=[6, 3, 1, 1])[0]
        counter = itertools.count()

        def numbered(match: re.Match[str], counter: Iterator[int] = counter) -> str:
            return f"{match.group(1)}{next(counter)}>"

        text = "/" + "/".join(segments) + (tail if segments else tail.lstrip("/"))
        text = re.sub(r"(:\w+|<\w+)>", numbered, text)
        spec: dict[str, Any] = {"rule": text, "endpoint": f"e{index}"}
        roll = rng.random()
        if roll < 0.15:
            spec["methods"] = rng.choice([["POST"], ["GET"], ["GET", "PUT"]])
        elif roll < 0.2:
            spec["websocket"] = True
        elif roll < 0.25:
            spec["strict_slashes"] = False
        elif roll < 0.28:
            spec["redirect_to"] = "/"
        elif roll < 0.31:
            spec["alias"] = True
            spec["endpoint"] = "e0"
        elif roll < 0.34:
            spec["defaults"] = {"d": 1}
        rules.append(spec)
    return rules


_RANDOM_ALPHABET = ["", "a", "b", "static", "v7", "x-1-y", "42", "1.5", "ff", "abba", "ax", UUID]


@pytest.mark.parametrize("seed", range(300))
def test_fast_matcher_agrees_with_werkzeug_on_random_rule_set(seed: int) -> None:
    rng = random.Random(seed)
    rules = random_rules(rng)
    try:
        url_map = make_map(rules)
        url_map.update()
    except ValueError:
        pytest.fail(f"seed {seed} made an invalid rule set: {rules}")
    paths = set()
    for spec in rules:
        for _ in range(8):
            filled = fill(spec["rule"], rng.choice)
            paths.update({filled, filled.rstrip("/") or "/", filled + "/"})
    for _ in range(150):
        paths.add("/" + "/".join(rng.choice(_RANDOM_ALPHABET) for _ in range(rng.randint(1, 4))))
    sweep(url_map, sorted(paths), methods=("GET", "POST", "PUT"))


# -- the app answers as Flask does ---------------------------------------------------
def _view_for(endpoint: str) -> Any:
    def view(**kwargs: Any) -> str:
        return f"{endpoint} {sorted((key, repr(value)) for key, value in kwargs.items())}"

    view.__name__ = endpoint
    return view


def _build_apps(rules: list[dict[str, Any]]) -> tuple[Flask, Quaver]:
    flask_app = Flask(__name__, static_folder=None)
    quaver_app = Quaver(__name__, static_folder=None)
    for app in (flask_app, quaver_app):
        app.url_map.converters.update(CONVERTERS)
        app.config["TESTING"] = True
        for spec in rules:
            spec = dict(spec)
            endpoint = spec.pop("endpoint")
            view = None if endpoint in app.view_functions else _view_for(endpoint)
            app.add_url_rule(spec.pop("rule"), endpoint, view, **spec)
    return flask_app, quaver_app


def _flask_answer(client: Any, path: str, method: str) -> tuple[Any, ...]:
    response = client.open(path, method=method)
    return (
        response.status_code,
        response.get_data(as_text=True),
        response.headers.get("Location"),
        sorted(response.allow),
    )


async def _quaver_answer(client: Any, path: str, method: str) -> tuple[Any, ...]:
    response = await client.open(path, method=method)
    return (
        response.status_code,
        await response.get_data(as_text=True),
        response.headers.get("Location"),
        sorted(response.allow),
    )


_APP_RULE_SETS = [
    "static_beats_dynamic", "int_before_string_at_same_position", "converter_weights_across_segments",
    "trailing_slash_strict", "trailing_slash_not_strict", "slash_rule_beside_plain_dynamic", "defaults",
    "redirect_to_and_alias", "path_converters", "custom_converters", "mixed_static_dynamic_segments",
    "methods", "all_werkzeug_converters", "build_only",
]


@pytest.mark.parametrize("name", _APP_RULE_SETS)
async def test_app_answers_like_flask_on_rule_set(name: str) -> None:
    rules = RULE_SETS[name]
    flask_app, quaver_app = _build_apps(rules)
    flask_client = flask_app.test_client()
    quaver_client = quaver_app.test_client()
    rng = random.Random(name)
    paths = {"/"}
    for spec in rules:
        for _ in range(6):
            filled = fill(spec["rule"], rng.choice)
            paths.update({filled, filled.rstrip("/") or "/", filled + "/", filled.replace("/", "//")})
    # Werkzeug's test client reads a path starting with "//" as a host name.
    paths = {path for path in paths if not path.startswith("//")}
    mismatches = []
    for path in sorted(paths):
        for method in ("GET", "POST", "HEAD", "OPTIONS", "PUT"):
            expected = _flask_answer(flask_client, path, method)
            got = await _quaver_answer(quaver_client, path, method)
            if got != expected:
                mismatches.append((method, path, expected, got))
    assert mismatches == []


@pytest.mark.parametrize("seed", range(40))
async def test_app_answers_like_flask_on_random_rule_set(seed: int) -> None:
    rng = random.Random(seed)
    rules = [spec for spec in random_rules(rng) if not spec.get("websocket")]
    flask_app, quaver_app = _build_apps(rules)
    flask_client = flask_app.test_client()
    quaver_client = quaver_app.test_client()
    paths = {"/"}
    for spec in rules:
        for _ in range(5):
            filled = fill(spec["rule"], rng.choice)
            paths.update({filled, filled.rstrip("/") or "/", filled + "/"})
    paths = {path for path in paths if not path.startswith("//")}
    mismatches = []
    for path in sorted(paths):
        for method in ("GET", "POST"):
            expected = _flask_answer(flask_client, path, method)
            got = await _quaver_answer(quaver_client, path, method)
            if got != expected:
                mismatches.append((method, path, expected, got))
    assert mismatches == []
