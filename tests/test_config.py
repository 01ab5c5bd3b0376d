"""``app.config``: Quart's defaults, Flask's loaders, ``QUAVER_*`` environment
variables, and the attributes that mirror config keys."""

from __future__ import annotations

import json
import os
import textwrap
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from quaver import Config, Quaver, request


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# -- defaults ---------------------------------------------------------------
def test_config_is_a_quaver_config() -> None:
    assert isinstance(Quaver(__name__).config, Config)


def test_quart_timeouts_and_limits_are_the_defaults() -> None:
    config = Quaver(__name__).config
    assert config["BODY_TIMEOUT"] == 60
    assert config["RESPONSE_TIMEOUT"] == 60
    assert config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
    assert config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] == 5


def test_flask_defaults_are_present() -> None:
    config = Quaver(__name__).config
    assert config["DEBUG"] is False
    assert config["TESTING"] is False
    assert config["SECRET_KEY"] is None
    assert config["PROPAGATE_EXCEPTIONS"] is None
    assert config["SERVER_NAME"] is None
    assert config["APPLICATION_ROOT"] == "/"
    assert config["PREFERRED_URL_SCHEME"] == "http"
    assert config["SESSION_COOKIE_NAME"] == "session"
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert config["TRAP_HTTP_EXCEPTIONS"] is False
    assert config["PROVIDE_AUTOMATIC_OPTIONS"] is True


def test_defaults_that_quart_changed_from_flask_follow_quart() -> None:
    config = Quaver(__name__).config
    assert config["SEND_FILE_MAX_AGE_DEFAULT"] == timedelta(hours=12)


def test_session_cookies_default_to_samesite_lax() -> None:
    # A safer default than Flask's and Quart's None: cross-site POSTs carry no session.
    assert Quaver(__name__).config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_each_app_has_its_own_config() -> None:
    first, second = Quaver("first"), Quaver("second")
    first.config["BODY_TIMEOUT"] = 1
    assert second.config["BODY_TIMEOUT"] == 60
    assert Quaver("third").config["BODY_TIMEOUT"] == 60


# -- attributes mirroring config keys ----------------------------------------
def test_testing_attribute_mirrors_the_config() -> None:
    app = Quaver(__name__)
    assert app.testing is False
    app.testing = True
    assert app.config["TESTING"] is True
    app.config["TESTING"] = False
    assert app.testing is False


def test_secret_key_attribute_mirrors_the_config() -> None:
    app = Quaver(__name__)
    assert app.secret_key is None
    app.secret_key = "s3cret"
    assert app.config["SECRET_KEY"] == "s3cret"
    app.config["SECRET_KEY"] = "other"
    assert app.secret_key == "other"


def test_debug_attribute_mirrors_the_config() -> None:
    app = Quaver(__name__)
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True
    app.config["DEBUG"] = False
    assert app.debug is False


def test_permanent_session_lifetime_attribute_reads_the_config() -> None:
    app = Quaver(__name__)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=1)
    assert app.permanent_session_lifetime == timedelta(hours=1)


# -- loaders ----------------------------------------------------------------
class BaseSettings:
    DATABASE = "sqlite://"
    RETRIES = 3
    lowercase_is_ignored = True


class ProductionSettings(BaseSettings):
    DATABASE = "postgresql://db"


def test_from_object_loads_uppercase_attributes_of_a_class() -> None:
    app = Quaver(__name__)
    app.config.from_object(ProductionSettings)
    assert app.config["DATABASE"] == "postgresql://db"
    assert app.config["RETRIES"] == 3  # inherited
    assert "lowercase_is_ignored" not in app.config
    assert "LOWERCASE_IS_IGNORED" not in app.config


