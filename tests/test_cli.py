"""The ``quaver`` command: app discovery, .env files, run/routes/shell,
the app's and blueprints' own commands, and ``app.test_cli_runner()``."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest
import trustme
from click.testing import CliRunner
from server_process import ServerProcess

from quaver import Blueprint, Quaver, current_app, g
from quaver.cli import AppGroup, ScriptInfo, cli, with_appcontext

QUAVER_SCRIPT = str(Path(sys.executable).parent / "quaver")

HELLO = """\
from quaver import Quaver

app = Quaver("hello")

@app.route("/hello")
async def hello():
    return "hello"
"""

FACTORY = """\
from quaver import Quaver

def {name}(title="Made"):
    app = Quaver("factory")

    @app.route("/" + title.lower())
    async def made():
        return title

    return app
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory to write an app into, as the current directory; the
    modules imported from it and the environment are restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUAVER_APP", raising=False)
    saved_environ = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - saved_modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    sys.path[:] = saved_path
    os.environ.clear()
    os.environ.update(saved_environ)


def quaver(*args: str, input: str | None = None) -> click.testing.Result:
    """Run the ``quaver`` command in-process, as a user would type it."""
    return CliRunner().invoke(cli, list(args), input=input, prog_name="quaver")


# ----------------------------------------------------------------------
# --version and help
# ----------------------------------------------------------------------
def test_version_shows_python_quaver_and_werkzeug_versions() -> None:
    result = quaver("--version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Python 3.")
    assert lines[1].startswith("Quaver ")
    assert lines[2].startswith("Werkzeug ")


def test_help_lists_the_builtin_and_the_apps_commands(project: Path) -> None:
    (project / "hello.py").write_text(HELLO + "\n@app.cli.command()\ndef greet():\n    'Say hello.'\n")
    result = quaver("--app", "hello", "--help")
    assert result.exit_code == 0
    for name in ("run", "routes", "shell", "greet"):
        assert f"  {name} " in result.output
    assert "--app IMPORT" in result.output and "--env-file" in result.output and "--version" in result.output


# ----------------------------------------------------------------------
# Finding the app
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("hello", "/hello"),
        ("hello:app", "/hello"),
        ("hello.py", "/hello"),
        ("factory", "/made"),
        ("factory:create_app", "/made"),
        ("factory:create_app()", "/made"),
        ("factory:create_app('Configured')", "/configured"),
        ("factory:create_app(title='Keyword')", "/keyword"),
    ],
)
def test_app_option_finds_a_module_an_attribute_a_factory_or_a_file(project: Path, spec: str, rule: str) -> None:
    (project / "hello.py").write_text(HELLO)
    (project / "factory.py").write_text(FACTORY.format(name="create_app"))
    result = quaver("--app", spec, "routes")
    assert result.exit_code == 0, result.output
    assert rule in result.output


def test_a_factory_named_make_app_is_found(project: Path) -> None:
    (project / "maker.py").write_text(FACTORY.format(name="make_app"))
    result = quaver("--app", "maker", "routes")
    assert result.exit_code == 0, result.output
    assert "/made" in result.output


def test_an_app_under_another_name_is_found_when_it_is_the_only_one(project: Path) -> None:
    (project / "website.py").write_text(HELLO.replace("app", "site").replace("Quaver(\"hello\")", "Quaver('w')"))
    result = quaver("--app", "website", "routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.output


def test_a_file_path_in_a_package_is_imported_as_part_of_the_package(project: Path) -> None:
    package = project / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "prices.py").write_text("EURO = '/euro'\n")
    (package / "web.py").write_text(
        "from quaver import Quaver\nfrom .prices import EURO\napp = Quaver(__name__)\n"
        "@app.route(EURO)\nasync def euro():\n    return 'ok'\n"
    )
    result = quaver("--app", str(package / "web.py"), "routes")
    assert result.exit_code == 0, result.output
    assert "/euro" in result.output


