"""mypy on typed apps: ``quaver.typing`` and the typed decorators report the
errors a typed Quart app gets reported on Quart, and accept the correct forms.

Each snippet is written for Quaver and, with the names changed, for Quart
(the release pinned in the ``bench`` extra); both are checked by mypy in a
subprocess, and the errors (line and code) must be the same. The films
example passes ``mypy --strict``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

CORRECT = """
from __future__ import annotations

from quaver import Quaver, Response, jsonify, make_response, redirect, url_for, websocket
from quaver.typing import ResponseReturnValue, TestClientProtocol

app = Quaver(__name__)


@app.route("/")
async def index() -> ResponseReturnValue:
    return "hello"


@app.route("/created")
async def created() -> ResponseReturnValue:
    return {"id": 1}, 201, {"Location": "/1"}


@app.route("/response")
async def response() -> Response:
    return Response("body", status=202)


@app.route("/made")
async def made() -> ResponseReturnValue:
    made = await make_response("body", 201)
    made.headers["X-Made"] = "yes"
    return made


@app.route("/json")
async def as_json() -> Response:
    return jsonify(ok=True)


@app.route("/elsewhere")
async def elsewhere() -> ResponseReturnValue:
    return redirect(url_for("index"))


@app.websocket("/ws")
async def echo() -> None:
    await websocket.send(await websocket.receive())


@app.after_request
async def add_header(response: Response) -> Response:
    response.headers["X-Checked"] = "yes"
    return response


@app.before_serving
async def start() -> None:
    pass


@app.teardown_websocket
async def ended(error: BaseException | None) -> None:
    pass


async def use() -> None:
    client: TestClientProtocol = app.test_client()
    page = await client.get("/")
    await page.get_data()
    async with client.websocket("/ws", subprotocols=["chat"]) as connection:
        await connection.send("hi")
        await connection.receive()
    async with app.test_app() as test_app, test_app.test_client() as served:
        await served.post("/", json={"a": 1})
"""

# Each wrong snippet: its code and the errors (line, mypy code) it must get.
WRONG = {
    "view_returns_a_set": (
        """
        from quaver import Quaver
        from quaver.typing import ResponseReturnValue

        app = Quaver(__name__)


        @app.route("/")
        async def index() -> ResponseReturnValue:
            return {1, 2}
        """,
        {(9, "return-value")},
    ),
    "websocket_handler_returns_an_int": (
        """
        from quaver import Quaver

        app = Quaver(__name__)


        @app.websocket("/ws")
        async def handler() -> int:
            return 1
        """,
        {(6, "type-var")},
    ),
    "after_request_takes_no_response": (
        """
        from quaver import Quaver

        app = Quaver(__name__)


        @app.after_request
        async def after() -> None:
            pass
        """,
        {(6, "type-var")},
    ),
    "test_client_websocket_subprotocols_as_a_str": (
        """
        from quaver import Quaver
        from quaver.typing import TestClientProtocol

        app = Quaver(__name__)


        async def use() -> None:
            client: TestClientProtocol = app.test_client()
            async with client.websocket("/ws", subprotocols="chat"):
                pass
            text: str = await client.get("/")
        """,
        {(9, "arg-type"), (11, "assignment")},
    ),
}

WRONG["decorators_check_what_they_are_given"] = (
    """
    from quaver import Blueprint, Quaver

    app = Quaver(__name__)
    blueprint = Blueprint("blueprint", __name__)


    @app.route("/")
    async def index() -> set[int]:
        return {1}


    @blueprint.websocket("/ws")
    async def handler() -> int:
        return 1


    @blueprint.before_app_serving
    async def start(value: int) -> None:
        pass


    @app.while_serving
    async def lifespan() -> None:  # not a generator
        pass


    @app.errorhandler(404)
    async def not_found(error: Exception) -> set[int]:
        return {1}


    @app.teardown_websocket
    def ended() -> None:  # takes no error
        pass
    """,
    {(7, "type-var"), (12, "type-var"), (17, "type-var"), (22, "type-var"), (27, "type-var"), (32, "type-var")},
)

_ERROR = re.compile(r"^(?P<file>[\w.]+\.py):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def _as_quart(code: str) -> str:
    return code.replace("quaver", "quart").replace("Quaver", "Quart")


Findings = tuple[int, dict[str, set[tuple[int, str]]], str]


def _mypy(folder: Path, files: dict[str, str], cache: Path) -> Findings:
    """mypy's exit code, the errors per file as (line, code), and its output."""
    folder.mkdir()
    for name, code in files.items():
        (folder / name).write_text(textwrap.dedent(code).lstrip("\n"))
    done = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--show-error-codes", "--no-error-summary",
            *sorted(files),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors: dict[str, set[tuple[int, str]]] = {name: set() for name in files}
    for line in done.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors[match["file"]].add((int(match["line"]), match["code"]))
    return done.returncode, errors, done.stdout + done.stderr


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mypy's cache, shared by this module's runs (Flask's and Werkzeug's types are read once)."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> dict[str, Findings]:
    """mypy's findings on every snippet, for Quaver and for Quart (one mypy run each)."""
    base = tmp_path_factory.mktemp("typing")
    snippets = {"correct.py": CORRECT} | {f"{name}.py": code for name, (code, _) in WRONG.items()}
    results = {"quaver": _mypy(base / "quaver", snippets, cache)}
    if find_spec("quart") is not None:
        results["quart"] = _mypy(base / "quart", {name: _as_quart(code) for name, code in snippets.items()}, cache)
    return results


def test_the_correct_forms_pass(checked: dict[str, Findings]) -> None:
    code, errors, output = checked["quaver"]
    assert errors["correct.py"] == set(), output


@pytest.mark.parametrize("snippet", sorted(WRONG))
def test_the_wrong_forms_are_reported(
    snippet: str, checked: dict[str, Findings]
) -> None:
    code, errors, output = checked["quaver"]
    assert code == 1
    assert errors[f"{snippet}.py"] == WRONG[snippet][1], output


def test_correct_forms_alone_exit_with_success(tmp_path: Path, cache: Path) -> None:
    code, errors, output = _mypy(tmp_path / "alone", {"correct.py": CORRECT}, cache)
    assert code == 0, output
    assert "error" not in output


def test_quart_reports_the_same_errors(checked: dict[str, Findings]) -> None:
    """The errors asserted above are those Quart users see on the same app."""
    assert "quart" in checked, "quart is not installed: run scripts/setup.sh (the bench extra has it)"
    assert checked["quart"][1] == checked["quaver"][1], checked["quart"][2]


def test_the_films_example_passes_mypy_strict(cache: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "examples/films"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found"), done.stdout
