"""Quart's public classes, as an app or an extension uses them: every public
method and attribute Quart defines on them is on the Quaver class of the same
name, and a method that is ``async def`` in Quart is a coroutine function in
Quaver (so a Quart app's override, or its ``await``, works unchanged).

Quart's side is read from its source in a subprocess (``quart`` is never
imported into this process), as in test_public_names.py: the names a class
body defines (methods, properties, class attributes), the attributes its
``__init__`` sets on ``self``, and those of its bases that Quart defines
itself. What Quart inherits from Flask or Werkzeug is not compared; Quaver
may provide a name by inheriting it from the same place, and that counts.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_public_names import QUART_RELEASE

#: Quart's classes compared: (Quart module, class) -> Quaver module. (Quart's
#: DefaultJSONProvider is Flask's, re-exported: test_public_names checks the name.)
COMPARED = {
    ("quart.app", "Quart"): "quaver.app",
    ("quart.blueprints", "Blueprint"): "quaver.blueprints",
    ("quart.wrappers.base", "BaseRequestWebsocket"): "quaver.wrappers.base",
    ("quart.wrappers.request", "Request"): "quaver.wrappers.request",
    ("quart.wrappers.request", "Body"): "quaver.wrappers.request",
    ("quart.wrappers.websocket", "Websocket"): "quaver.wrappers.websocket",
    ("quart.wrappers.response", "Response"): "quaver.wrappers.response",
    ("quart.wrappers.response", "ResponseBody"): "quaver.wrappers.response",
    ("quart.wrappers.response", "DataBody"): "quaver.wrappers.response",
    ("quart.wrappers.response", "IterableBody"): "quaver.wrappers.response",
    ("quart.wrappers.response", "FileBody"): "quaver.wrappers.response",
    ("quart.wrappers.response", "IOBody"): "quaver.wrappers.response",
    ("quart.testing.client", "QuartClient"): "quaver.testing.client",
    ("quart.testing.app", "TestApp"): "quaver.testing.app",
    ("quart.testing.connections", "TestHTTPConnection"): "quaver.testing.connections",
    ("quart.testing.connections", "TestWebsocketConnection"): "quaver.testing.connections",
    ("quart.testing", "QuartCliRunner"): "quaver.testing",
    ("quart.ctx", "AppContext"): "quaver.ctx",
    ("quart.ctx", "RequestContext"): "quaver.ctx",
    ("quart.ctx", "WebsocketContext"): "quaver.ctx",
    ("quart.sessions", "SessionInterface"): "quaver.sessions",
    ("quart.sessions", "SecureCookieSessionInterface"): "quaver.sessions",
    ("quart.views", "View"): "quaver.views",
    ("quart.views", "MethodView"): "quaver.views",
    ("quart.config", "Config"): "quaver.config",
    ("quart.cli", "ScriptInfo"): "quaver.cli",
    ("quart.cli", "AppGroup"): "quaver.cli",
    ("quart.cli", "QuartGroup"): "quaver.cli",
    ("quart.routing", "QuartMap"): "quaver.routing",
    ("quart.routing", "QuartRule"): "quaver.routing",
    ("quart.datastructures", "FileStorage"): "quaver.datastructures",
    ("quart.templating", "Environment"): "quaver.templating",
    ("quart.logging", "LocalQueueHandler"): "quaver.logging",
    ("quart.cli", "NoAppException"): "quaver.cli",
    ("quart.testing.app", "LifespanError"): "quaver.testing.app",
    ("quart.testing.connections", "HTTPDisconnectError"): "quaver.testing.connections",
    ("quart.testing.connections", "WebsocketDisconnectError"): "quaver.testing.connections",
    ("quart.testing.connections", "WebsocketResponseError"): "quaver.testing.connections",
    ("quart.utils", "MustReloadError"): "quaver.utils",
}

#: Quart's public classes not compared here, each with the reason.
NOT_COMPARED = {
    "ASGIHTTPConnection": "left out of Quaver, see test_public_names.LEFT_OUT",
    "ASGIWebsocketConnection": "left out of Quaver, see test_public_names.LEFT_OUT",
    "ASGILifespan": "left out of Quaver, see test_public_names.LEFT_OUT",
    "FormDataParser": "Quaver's form parser is its own, parsing the body as it arrives, with its own "
    "constructor; what apps and extensions use of it (Request.form_data_parser_class, "
    "make_form_data_parser, can_parse, get_parse_func, parse) is there",
    "MultiPartParser": "the multipart half of Quart's parser; Quaver's MultiPartParser is its constructor and "
    "parse() over Quaver's parser, without Quart's internal steps (fail, get_part_charset, start_file_streaming)",
    "ASGIHTTPProtocol": "a typing Protocol, describing a type rather than a class to use (see test_typing.py)",
    "ASGILifespanProtocol": "a typing Protocol",
    "ASGIWebsocketProtocol": "a typing Protocol",
    "TestHTTPConnectionProtocol": "a typing Protocol",
    "TestWebsocketConnectionProtocol": "a typing Protocol",
    "TestClientProtocol": "a typing Protocol",
    "TestAppProtocol": "a typing Protocol",
    "Event": "a typing Protocol (what app.event_class makes)",
}

#: Names Quaver leaves out on purpose, each with the reason.
LEFT_OUT = {
    ("Quart", "asgi_http_class"): "Quart's per-request connection class (quart.asgi.ASGIHTTPConnection); Quaver's "
    "ASGI adapter is plain functions, one call per request (see test_public_names.LEFT_OUT); an app "
    "wrapping the ASGI layer replaces app.asgi_app, which Quaver has",
    ("Quart", "asgi_websocket_class"): "as asgi_http_class, for websockets",
    ("Quart", "asgi_lifespan_class"): "as asgi_http_class, for the lifespan protocol",
    ("Request", "lock_class"): "the class of the lock Quart's request parses its form under; Quaver's request "
    "parses its form (from the body as it arrives) without a lock, so it has no lock class to name",
    ("FileBody", "file_manager"): "Quart's aiofiles opener, set while the file is read; Quaver reads a file in "
    "the thread pool (or hands its path to the server), without aiofiles: the file and file_path are there",
}

#: Methods Quart defines with ``async def`` that Quaver makes usable both ways, on purpose.
BOTH_WAYS = {
    ("Quart", "open_resource"): "returns an object that is awaitable and an async context manager, so "
    "`await app.open_resource(...)` and `async with await app.open_resource(...)` work as in Quart, and "
    "`with app.open_resource(...)` as in Flask",
    ("Quart", "open_instance_resource"): "as open_resource",
    ("Blueprint", "open_resource"): "as Quart.open_resource",
}

#: Quart's parameter names Quaver spells otherwise (the same argument, in the same place).
RENAMED_PARAMETERS = {
    "request_context": "ctx",
    "websocket_context": "ctx",
    "result": "rv",
    "exception_info": "exc_info",
    "instance": "obj",  # is_null_session's, as Flask spells it
    "open_resource path": "resource",
    "open_instance_resource path": "resource",
}

#: Methods whose positional parameters differ from Quart's, each with the reason.
SIGNATURE_DIFFERS: dict[tuple[str, str], str] = {}

_READ_QUART = r"""
import ast, json, sys
from importlib.util import find_spec
from pathlib import Path