def test_the_quaver_app_variable_names_the_app(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "hello.py").write_text(HELLO)
    monkeypatch.setenv("QUAVER_APP", "hello:app")
    result = quaver("routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.output


def test_the_app_option_wins_over_the_quaver_app_variable(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "hello.py").write_text(HELLO)
    (project / "factory.py").write_text(FACTORY.format(name="create_app"))
    monkeypatch.setenv("QUAVER_APP", "hello")
    result = quaver("--app", "factory", "routes")
    assert "/made" in result.output and "/hello" not in result.output


def test_app_py_in_the_current_directory_is_found_without_being_named(project: Path) -> None:
    (project / "app.py").write_text(HELLO)
    result = quaver("routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.output


def test_without_an_app_the_error_says_how_to_name_one(project: Path) -> None:
    result = quaver("routes")
    assert result.exit_code == 2
    assert "Could not find a Quaver app" in result.output and "--app" in result.output


def test_a_missing_module_is_reported_by_name(project: Path) -> None:
    result = quaver("--app", "nowhere", "routes")
    assert result.exit_code == 2
    assert "Could not import 'nowhere'." in result.output


def test_an_import_error_inside_the_module_is_shown_with_its_traceback(project: Path) -> None:
    (project / "broken.py").write_text("import not_installed_anywhere\n")
    result = quaver("--app", "broken", "routes")
    assert result.exit_code == 2
    assert "While importing 'broken', an ImportError was raised" in result.output
    assert "No module named 'not_installed_anywhere'" in result.output


def test_a_module_without_an_app_is_reported(project: Path) -> None:
    (project / "empty.py").write_text("VALUE = 1\n")
    result = quaver("--app", "empty", "routes")
    assert result.exit_code == 2
    assert "Could not find a Quaver app or factory in module 'empty'" in result.output


def test_a_missing_attribute_is_reported(project: Path) -> None:
    (project / "hello.py").write_text(HELLO)
    result = quaver("--app", "hello:nope", "routes")
    assert result.exit_code == 2
    assert "Module 'hello' has no attribute 'nope'." in result.output


def test_a_factory_given_wrong_arguments_is_reported(project: Path) -> None:
    (project / "factory.py").write_text(FACTORY.format(name="create_app"))
    result = quaver("--app", "factory:create_app(1, 2, 3)", "routes")
    assert result.exit_code == 2
    assert "Could not call the factory 'create_app'" in result.output


# ----------------------------------------------------------------------
# .env and .quaverenv
# ----------------------------------------------------------------------
ENV_APP = """\
import os
from quaver import Quaver

app = Quaver("envapp")

@app.cli.command()
def where():
    print("COLOUR=" + os.environ.get("COLOUR", "unset"))
"""


def test_dotenv_files_set_quaver_app_and_variables(project: Path) -> None:
    (project / "envapp.py").write_text(ENV_APP)
    (project / ".quaverenv").write_text("QUAVER_APP=envapp\nCOLOUR=from-quaverenv\n")
    result = quaver("where")
    assert result.exit_code == 0, result.output
    assert "COLOUR=from-quaverenv" in result.output


def test_dotenv_wins_over_quaverenv(project: Path) -> None:
    (project / "envapp.py").write_text(ENV_APP)
    (project / ".quaverenv").write_text("QUAVER_APP=envapp\nCOLOUR=from-quaverenv\n")
    (project / ".env").write_text("COLOUR=from-env\n")
    result = quaver("where")
    assert "COLOUR=from-env" in result.output


def test_a_variable_already_set_wins_over_dotenv_files(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "envapp.py").write_text(ENV_APP)
    (project / ".env").write_text("QUAVER_APP=envapp\nCOLOUR=from-env\n")
    monkeypatch.setenv("COLOUR", "from-shell")
    result = quaver("where")
    assert "COLOUR=from-shell" in result.output


def test_env_file_option_wins_over_dotenv_files(project: Path) -> None:
    (project / "envapp.py").write_text(ENV_APP)
    (project / ".env").write_text("COLOUR=from-env\n")
    (project / "special.env").write_text("COLOUR=from-option\n")
    result = quaver("--env-file", "special.env", "--app", "envapp", "where")
    assert "COLOUR=from-option" in result.output


def test_without_python_dotenv_a_tip_is_shown_and_files_are_ignored(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "envapp.py").write_text(ENV_APP)
    (project / ".env").write_text("COLOUR=from-env\n")
    monkeypatch.setitem(sys.modules, "dotenv", None)  # as if not installed
    result = quaver("--app", "envapp", "where")
    assert result.exit_code == 0, result.output
    assert 'Do "pip install python-dotenv" to use them.' in result.stderr
    assert result.stdout == "COLOUR=unset\n"


# ----------------------------------------------------------------------
# routes
# ----------------------------------------------------------------------
ROUTES_APP = """\
from quaver import Quaver

app = Quaver("routes")

@app.route("/zebra", methods=["GET", "POST"])
async def animals():
    return ""

@app.route("/about")
async def zabout():
    return ""

@app.websocket("/ws")
async def live():
    pass
"""


def test_routes_shows_a_table_sorted_by_endpoint(project: Path) -> None:
    (project / "routes_app.py").write_text(ROUTES_APP)
    result = quaver("--app", "routes_app", "routes")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert [line.split()[0] for line in lines[2:]] == ["animals", "live", "static", "zabout"]
    assert "GET, POST  /zebra" in result.output
    assert "WEBSOCKET" in result.output and "HEAD" not in result.output


def test_routes_sorted_by_rule_and_with_all_methods(project: Path) -> None:
    (project / "routes_app.py").write_text(ROUTES_APP)
    result = quaver("--app", "routes_app", "routes", "--sort", "rule", "--all-methods")
    rules = [line.split()[-1] for line in result.output.splitlines()[2:]]
    assert rules == sorted(rules)
    assert "GET, HEAD, OPTIONS, POST" in result.output


def test_routes_of_an_app_without_routes(project: Path) -> None:
    (project / "bare.py").write_text("from quaver import Quaver\napp = Quaver('bare', static_folder=None)\n")
    result = quaver("--app", "bare", "routes")
    assert result.output == "No routes were registered.\n"


# ----------------------------------------------------------------------
# The app's own commands
# ----------------------------------------------------------------------
COMMANDS_APP = """\
import asyncio
import click
from quaver import Blueprint, Quaver, current_app, g

app = Quaver("commands")
app.config["GREETING"] = "Bonjour"

@app.teardown_appcontext
async def closing(exc):
    print("teardown ran")

@app.cli.command()
@click.argument("name")
def greet(name):
    g.who = name
    click.echo(current_app.config["GREETING"] + " " + g.who)

@app.cli.command("count")
@click.option("--to", type=int, default=3)
async def count(to):
    for number in range(1, to + 1):
        await asyncio.sleep(0)
        click.echo(number)
    click.echo(current_app.name)

@app.cli.command(with_appcontext=False)
async def outside():
    from quaver import has_app_context
    click.echo(f"app context: {has_app_context()}")

@app.cli.command()
def nested():
    async def inner():
        return current_app.name
    click.echo("asyncio.run in a command: " + asyncio.run(inner()))

@app.cli.command()
def debug():
    click.echo(f"debug={current_app.debug}")

users = Blueprint("users", __name__)

@users.cli.command("add")
@click.argument("name")
def add_user(name):
    click.echo(f"added {name} to {current_app.name}")

merged = Blueprint("merged", __name__, cli_group=None)

@merged.cli.command()
def top():
    click.echo("top-level command from a blueprint")

renamed = Blueprint("renamed", __name__, cli_group="admin")

@renamed.cli.command()
def wipe():
    click.echo("wiped")

app.register_blueprint(users)
app.register_blueprint(merged)
app.register_blueprint(renamed)

db = click.Group("db", help="Database commands.")

@db.command()
@click.pass_context
def ping(ctx):
    click.echo("pong")

app.cli.add_command(db)
"""


@pytest.fixture
def commands_project(project: Path) -> Path:
    (project / "commands.py").write_text(COMMANDS_APP)
    return project


def test_an_app_command_runs_in_the_app_context_and_tears_it_down(commands_project: Path) -> None:
    result = quaver("--app", "commands", "greet", "Ada")
    assert result.exit_code == 0, result.output
    assert result.output == "Bonjour Ada\nteardown ran\n"


def test_an_async_command_is_run_with_asyncio_in_the_app_context(commands_project: Path) -> None:
    result = quaver("--app", "commands", "count", "--to", "2")
    assert result.exit_code == 0, result.output
    assert result.output == "1\n2\ncommands\nteardown ran\n"


def test_an_async_command_without_the_app_context_still_runs(commands_project: Path) -> None:
    result = quaver("--app", "commands", "outside")
    assert result.exit_code == 0, result.output
    assert result.output == "app context: False\n"


def test_a_sync_command_can_start_its_own_event_loop(commands_project: Path) -> None:
    result = quaver("--app", "commands", "nested")
    assert result.exit_code == 0, result.output
    assert "asyncio.run in a command: commands" in result.output


def test_debug_option_sets_the_apps_debug_mode(commands_project: Path) -> None:
    assert "debug=True" in quaver("--app", "commands", "--debug", "debug").output
    assert "debug=False" in quaver("--app", "commands", "--no-debug", "debug").output


def test_a_blueprints_commands_are_a_group_named_after_it(commands_project: Path) -> None:
    result = quaver("--app", "commands", "users", "add", "Grace")
    assert result.exit_code == 0, result.output
    assert "added Grace to commands" in result.output


def test_cli_group_none_puts_a_blueprints_commands_on_the_app(commands_project: Path) -> None:
    result = quaver("--app", "commands", "top")
    assert result.exit_code == 0, result.output
    assert "top-level command from a blueprint" in result.output


def test_cli_group_renames_a_blueprints_group(commands_project: Path) -> None:
    assert quaver("--app", "commands", "admin", "wipe").output.startswith("wiped")
    assert quaver("--app", "commands", "renamed", "wipe").exit_code == 2


def test_a_plain_click_group_added_to_app_cli_works(commands_project: Path) -> None:
    assert quaver("--app", "commands", "db", "ping").output == "pong\n"


def test_an_unknown_command_is_an_error(commands_project: Path) -> None:
    result = quaver("--app", "commands", "nope")
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


# ----------------------------------------------------------------------
# app.test_cli_runner(), AppGroup and with_appcontext in-process
# ----------------------------------------------------------------------
def test_test_cli_runner_invokes_the_apps_commands(app: Quaver) -> None:
    app.config["NAME"] = "configured"

    @app.cli.command("hello")
    @click.option("--name", default="World")
    def hello(name: str) -> None:
        click.echo(f"Hello, {name} of {current_app.config['NAME']}!")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["hello"]).output == "Hello, World of configured!\n"
    assert runner.invoke(args=["hello", "--name", "Ada"]).output == "Hello, Ada of configured!\n"


def test_test_cli_runner_runs_async_commands(app: Quaver) -> None:
    @app.cli.command()
    async def fetch() -> None:
        g.value = "from g"
        click.echo(f"{current_app.name}: {g.value}")

    result = app.test_cli_runner().invoke(args=["fetch"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{app.name}: from g\n"


def test_test_cli_runner_invokes_a_blueprints_group(app: Quaver) -> None:
    blueprint = Blueprint("reports", __name__)

    @blueprint.cli.command()
    def monthly() -> None:
        click.echo(f"monthly report of {current_app.name}")

    app.register_blueprint(blueprint)
    result = app.test_cli_runner().invoke(args=["reports", "monthly"])
    assert result.output == f"monthly report of {app.name}\n"


def test_an_app_group_nested_in_app_cli_runs_its_commands_in_the_app_context(app: Quaver) -> None:
    group = AppGroup("users")

    @group.command()
    def count() -> None:
        click.echo(f"counting in {current_app.name}")

    @group.group()
    def roles() -> None:
        """Roles of users."""

    @roles.command("list")
    async def list_roles() -> None:
        click.echo(f"roles of {current_app.name}")

    app.cli.add_command(group)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "count"]).output == f"counting in {app.name}\n"
    assert runner.invoke(args=["users", "roles", "list"]).output == f"roles of {app.name}\n"


async def test_test_cli_runner_works_from_an_async_test(app: Quaver) -> None:
    @app.cli.command()
    async def tick() -> None:
        click.echo(f"tick in {current_app.name}")

    @app.cli.command()
    def tock() -> None:
        click.echo(f"tock in {current_app.name}")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["tick"]).output == f"tick in {app.name}\n"
    assert runner.invoke(args=["tock"]).output == f"tock in {app.name}\n"


