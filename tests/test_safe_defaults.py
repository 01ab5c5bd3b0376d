"""Safe defaults: what an app shows the world before anyone configures it.

Outside debug mode no error page (a 500 from a view, a hook or an error
handler; a 4xx) shows a traceback, an exception's message, the secret key, a
config value or a path of the source, neither in its body nor in its headers
(checked through the test client and through Hypercorn and Uvicorn); in debug
mode the traceback page does show them. The session cookie is HttpOnly,
SameSite=Lax and Path=/ by default, and Secure only when asked. Without a
secret key, reading the empty session works and writing to it is a clear
error in the log, with a plain 500 for the client, as in Flask.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

import quaver
from quaver import Quaver, abort, request, session

sys.path.insert(0, os.path.dirname(__file__))
from threaded_server import ThreadedServer  # noqa: E402

SERVERS = ["hypercorn", "uvicorn"]
SECRET_KEY = "secret-key-7f3a9c"
CONFIG_SECRET = "postgres://admin:hunter2-d41d@db.internal/prod"
MESSAGE_SECRET = "card-4111-1111-1111-1111"
NO_SECRET_KEY_MESSAGE = "The session is unavailable because no secret key was set."

#: Every path the client may ask for, with the status it must get; each one
#: fails in a different place.
BROKEN_PATHS = {
    "/view-raises": 500,
    "/before-request-raises": 500,
    "/handler-raises": 500,
    "/500-handler-raises": 500,
    "/aborts-403": 403,
    "/missing-form-key": 400,
    "/no-such-page": 404,
}


def make_app(debug: bool = False) -> Quaver:
    """An app not in testing mode (errors are answered, not raised into the
    test) whose every route fails, with secrets in reach of each failure."""
    app = Quaver("safe_defaults_app")
    app.config.update(SECRET_KEY=SECRET_KEY, DATABASE_URL=CONFIG_SECRET)
    app.debug = debug
    if debug:
        app.config["PROPAGATE_EXCEPTIONS"] = False  # the test client gets the page, as a browser would

    class PaymentError(Exception):
        pass

    class ReportError(Exception):
        pass

    @app.before_request
    async def check() -> None:
        if request.path == "/before-request-raises":
            raise PermissionError(f"hook failed for {MESSAGE_SECRET} using {app.config['DATABASE_URL']}")

    @app.errorhandler(PaymentError)
    async def payment_failed(error: PaymentError):
        raise KeyError(f"handler failed for {MESSAGE_SECRET}")

    @app.errorhandler(ReportError)
    async def report_failed(error: ReportError):
        abort(500)

    @app.errorhandler(500)
    async def server_error(error):
        if request.path == "/500-handler-raises":
            raise RuntimeError(f"500 handler failed for {MESSAGE_SECRET}")
        return "Internal Server Error", 500

    @app.get("/view-raises")
    async def view_raises() -> str:
        secret_key = app.secret_key  # a local the debug page shows, and nothing else may
        raise ValueError(f"view failed for {MESSAGE_SECRET} with {secret_key} at {app.config['DATABASE_URL']}")

    @app.get("/before-request-raises")
    async def before_request_raises() -> str:
        return "not reached"

    @app.get("/handler-raises")
    async def handler_raises() -> str:
        raise PaymentError(MESSAGE_SECRET)

    @app.get("/500-handler-raises")
    async def five_hundred_handler_raises() -> str:
        raise ReportError(MESSAGE_SECRET)

    @app.get("/aborts-403")
    async def aborts_403() -> str:
        abort(403)

    @app.post("/missing-form-key")
    async def missing_form_key() -> str:
        form = await request.form
        return form[MESSAGE_SECRET]

    return app


LEAKS = (
    SECRET_KEY,
    CONFIG_SECRET,
    "hunter2",
    MESSAGE_SECRET,
    "Traceback",
    "ValueError",
    "PermissionError",
    "KeyError",
    "RuntimeError",
    __file__,
    os.path.basename(__file__),
    os.path.dirname(quaver.__file__),
)


def assert_nothing_leaks(path: str, body: str, headers: dict[str, str]) -> None:
    for leak in LEAKS:
        assert leak not in body, f"{path}: {leak!r} in the body"
        for name, value in headers.items():
            assert leak not in value, f"{path}: {leak!r} in the {name} header"


async def test_error_pages_through_the_test_client_show_nothing_secret(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    client = app.test_client()
    for path, status in BROKEN_PATHS.items():
        method = "POST" if path == "/missing-form-key" else "GET"
        response = await client.open(path, method=method, form={"other": "1"} if method == "POST" else None)
        assert response.status_code == status, path
        assert_nothing_leaks(path, await response.get_data(as_text=True), dict(response.headers))
    # The details are in the log, for the app's owner.
    logged = caplog.text
    assert "ValueError: view failed for" in logged
    assert "PermissionError: hook failed for" in logged
    assert "KeyError: 'handler failed for" in logged
    assert "RuntimeError: 500 handler failed for" in logged


@contextmanager
def serving(kind: str, app: Quaver, port: int) -> Iterator[str]:
    server = ThreadedServer(kind, app, port)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize("kind", SERVERS)
def test_error_pages_over_a_server_show_nothing_secret(
    kind: str, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    with serving(kind, app, free_port) as url, httpx.Client(timeout=10) as client:
        for path, status in BROKEN_PATHS.items():
            if path == "/missing-form-key":
                response = client.post(url + path, data={"other": "1"})
            else:
                response = client.get(url + path)
            assert response.status_code == status, path
            assert_nothing_leaks(path, response.text, dict(response.headers))
    assert "ValueError: view failed for" in caplog.text


@pytest.mark.parametrize("kind", SERVERS)
def test_debug_mode_error_page_shows_the_traceback(kind: str, free_port: int) -> None:
    """The same failures in debug mode do show their details: the checks above can tell."""
    app = make_app(debug=True)
    app.config["PROPAGATE_EXCEPTIONS"] = None  # debug's default: the error reaches the adapter's debug page
    with serving(kind, app, free_port) as url:
        response = httpx.get(url + "/view-raises", timeout=10)
    assert response.status_code == 500
    body = response.text
    assert "ValueError: view failed for" in body
    assert MESSAGE_SECRET in body
    assert os.path.basename(__file__) in body
    assert "raise ValueError" in body  # the source line


async def test_bad_json_page_shows_no_parser_message_outside_debug() -> None:
    """As in Flask and Quart, the parser's message is for debug mode only."""
    app = make_app()

    @app.post("/json")
    async def take_json() -> str:
        return str(await request.get_json())

    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    response = await client.post("/json", data=b'{"card": "' + MESSAGE_SECRET.encode(), headers=headers)
    assert response.status_code == 400
    body = await response.get_data(as_text=True)
    assert "Unterminated string" not in body
    assert MESSAGE_SECRET not in body
    app.debug = True
    response = await client.post("/json", data=b'{"card": "' + MESSAGE_SECRET.encode(), headers=headers)
    assert response.status_code == 400
    assert "Unterminated string" in await response.get_data(as_text=True)


