"""app.logger: named after the app, with Flask's default handler."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from quaver import Quaver
from quaver.logging import default_handler


@pytest.fixture
def named_app() -> Iterator[Quaver]:
    """An app with a name of its own, so its logger is fresh. Its logger is
    made while pytest's handlers are off the root logger, as in a program
    that configured no logging; they are back for the test to capture."""
    app = Quaver(f"logging_test_{uuid.uuid4().hex[:8]}")
    yield app
    logger = logging.getLogger(app.name)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)


def unconfigured_logger(app: Quaver) -> logging.Logger:
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        return app.logger
    finally:
        root.handlers[:] = saved


def test_logger_is_named_after_the_app_and_has_the_default_handler(named_app: Quaver) -> None:
    logger = unconfigured_logger(named_app)
    assert logger.name == named_app.name
    assert logger is logging.getLogger(named_app.name)
    assert default_handler in logger.handlers


def test_records_go_to_stderr_in_the_default_format(named_app: Quaver, capsys: pytest.CaptureFixture[str]) -> None:
    unconfigured_logger(named_app).warning("disk %s full", "nearly")
    err = capsys.readouterr().err
    assert "WARNING in test_logging: disk nearly full" in err
    assert err.startswith("[")


def test_debug_mode_logs_debug_records(named_app: Quaver, capsys: pytest.CaptureFixture[str]) -> None:
    named_app.debug = True
    unconfigured_logger(named_app).debug("details")
    assert "DEBUG in test_logging: details" in capsys.readouterr().err


def test_outside_debug_debug_records_are_not_shown(named_app: Quaver, capsys: pytest.CaptureFixture[str]) -> None:
    unconfigured_logger(named_app).debug("hidden")
    assert "hidden" not in capsys.readouterr().err


def test_removing_the_default_handler(named_app: Quaver, capsys: pytest.CaptureFixture[str]) -> None:
    unconfigured_logger(named_app).removeHandler(default_handler)
    named_app.logger.error("silent")
    assert "silent" not in capsys.readouterr().err


def test_configured_logging_replaces_the_default_handler(named_app: Quaver) -> None:
    handler = logging.NullHandler()
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [handler]
    try:
        assert default_handler not in named_app.logger.handlers
    finally:
        root.handlers[:] = saved


async def test_unhandled_errors_are_logged_with_method_path_and_traceback(
    named_app: Quaver, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    unconfigured_logger(named_app)
    @named_app.route("/broken", methods=["POST"])
    async def broken() -> str:
        raise ZeroDivisionError("bad maths")

    response = await named_app.test_client().post("/broken")
    assert response.status_code == 500
    records = [record for record in caplog.records if record.name == named_app.name]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].getMessage() == "Exception on /broken [POST]"
    assert records[0].exc_info is not None and records[0].exc_info[0] is ZeroDivisionError
    err = capsys.readouterr().err
    assert "ERROR in app: Exception on /broken [POST]" in err
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError: bad maths" in err


async def test_handled_errors_are_not_logged(named_app: Quaver, caplog: pytest.LogCaptureFixture) -> None:
    unconfigured_logger(named_app)
    @named_app.errorhandler(ZeroDivisionError)
    async def handle(error: Exception) -> tuple[str, int]:
        return "handled", 400

    @named_app.route("/")
    async def index() -> str:
        raise ZeroDivisionError()

    assert (await named_app.test_client().get("/")).status_code == 400
    assert [record for record in caplog.records if record.name == named_app.name] == []
