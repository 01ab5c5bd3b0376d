"""quaver.as_quart: Quart code, unchanged, on Quaver.

Every test runs Python in a subprocess: the alias changes what ``import quart``
means for a whole process, and the test process must keep the real Quart
importable for the tests that compare with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

QUAVER = str(Path(sys.executable).parent / "quaver")  # the console script


def run_python(
    code: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_quart_imports_give_quavers_modules_and_names() -> None:
    result = run_python(
        """
        import sys
        import quaver.as_quart
        import quart
        import quart.testing
        from quart import Quart, request, websocket
        from quart.testing import QuartClient
        from quart.typing import ResponseReturnValue
        from quart.routing import QuartRule, QuartMap
        import quaver, quaver.testing, quaver.routing

        assert quart is quaver
        assert quart.testing is quaver.testing
        assert Quart is quaver.Quaver
        assert QuartClient is quaver.testing.QuaverClient
        assert QuartRule is quaver.routing.QuaverRule and QuartMap is quaver.routing.QuaverMap
        assert request is quaver.request
        # The module keeps its own identity: its spec is still Quaver's.
        assert quart.__spec__.name == "quaver"
        # The real Quart (installed beside Quaver) was never loaded.
        assert not [m for m in sys.modules.values() if "site-packages/quart/" in (getattr(m, "__file__", "") or "")]
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_every_quart_submodule_resolves_to_quavers() -> None:
    result = run_python(
        """
        import importlib
        import quaver.as_quart
        for name in ("app", "asgi", "blueprints", "cli", "config", "ctx", "datastructures", "debug",
                     "formparser", "globals", "helpers", "json", "json.provider", "logging", "routing",
                     "sessions", "signals", "templating", "testing", "testing.app", "testing.client",
                     "testing.connections", "testing.utils", "typing", "utils", "views", "wrappers",
                     "wrappers.base", "wrappers.request", "wrappers.response", "wrappers.websocket"):
            module = importlib.import_module("quart." + name)
            assert module is importlib.import_module("quaver." + name), name
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr


def test_importing_it_after_the_real_quart_names_the_modules_and_who_loaded_them(tmp_path: Path) -> None:
    (tmp_path / "myext.py").write_text("import quart\nfrom quart import Quart\n")
    result = run_python(
        """
        import myext
        try:
            import quaver.as_quart
        except ImportError as error:
            print(error)
        """,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout
    assert "already imported" in message
    assert "quart.app" in message
    assert "myext" in message
    assert "Import quaver.as_quart before anything that imports quart" in message


def test_an_unmodified_quart_app_serves_through_the_test_client(tmp_path: Path) -> None:
    (tmp_path / "films.py").write_text(
        textwrap.dedent(
            """
            from quart import Quart, jsonify, request, websocket
            from quart.typing import ResponseReturnValue

            app = Quart(__name__)

            @app.post("/films/")
            async def create() -> ResponseReturnValue:
                data = await request.get_json()
                return jsonify(title=data["title"]), 201

            @app.websocket("/echo")
            async def echo() -> None:
                await websocket.send(await websocket.receive())
            """
        )
    )
    result = run_python(
        """
        import asyncio
        import quaver.as_quart
        from films import app

        async def main():
            client = app.test_client()
            response = await client.post("/films/", json={"title": "Metropolis"})
            print(response.status_code, await response.get_json())
            async with client.websocket("/echo") as ws:
                await ws.send("hi")
                print(await ws.receive())

        asyncio.run(main())
        """,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["201 {'title': 'Metropolis'}", "hi"]


def test_from_prefixed_env_reads_quart_variables_under_the_alias() -> None:
    code = """
        {imports}
        from quaver import Quaver
        app = Quaver(__name__)
        app.config.from_prefixed_env()
        print(app.config.get("LIMIT"))
        """
    env = {"QUART_LIMIT": "7", "QUAVER_LIMIT": "9"}
    aliased = run_python(code.format(imports="import quaver.as_quart"), env=env)
    plain = run_python(code.format(imports=""), env=env)
    assert aliased.returncode == 0 and plain.returncode == 0, aliased.stderr + plain.stderr
    assert aliased.stdout.strip() == "7"
    assert plain.stdout.strip() == "9"


def test_pytest_plugin_runs_a_quart_projects_tests_unchanged(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from quart import Quart

            app = Quart(__name__)

            @app.get("/")
            async def index():
                return {"hello": "world"}
            """
        )
    )
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import quart
            from quart.testing import QuartClient
            from app import app

            async def test_index():
                client = app.test_client()
                assert isinstance(client, QuartClient)
                response = await client.get("/")
                assert await response.get_json() == {"hello": "world"}

            def test_it_is_quaver():
                assert quart.__name__ == "quaver"
            """
        )
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "quaver.as_quart", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_nothing_changes_unless_asked() -> None:
    result = run_python(
        """
        import sys
        import quaver
        import quaver.testing
        assert "quaver.as_quart" not in sys.modules
        assert not hasattr(quaver, "Quart")
        assert not hasattr(quaver.testing, "QuartClient")
        import quart
        assert quart.__name__ == "quart" and quart is not quaver
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_quaver_command_runs_a_quart_app_with_quart_app_variable(tmp_path: Path, how: str) -> None:
    (tmp_path / "legacy.py").write_text(
        textwrap.dedent(
            """
            import click
            from quart import Quart

            app = Quart(__name__)

            @app.cli.command("hello")
            def hello():
                click.echo(f"hello from {type(app).__module__}")
            """
        )
    )
    env = {"QUART_APP": "legacy", "PYTHONPATH": str(tmp_path)}
    args = [QUAVER]
    if how == "flag":
        args.append("--as-quart")
    else:
        env["QUAVER_AS_QUART"] = "1"
    args.append("hello")
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **env}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "hello from quaver.app"


def test_quartenv_file_is_read_under_the_alias(tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text(
        "import click\nfrom quart import Quart\napp = Quart(__name__)\n\n"
        "@app.cli.command('where')\ndef where():\n    import os\n    click.echo(os.environ['GREETING'])\n"
    )
    (tmp_path / ".quartenv").write_text("QUART_APP=legacy\nGREETING=from-quartenv\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "QUAVER_AS_QUART": "1"}
    env.pop("QUART_APP", None)
    result = subprocess.run(
        [QUAVER, "where"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "from-quartenv"


def test_quaver_run_as_quart_serves_an_unmodified_quart_app(tmp_path: Path, free_port: int) -> None:
    import time

    import httpx

    (tmp_path / "legacy.py").write_text(
        "from quart import Quart, request\n"
        "app = Quart(__name__)\n\n"
        "@app.get('/')\n"
        "async def index():\n"
        "    return {'framework': type(app).__module__, 'agent': request.headers.get('User-Agent', '')[:5]}\n"
    )
    (tmp_path / ".quartenv").write_text("QUART_APP=legacy\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("QUART_APP", None)
    server = subprocess.Popen(
        [QUAVER, "run", "--as-quart", "--port", str(free_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{free_port}/", headers={"User-Agent": "httpx"}, timeout=5)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"quaver run --as-quart did not serve:\n{output}")
                time.sleep(0.1)
        assert response.json() == {"framework": "quaver.app", "agent": "httpx"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