def test_with_appcontext_on_a_plain_click_command(app: Quaver) -> None:
    @click.command()
    @with_appcontext
    def plain() -> None:
        click.echo(f"plain in {current_app.name}")

    result = app.test_cli_runner().invoke(plain)
    assert result.output == f"plain in {app.name}\n"


def test_with_appcontext_loads_the_app_from_the_script_info(app: Quaver) -> None:
    @click.command()
    @with_appcontext
    def plain() -> None:
        click.echo(current_app.name)

    result = CliRunner().invoke(plain, obj=ScriptInfo(create_app=lambda: app))
    assert result.output == f"{app.name}\n"


def test_an_error_in_a_command_sets_the_exit_code_and_tears_down(app: Quaver) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    async def remember(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.cli.command()
    def fail() -> None:
        raise ValueError("boom")

    result = app.test_cli_runner().invoke(args=["fail"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)
    assert len(seen) == 1 and isinstance(seen[0], ValueError)


# ----------------------------------------------------------------------
# shell
# ----------------------------------------------------------------------
SHELL_APP = """\
from quaver import Quaver

app = Quaver("shellapp")

@app.shell_context_processor
def numbers():
    return {"answer": 42}

@app.shell_context_processor
async def more():
    return {"greeting": "hi"}
"""


def test_shell_runs_piped_code_in_the_app_context(project: Path) -> None:
    (project / "shellapp.py").write_text(SHELL_APP)
    code = "from quaver import current_app\nprint(app.name, current_app.name, answer, greeting)\ng.x = 5\nprint(g.x)\n"
    result = quaver("--app", "shellapp", "shell", input=code)
    assert result.exit_code == 0, result.output
    assert "shellapp shellapp 42 hi" in result.output
    assert "\n>>> 5\n" in result.output or ">>> 5" in result.output
    assert "App: shellapp" in result.output


def test_the_shell_starts_with_a_subclass_make_shell_context(project: Path) -> None:
    (project / "shellsub.py").write_text(
        "from quaver import Quaver\n\n"
        "class App(Quaver):\n"
        "    def make_shell_context(self):\n"
        "        return {**super().make_shell_context(), 'extra': 'from-subclass'}\n\n"
        "app = App('shellsub')\n"
    )
    result = quaver("--app", "shellsub", "shell", input="print(extra, app.name)\n")
    assert result.exit_code == 0, result.output
    assert "from-subclass shellsub" in result.output


def test_the_shell_of_the_installed_command_reads_standard_input(project: Path) -> None:
    (project / "shellapp.py").write_text(SHELL_APP)
    completed = subprocess.run(
        [QUAVER_SCRIPT, "--app", "shellapp", "shell"],
        input=(
            "from quaver import current_app\nprint('answer is', answer)\n"
            "g.token = 'abc'\nprint(g.token, current_app.name)\n"
        ),
        capture_output=True,
        text=True,
        cwd=project,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    assert "answer is 42" in completed.stdout
    assert "abc shellapp" in completed.stdout


# ----------------------------------------------------------------------
# The installed console script and `quaver run`
# ----------------------------------------------------------------------
def test_the_installed_command_lists_routes(project: Path) -> None:
    (project / "hello.py").write_text(HELLO)
    completed = subprocess.run(
        [QUAVER_SCRIPT, "--app", "hello", "routes"], capture_output=True, text=True, cwd=project, timeout=30
    )
    assert completed.returncode == 0, completed.stderr
    assert "hello     GET      /hello" in completed.stdout


def test_the_installed_command_runs_an_app_command(project: Path) -> None:
    (project / "commands.py").write_text(COMMANDS_APP)
    completed = subprocess.run(
        [QUAVER_SCRIPT, "--app", "commands", "count", "--to", "2"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "1\n2\ncommands\nteardown ran\n"


def test_the_installed_command_reports_a_missing_app(project: Path) -> None:
    completed = subprocess.run([QUAVER_SCRIPT, "routes"], capture_output=True, text=True, cwd=project, timeout=30)
    assert completed.returncode == 2
    assert "Could not find a Quaver app" in completed.stderr


def test_run_serves_on_the_given_host_and_port_until_ctrl_c(project: Path, free_port: int) -> None:
    (project / "hello.py").write_text(HELLO)
    command = [QUAVER_SCRIPT, "--app", "hello", "run", "--host", "127.0.0.1", "--port", str(free_port)]
    with ServerProcess(command, cwd=project) as server:
        response = server.wait_until_serving(f"http://127.0.0.1:{free_port}/hello")
        assert response.text == "hello"
        code = server.stop(signal.SIGINT)
    assert code == 0, server.stderr
    assert f" * Running on http://127.0.0.1:{free_port}" in server.stdout
    assert " * Debug mode: off" in server.stdout


def test_run_debug_turns_on_debug_mode(project: Path, free_port: int) -> None:
    (project / "hello.py").write_text(
        HELLO + "\n@app.route('/debug')\nasync def is_debug():\n    return str(app.debug)\n"
    )
    command = [QUAVER_SCRIPT, "--app", "hello", "run", "--port", str(free_port), "--debug", "--no-reload"]
    with ServerProcess(command, cwd=project) as server:
        assert server.wait_until_serving(f"http://127.0.0.1:{free_port}/debug").text == "True"
        server.stop(signal.SIGINT)
    assert " * Debug mode: on" in server.stdout


def test_run_reload_restarts_when_the_app_changes(project: Path, free_port: int) -> None:
    (project / "hello.py").write_text(HELLO)
    command = [QUAVER_SCRIPT, "--app", "hello", "run", "--port", str(free_port), "--reload"]
    url = f"http://127.0.0.1:{free_port}/hello"
    with ServerProcess(command, cwd=project) as server:
        assert server.wait_until_serving(url).text == "hello"
        (project / "hello.py").write_text(HELLO.replace('return "hello"', 'return "reloaded"'))
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline:
            try:
                text = httpx.get(url, timeout=2).text
            except httpx.TransportError:
                pass
            if text == "reloaded":
                break
            time.sleep(0.1)
        assert text == "reloaded", server.stdout + server.stderr
        assert "Detected change in" in server.stdout
        code = server.stop(signal.SIGINT)
    assert code == 0, server.stderr


def test_run_with_certfile_and_keyfile_serves_https(project: Path, free_port: int) -> None:
    (project / "hello.py").write_text(HELLO)
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(project / "cert.pem"))
    issued.private_key_pem.write_to_path(str(project / "key.pem"))
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    command = [
        QUAVER_SCRIPT, "--app", "hello", "run", "--port", str(free_port),
        "--certfile", "cert.pem", "--keyfile", "key.pem",
    ]  # fmt: skip
    with ServerProcess(command, cwd=project) as server:
        response = server.wait_until_serving(f"https://127.0.0.1:{free_port}/hello", verify=trusting)
        assert response.text == "hello"
        code = server.stop(signal.SIGINT)
    assert code == 0, server.stderr
    assert f" * Running on https://127.0.0.1:{free_port}" in server.stdout


def test_run_with_a_certfile_but_no_keyfile_is_refused(project: Path) -> None:
    (project / "hello.py").write_text(HELLO)
    (project / "cert.pem").write_text("not used")
    result = quaver("--app", "hello", "run", "--certfile", "cert.pem")
    assert result.exit_code == 2
    assert "'--certfile' and '--keyfile' go together." in result.output


def test_run_help_lists_its_options() -> None:
    result = quaver("run", "--help")
    for option in ("--host", "--port", "--reload / --no-reload", "--debug / --no-debug", "--certfile", "--keyfile"):
        assert option in result.output


# ----------------------------------------------------------------------
# `quaver run` hands its settings to app.run (as Quart's does)
# ----------------------------------------------------------------------
@pytest.fixture
def run_calls(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The keyword arguments of each app.run the command makes (nothing is served)."""
    (project / "hello.py").write_text(HELLO + "app.debug = True\n")
    monkeypatch.delenv("QUAVER_DEBUG", raising=False)
    calls: list[dict] = []
    monkeypatch.setattr(Quaver, "run", lambda self, **kwargs: calls.append(kwargs))
    return calls


@pytest.mark.parametrize(
    ("args", "env", "debug"),
    [
        ((), None, False),  # the app's own debug = True in its code is not what decides
        ((), "1", True),
        ((), "false", False),
        (("--debug",), None, True),
        (("--no-debug",), "1", False),
    ],
)
def test_run_passes_host_port_debug_and_reloader_to_app_run(
    run_calls: list[dict], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], env: str | None, debug: bool
) -> None:
    if env is not None:
        monkeypatch.setenv("QUAVER_DEBUG", env)
    result = quaver("--app", "hello", "run", *args)
    assert result.exit_code == 0, result.output
    assert run_calls == [
        {"debug": debug, "host": "127.0.0.1", "port": 5000, "certfile": None, "keyfile": None, "use_reloader": debug}
    ]


def test_run_reload_option_overrides_the_debug_default(run_calls: list[dict]) -> None:
    quaver("--app", "hello", "run", "--debug", "--no-reload", "--port", "8001")
    assert run_calls[0]["use_reloader"] is False and run_calls[0]["port"] == 8001


def test_script_info_takes_the_module_import_module_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import quaver.cli

    made = Quaver("not_in_sys_modules")
    module = types.SimpleNamespace(app=made)
    monkeypatch.setattr(quaver.cli, "import_module", lambda name: module)
    assert ScriptInfo("anywhere:app").load_app() is made


def test_app_cli_invoked_on_its_own_runs_its_commands_against_that_app(tmp_path: Path) -> None:
    app = Quaver("standalone")
    other = Quaver("other")  # another app in the process changes nothing

    @app.cli.command("whoami")
    def whoami() -> None:
        click.echo(f"{current_app.name} {other.name}")

    @app.cli.command("later")
    async def later() -> None:
        click.echo(f"async in {current_app.name}")

    runner = CliRunner()
    assert runner.invoke(app.cli, ["whoami"]).output == "standalone other\n"  # as 'app.cli()' in __main__ does
    assert runner.invoke(app.cli, ["later"]).output == "async in standalone\n"


def test_a_bare_app_group_with_no_app_says_how_to_name_one() -> None:
    group = AppGroup("loose")

    @group.command("hello")
    def hello() -> None:
        click.echo("never")

    result = CliRunner().invoke(group, ["hello"])
    assert result.exit_code == 2
    assert "quaver --app NAME" in result.output and "never" not in result.output