spec = find_spec("quart")
if spec is None:
    sys.exit(3)
root = Path(spec.origin).parent


def has_yield(node):
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))


def kind_of(node):
    decorators = {ast.unparse(d) for d in node.decorator_list}
    is_async = isinstance(node, ast.AsyncFunctionDef)
    if "asynccontextmanager" in decorators:
        return "function"  # called plainly, for an async context manager
    if "property" in decorators or any(d.endswith(".setter") for d in decorators):
        return "awaitable property" if is_async else "property"
    if is_async:
        return "async generator" if has_yield(node) else "coroutine function"
    return "function"


def self_attributes(init):
    for node in ast.walk(init):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                yield target.attr


classes = {}
for path in sorted(root.rglob("*.py")):
    parts = path.relative_to(root.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    module = ".".join(parts)
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            continue
        names, instance, params = {}, [], {}
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.setdefault(item.name, kind_of(item))
                if "property" not in kind_of(item) and not item.name.startswith("_"):
                    params.setdefault(item.name, [a.arg for a in item.args.posonlyargs + item.args.args])
                if item.name == "__init__":
                    instance.extend(self_attributes(item))
            elif isinstance(item, ast.Assign):
                names.update((t.id, "value") for t in item.targets if isinstance(t, ast.Name))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names[item.target.id] = "value"
        for attribute in instance:
            names.setdefault(attribute, "instance")
        public = {name: kind for name, kind in names.items() if not name.startswith("_")}
        bases = [ast.unparse(b) for b in node.bases]
        classes[f"{module}:{node.name}"] = {"names": public, "bases": bases, "params": params}
json.dump(classes, sys.stdout)
"""


def _read_quart() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _READ_QUART], capture_output=True, text=True, timeout=60)
    if done.returncode == 3:
        pytest.fail(f"quart=={QUART_RELEASE} is not installed: run scripts/setup.sh (the bench extra has it)")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


_CLASSES = _read_quart()
_BY_NAME = {key.partition(":")[2]: key for key in _CLASSES}


def _quart_params(key: str) -> dict[str, list[str]]:
    """The positional parameters of a Quart class's public methods (``self`` included), bases' too."""
    params = dict(_CLASSES[key]["params"])
    for base in _CLASSES[key]["bases"]:
        if base in _BY_NAME:
            for name, names in _quart_params(_BY_NAME[base]).items():
                params.setdefault(name, names)
    return params


def _quart_names(key: str) -> dict[str, str]:
    """The public names of a Quart class, with those of its Quart-defined bases."""
    names = dict(_CLASSES[key]["names"])
    for base in _CLASSES[key]["bases"]:
        if base in _BY_NAME:  # a base Quart defines (not Flask's or Werkzeug's)
            for name, kind in _quart_names(_BY_NAME[base]).items():
                names.setdefault(name, kind)
    return names


async def _instances() -> dict[str, Any]:
    """An instance of each compared Quaver class, for the attributes Quart's ``__init__`` sets."""
    from werkzeug.datastructures import Headers

    from quaver import Blueprint, Quaver, Response
    from quaver.cli import AppGroup, QuaverGroup, ScriptInfo
    from quaver.routing import QuaverRule
    from quaver.testing import QuaverClient, QuaverCliRunner, make_test_scope
    from quaver.testing.app import TestApp
    from quaver.testing.connections import TestHTTPConnection, TestWebsocketConnection, WebsocketResponseError
    from quaver.wrappers.request import Body
    from quaver.wrappers.response import DataBody, FileBody, IOBody, IterableBody

    app = Quaver(__name__)
    request_ctx = app.test_request_context("/")
    scope = make_test_scope("websocket", "/", "GET", Headers(), b"")
    websocket = app.websocket_class(
        "/", b"", "ws", Headers(), "", "1.1", [], None, None, None, None, scope  # type: ignore[arg-type]
    )
    return {
        "Quart": app,
        "Blueprint": Blueprint("admin", __name__),
        "BaseRequestWebsocket": request_ctx.request,
        "Request": request_ctx.request,
        "Websocket": websocket,
        "Body": Body(None, None),
        "Response": Response("hello"),
        "DataBody": DataBody(b"hello"),
        "IterableBody": IterableBody([b"hello"]),
        "FileBody": FileBody(Path(__file__)),
        "IOBody": IOBody(io.BytesIO(b"hello")),
        "QuartClient": QuaverClient(app),
        "TestApp": TestApp(app),
        "TestHTTPConnection": TestHTTPConnection(app, make_test_scope("http", "/", "GET", Headers(), b"")),
        "TestWebsocketConnection": TestWebsocketConnection(app, scope),
        "QuartCliRunner": QuaverCliRunner(app),
        "AppContext": app.app_context(),
        "RequestContext": request_ctx,
        "WebsocketContext": app.websocket_context(websocket),
        "ScriptInfo": ScriptInfo(),
        "AppGroup": AppGroup("admin"),
        "QuartGroup": QuaverGroup(),
        "QuartRule": QuaverRule("/"),
        "WebsocketResponseError": WebsocketResponseError(Response("refused", 403)),
    }


def _quaver_class(quart_module: str, quart_class: str) -> type:
    module = importlib.import_module(COMPARED[(quart_module, quart_class)])
    return getattr(module, quart_class.replace("Quart", "Quaver"))


def test_the_classes_compared_are_quarts() -> None:
    for quart_module, quart_class in COMPARED:
        assert f"{quart_module}:{quart_class}" in _CLASSES


def test_every_public_class_of_quart_is_compared_or_said_why_not() -> None:
    compared = {quart_class for _, quart_class in COMPARED}
    public = {key.partition(":")[2] for key in _CLASSES if not key.partition(":")[2].startswith("_")}
    assert public - compared - set(NOT_COMPARED) == set()
    assert set(NOT_COMPARED) <= public


@pytest.mark.parametrize(("quart_module", "quart_class"), sorted(COMPARED))
async def test_quavers_class_has_quarts_methods_and_attributes(quart_module: str, quart_class: str) -> None:
    cls = _quaver_class(quart_module, quart_class)
    instance = (await _instances()).get(quart_class)
    missing = []
    for name in sorted(_quart_names(f"{quart_module}:{quart_class}")):
        if (quart_class, name) in LEFT_OUT or hasattr(cls, name):
            continue
        if instance is not None and hasattr(instance, name):  # set per instance in Quaver
            continue
        missing.append(name)
    assert missing == [], f"{cls.__qualname__} lacks {missing}"


@pytest.mark.parametrize(("quart_module", "quart_class"), sorted(COMPARED))
async def test_quavers_methods_are_async_where_quarts_are(quart_module: str, quart_class: str) -> None:
    cls = _quaver_class(quart_module, quart_class)
    instance = (await _instances()).get(quart_class)
    wrong = []
    for name, kind in sorted(_quart_names(f"{quart_module}:{quart_class}").items()):
        if (quart_class, name) in LEFT_OUT or (quart_class, name) in BOTH_WAYS:
            continue
        owner: Any = cls if hasattr(cls, name) else instance
        if owner is None or not hasattr(owner, name):
            continue  # missing: the test above says so
        value = getattr(owner, name)
        found = inspect.getattr_static(owner, name)
        if kind == "coroutine function" and not inspect.iscoroutinefunction(value):
            wrong.append(f"{name} (async def in Quart)")
        elif kind == "async generator" and not inspect.isasyncgenfunction(value):
            wrong.append(f"{name} (an async generator in Quart)")
        elif kind == "awaitable property" and (inspect.isfunction(found) or not hasattr(found, "__get__")):
            wrong.append(f"{name} (a property to await in Quart)")
        elif kind == "awaitable property" and instance is not None and not _awaitable(getattr(instance, name)):
            wrong.append(f"{name} (a property to await in Quart)")
        elif kind == "function" and (inspect.iscoroutinefunction(value) or not callable(value)):
            wrong.append(f"{name} (a plain method in Quart)")
    assert wrong == [], f"{cls.__qualname__}: {wrong}"


@pytest.mark.parametrize(("quart_module", "quart_class"), sorted(COMPARED))
def test_quavers_methods_take_quarts_positional_arguments(quart_module: str, quart_class: str) -> None:
    """A call in Quart's form, positional arguments in Quart's order, means the same to Quaver."""
    cls = _quaver_class(quart_module, quart_class)
    wrong = []
    for name, quart_params in sorted(_quart_params(f"{quart_module}:{quart_class}").items()):
        if (quart_class, name) in LEFT_OUT or (quart_class, name) in SIGNATURE_DIFFERS or not hasattr(cls, name):
            continue
        found = inspect.getattr_static(cls, name)
        function = getattr(found, "__func__", found)
        if not callable(function) or isinstance(function, type):
            continue
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            continue
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        quaver_params = [p.name for p in signature.parameters.values() if p.kind in kinds]
        takes_more = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in signature.parameters.values())
        expected = [
            {param, RENAMED_PARAMETERS.get(f"{name} {param}", RENAMED_PARAMETERS.get(param, param))}
            for param in quart_params
        ]
        given = quaver_params[: len(expected)]
        same = all(param in names for param, names in zip(given, expected, strict=False))  # given may fall short
        if not same or (len(given) < len(expected) and not takes_more):
            wrong.append(f"{name}{tuple(quart_params[1:])} is {name}{tuple(quaver_params[1:])}")
    assert wrong == [], f"{cls.__qualname__}: {wrong}"


def _awaitable(value: Any) -> bool:
    """True if ``value`` can be awaited (a coroutine is closed unawaited)."""
    if inspect.iscoroutine(value):
        value.close()
        return True
    return inspect.isawaitable(value)


def test_what_is_left_out_is_really_missing_and_quart_has_it() -> None:
    keys = {quart_class: (module, quart_class) for module, quart_class in COMPARED}
    for quart_class, name in LEFT_OUT:
        module, _ = keys[quart_class]
        assert name in _quart_names(f"{module}:{quart_class}")
        assert not hasattr(_quaver_class(module, quart_class), name)
    for quart_class, name in SIGNATURE_DIFFERS:
        module, _ = keys[quart_class]
        assert name in _quart_params(f"{module}:{quart_class}")
    for quart_class, name in BOTH_WAYS:
        module, _ = keys[quart_class]
        assert _quart_names(f"{module}:{quart_class}")[name] == "coroutine function"
