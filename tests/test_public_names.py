"""Every public name of Quart's modules is in the Quaver module of the same
path (names with "Quart" in them spelt "Quaver"), of the same kind (a class
for a class, a coroutine function for a coroutine function, a plain function
for a function).

Quart's names are those of the release pinned in pyproject.toml's ``bench``
extra, read from its source files in a subprocess (``quart`` is never
imported into this process): a module's ``__all__`` where it has one, else
its top-level functions, classes and assignments (outside ``if
TYPE_CHECKING``) not starting with ``_``, and its explicit re-exports
(``from x import Name as Name``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

QUART_RELEASE = "0.22.0"  # pinned as quart==0.22.0 in the bench extra

#: Names Quaver leaves out on purpose, each with the reason.
LEFT_OUT = {
    ("quaver.asgi", "ASGIHTTPConnection"): "Quart's per-request connection class; Quaver's ASGI adapter "
    "handles a request with plain functions (handle_http), one call per request, not an object per request",
    ("quaver.asgi", "ASGIWebsocketConnection"): "Quart's per-websocket connection class; Quaver's adapter "
    "is the function handle_websocket",
    ("quaver.asgi", "ASGILifespan"): "Quart's lifespan class; Quaver's adapter is the function handle_lifespan",
}

_READ_QUART = r"""
import ast, json, sys
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

spec = find_spec("quart")  # finding a top-level package does not import it
if spec is None:
    sys.exit(3)
root = Path(spec.origin).parent


def kind_of(node):
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, ast.AsyncFunctionDef):
        own = [n for n in ast.walk(node) if isinstance(n, (ast.Yield, ast.YieldFrom))]
        return "function" if own else "coroutine function"  # an async generator is used as a function
    if isinstance(node, ast.FunctionDef):
        return "function"
    return "value"


def top_level(body, found):
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = kind_of(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = "value"
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = "value"
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.asname is not None and alias.asname == alias.name:
                    found[alias.name] = "import"
        elif isinstance(node, ast.If):
            test = node.test
            if not (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"):
                top_level(node.body, found)
                top_level(node.orelse, found)
        elif isinstance(node, ast.Try):
            top_level(node.body, found)
            for handler in node.handlers:
                top_level(handler.body, found)


modules = {}
for path in sorted(root.rglob("*.py")):
    parts = path.relative_to(root.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    top_level(tree.body, found)
    exported = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            exported = ast.literal_eval(node.value)
    if exported is None:
        names = {name: kind for name, kind in found.items() if not name.startswith("_")}
    else:
        names = {name: found.get(name, "import") for name in exported}
    modules[".".join(parts)] = names
json.dump({"version": version("quart"), "modules": modules}, sys.stdout)
"""


def _quart_names() -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _READ_QUART], capture_output=True, text=True, timeout=60)
    if done.returncode == 3:
        pytest.fail(f"quart=={QUART_RELEASE} is not installed: run scripts/setup.sh (the bench extra has it)")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


_QUART = _quart_names()
_MODULES = sorted(_QUART["modules"])  # type: ignore[call-overload]


def test_the_pinned_quart_release_is_the_one_compared() -> None:
    assert _QUART["version"] == QUART_RELEASE
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert f'"quart=={QUART_RELEASE}"' in pyproject


def test_every_listed_module_of_quart_is_compared() -> None:
    expected = {
        "quart", "quart.__main__", "quart.app", "quart.asgi", "quart.blueprints", "quart.cli", "quart.config",
        "quart.ctx", "quart.datastructures", "quart.debug", "quart.formparser", "quart.globals", "quart.helpers",
        "quart.json", "quart.json.provider", "quart.json.tag", "quart.logging", "quart.routing", "quart.sessions",
        "quart.signals", "quart.templating", "quart.testing", "quart.testing.app", "quart.testing.client",
        "quart.testing.connections", "quart.testing.utils", "quart.typing", "quart.utils", "quart.views",
        "quart.wrappers", "quart.wrappers.base", "quart.wrappers.request", "quart.wrappers.response",
        "quart.wrappers.websocket",
    }  # fmt: skip
    assert expected <= set(_MODULES)


def _quaver_name(name: str) -> str:
    return name.replace("Quart", "Quaver")


@pytest.mark.parametrize("quart_module", _MODULES)
def test_quavers_module_has_quarts_public_names(quart_module: str) -> None:
    module_name = "quaver" + quart_module[len("quart") :]
    module = importlib.import_module(module_name)
    names: dict[str, str] = _QUART["modules"][quart_module]  # type: ignore[index]
    missing = []
    wrong_kind = []
    for quart_name, kind in sorted(names.items()):
        name = _quaver_name(quart_name)
        if (module_name, name) in LEFT_OUT:
            continue
        if not hasattr(module, name):
            missing.append(name)
            continue
        value = getattr(module, name)
        if kind == "class" and not inspect.isclass(value):
            wrong_kind.append(f"{name} (a class in Quart)")
        elif kind == "function" and (not callable(value) or inspect.iscoroutinefunction(value)):
            wrong_kind.append(f"{name} (a plain function in Quart)")
        elif kind == "coroutine function" and not inspect.iscoroutinefunction(value):
            wrong_kind.append(f"{name} (a coroutine function in Quart)")
    assert missing == [], f"{module_name} lacks {missing}"
    assert wrong_kind == [], f"{module_name}: {wrong_kind}"


def test_what_is_left_out_is_really_missing_and_quart_has_it() -> None:
    """The list of names left out stays true: each is one of Quart's and not in Quaver."""
    for module_name, name in LEFT_OUT:
        quart_module = "quart" + module_name[len("quaver") :]
        assert name in _QUART["modules"][quart_module]  # type: ignore[index]
        assert not hasattr(importlib.import_module(module_name), name)


def test_python_dash_m_quaver_is_the_quaver_command() -> None:
    done = subprocess.run([sys.executable, "-m", "quaver", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Quaver " in done.stdout


def test_static_folder_is_a_path_to_join_file_names_to(tmp_path: Path) -> None:
    from quaver import Blueprint, Quaver

    app = Quaver(__name__, root_path=str(tmp_path))
    assert isinstance(app.static_folder, Path)
    assert app.static_folder / "video.mp4" == tmp_path / "static" / "video.mp4"
    assert app.static_url_path == "/static"
    blueprint = Blueprint("admin", __name__, root_path=str(tmp_path), static_folder="assets/")
    assert blueprint.static_folder == tmp_path / "assets"
    assert Quaver(__name__, static_folder=None).static_folder is None


async def test_a_file_named_from_static_folder_is_sent(tmp_path: Path) -> None:
    from quaver import Quaver, send_file

    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "video.mp4").write_bytes(b"\x00\x01video")
    app = Quaver(__name__, root_path=str(tmp_path))

    @app.route("/video")
    async def video() -> object:
        assert app.static_folder is not None
        return await send_file(app.static_folder / "video.mp4", conditional=True)

    client = app.test_client()
    response = await client.get("/video")
    assert response.status_code == 200
    assert await response.get_data() == b"\x00\x01video"
    assert (await client.get("/static/video.mp4")).status_code == 200