# -- the session cookie ------------------------------------------------------------------------
def session_app() -> Quaver:
    app = Quaver("session_defaults_app")
    app.secret_key = SECRET_KEY

    @app.get("/login")
    async def login() -> str:
        session["user"] = "ada"
        return "logged in"

    @app.get("/whoami")
    async def whoami() -> str:
        return str(session.get("user"))

    return app


def cookie_attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    """The cookie's name and its attributes (lower-cased names) from a Set-Cookie header."""
    first, *rest = [part.strip() for part in set_cookie.split(";")]
    attributes = {}
    for part in rest:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return first.partition("=")[0], attributes


async def test_session_cookie_is_httponly_samesite_lax_on_path_root_by_default() -> None:
    app = session_app()
    client = app.test_client()
    response = await client.get("/login")
    name, attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert name == "session"
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert "secure" not in attributes
    assert SECRET_KEY not in response.headers["Set-Cookie"]
    assert await (await client.get("/whoami")).get_data(as_text=True) == "ada"


async def test_session_cookie_is_secure_when_asked() -> None:
    app = session_app()
    app.config["SESSION_COOKIE_SECURE"] = True
    response = await app.test_client().get("/login")
    _, attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"


@pytest.mark.parametrize("kind", SERVERS)
def test_session_cookie_attributes_over_a_server(kind: str, free_port: int) -> None:
    app = session_app()
    with serving(kind, app, free_port) as url:
        response = httpx.get(url + "/login", timeout=10)
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    name, attributes = cookie_attributes(cookies[0])
    assert name == "session"
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert "secure" not in attributes


# -- no SECRET_KEY -------------------------------------------------------------------------------
def keyless_app() -> Quaver:
    app = Quaver("keyless_app")

    @app.get("/read")
    async def read() -> str:
        return f"user={session.get('user')} empty={not session}"

    @app.get("/write")
    async def write() -> str:
        session["user"] = "ada"
        return "written"

    return app


async def test_without_secret_key_reading_the_empty_session_works() -> None:
    response = await keyless_app().test_client().get("/read")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "user=None empty=True"
    assert "Set-Cookie" not in response.headers


async def test_without_secret_key_writing_the_session_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = await keyless_app().test_client().get("/write")
    assert response.status_code == 500
    body = await response.get_data(as_text=True)
    assert "Internal Server Error" in body
    assert "secret key" not in body
    assert "Set-Cookie" not in response.headers
    assert f"RuntimeError: {NO_SECRET_KEY_MESSAGE}" in caplog.text
    assert "Exception on /write [GET]" in caplog.text


async def test_without_secret_key_writing_the_session_raises_into_a_test() -> None:
    app = keyless_app()
    app.testing = True
    with pytest.raises(RuntimeError, match=NO_SECRET_KEY_MESSAGE):
        await app.test_client().get("/write")


@pytest.mark.parametrize("kind", SERVERS)
def test_without_secret_key_over_a_server(kind: str, free_port: int, caplog: pytest.LogCaptureFixture) -> None:
    app = keyless_app()
    with serving(kind, app, free_port) as url, httpx.Client(timeout=10) as client:
        response = client.get(url + "/write")
        assert response.status_code == 500
        assert "secret key" not in response.text
        response = client.get(url + "/read")
        assert (response.status_code, response.text) == (200, "user=None empty=True")
    assert NO_SECRET_KEY_MESSAGE in caplog.text