def test_from_object_imports_a_dotted_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "my_settings.py", """
        GREETING = "hello"
        timeout = 1
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    app = Quaver(__name__)
    app.config.from_object("my_settings")
    assert app.config["GREETING"] == "hello"
    assert "timeout" not in app.config


def test_from_pyfile_runs_a_python_file(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.cfg", """
        SECRET_KEY = "from file"
        WORKERS = 2 * 4
        ignored = "lower"
    """)
    app = Quaver(__name__)
    assert app.config.from_pyfile(str(path)) is True
    assert app.config["SECRET_KEY"] == "from file"
    assert app.secret_key == "from file"
    assert app.config["WORKERS"] == 8
    assert "ignored" not in app.config


def test_from_pyfile_missing_file_raises_unless_silent(tmp_path: Path) -> None:
    app = Quaver(__name__)
    with pytest.raises(OSError, match="Unable to load configuration file"):
        app.config.from_pyfile(str(tmp_path / "absent.py"))
    assert app.config.from_pyfile(str(tmp_path / "absent.py"), silent=True) is False


def test_from_pyfile_is_relative_to_the_instance_folder_when_asked(tmp_path: Path) -> None:
    write(tmp_path / "instance.cfg", "MODE = 'instance'\n")
    app = Quaver(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    app.config.from_pyfile("instance.cfg")
    assert app.config["MODE"] == "instance"


def test_from_envvar_loads_the_file_the_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "env.cfg", "FROM_ENVVAR = True\n")
    monkeypatch.setenv("MY_APP_SETTINGS", str(path))
    app = Quaver(__name__)
    assert app.config.from_envvar("MY_APP_SETTINGS") is True
    assert app.config["FROM_ENVVAR"] is True


def test_from_envvar_unset_variable_raises_unless_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_SETTINGS", raising=False)
    app = Quaver(__name__)
    with pytest.raises(RuntimeError):
        app.config.from_envvar("NOT_SET_SETTINGS")
    assert app.config.from_envvar("NOT_SET_SETTINGS", silent=True) is False


def test_from_mapping_takes_a_mapping_and_keywords() -> None:
    app = Quaver(__name__)
    assert app.config.from_mapping({"ONE": 1, "lower": 0}, TWO=2) is True
    assert app.config["ONE"] == 1
    assert app.config["TWO"] == 2
    assert "lower" not in app.config


def test_from_file_loads_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"PAGE_SIZE": 50, "FEATURES": ["a", "b"], "skip": 1}))
    app = Quaver(__name__)
    assert app.config.from_file(str(path), load=json.load) is True
    assert app.config["PAGE_SIZE"] == 50
    assert app.config["FEATURES"] == ["a", "b"]
    assert "skip" not in app.config


def test_from_file_loads_toml(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", """
        BODY_TIMEOUT = 5
        NAME = "toml app"

        [DATABASE]
        HOST = "db.local"
        PORT = 5432
    """)
    app = Quaver(__name__)
    assert app.config.from_file(str(path), load=tomllib.load, text=False) is True
    assert app.config["BODY_TIMEOUT"] == 5
    assert app.config["NAME"] == "toml app"
    assert app.config["DATABASE"] == {"HOST": "db.local", "PORT": 5432}


def test_from_file_missing_file_raises_unless_silent(tmp_path: Path) -> None:
    app = Quaver(__name__)
    with pytest.raises(OSError):
        app.config.from_file(str(tmp_path / "absent.json"), load=json.load)
    assert app.config.from_file(str(tmp_path / "absent.json"), load=json.load, silent=True) is False


# -- environment variables ----------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("QUAVER_", "QUART_", "MYAPP_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_from_prefixed_env_reads_quaver_variables_by_default(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("QUAVER_SECRET_KEY", "env secret")
    clean_env.setenv("QUART_IGNORED", "1")
    app = Quaver(__name__)
    assert app.config.from_prefixed_env() is True
    assert app.config["SECRET_KEY"] == "env secret"
    assert "IGNORED" not in app.config
    assert "QUART_IGNORED" not in app.config


def test_from_prefixed_env_parses_values_as_json(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("QUAVER_BODY_TIMEOUT", "10")
    clean_env.setenv("QUAVER_TESTING", "true")
    clean_env.setenv("QUAVER_RATIO", "0.5")
    clean_env.setenv("QUAVER_HOSTS", '["a.com", "b.com"]')
    clean_env.setenv("QUAVER_LIMITS", '{"per_minute": 60}')
    clean_env.setenv("QUAVER_NOTHING", "null")
    clean_env.setenv("QUAVER_PLAIN", "not json")
    app = Quaver(__name__)
    app.config.from_prefixed_env()
    assert app.config["BODY_TIMEOUT"] == 10
    assert app.config["TESTING"] is True
    assert app.testing is True
    assert app.config["RATIO"] == 0.5
    assert app.config["HOSTS"] == ["a.com", "b.com"]
    assert app.config["LIMITS"] == {"per_minute": 60}
    assert app.config["NOTHING"] is None
    assert app.config["PLAIN"] == "not json"


def test_from_prefixed_env_sets_nested_keys_with_double_underscores(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("QUAVER_DATABASE__HOST", "db.local")
    clean_env.setenv("QUAVER_DATABASE__PORT", "5432")
    clean_env.setenv("QUAVER_CACHE__REDIS__DB", "2")
    app = Quaver(__name__)
    app.config["CACHE"] = {"TYPE": "redis"}
    app.config.from_prefixed_env()
    assert app.config["DATABASE"] == {"HOST": "db.local", "PORT": 5432}
    assert app.config["CACHE"] == {"TYPE": "redis", "REDIS": {"DB": 2}}


def test_from_prefixed_env_takes_another_prefix_and_loader(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MYAPP_PORT", "8000")
    clean_env.setenv("QUAVER_PORT", "1")
    app = Quaver(__name__)
    app.config.from_prefixed_env("MYAPP", loads=lambda value: f"<{value}>")
    assert app.config["PORT"] == "<8000>"


# -- namespaces ---------------------------------------------------------------
def test_get_namespace_gives_the_keys_under_a_prefix() -> None:
    app = Quaver(__name__)
    app.config.from_mapping(IMAGE_STORE_TYPE="fs", IMAGE_STORE_PATH="/var/images", OTHER=1)
    assert app.config.get_namespace("IMAGE_STORE_") == {"type": "fs", "path": "/var/images"}
    assert app.config.get_namespace("IMAGE_STORE_", lowercase=False) == {
        "TYPE": "fs",
        "PATH": "/var/images",
    }
    assert app.config.get_namespace("IMAGE_", trim_namespace=False) == {
        "image_store_type": "fs",
        "image_store_path": "/var/images",
    }


# -- config that changes behaviour -------------------------------------------
async def test_max_content_length_from_config_limits_request_bodies() -> None:
    app = Quaver(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=10)

    @app.route("/", methods=["POST"])
    async def upload() -> str:
        return str(len(await request.get_data()))

    response = await app.test_client().post("/", data=b"x" * 100)
    assert response.status_code == 413
    response = await app.test_client().post("/", data=b"x" * 5)
    assert await response.get_data(as_text=True) == "5"


async def test_send_file_max_age_default_sets_cache_control_on_static_files(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body {}")
    app = Quaver(__name__, root_path=str(tmp_path))
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(minutes=5)
    response = await app.test_client().get("/static/site.css")
    assert response.status_code == 200
    assert response.cache_control.max_age == 300
