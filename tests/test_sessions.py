"""Sessions: the signed cookie, its settings, key rotation, custom interfaces."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from werkzeug.http import parse_date

from quaver import Quaver, session, websocket
from quaver.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface


@pytest.fixture
def sapp(app: Quaver) -> Quaver:
    app.secret_key = "a secret"

    @app.route("/set/<key>/<value>")
    async def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    async def get_value(key: str) -> str:
        return str(session.get(key, "<missing>"))

    @app.route("/clear")
    async def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/permanent")
    async def permanent() -> str:
        session.permanent = True
        session["kind"] = "permanent"
        return "ok"

    return app


def session_cookie(response: Any, name: str = "session") -> Any:
    """The Set-Cookie morsel for ``name``, or None."""
    for header in response.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        if name in parsed:
            return parsed[name]
    return None


async def test_values_survive_between_requests(sapp: Quaver) -> None:
    client = sapp.test_client()
    assert await (await client.get("/set/colour/blue")).get_data(as_text=True) == "set"
    assert await (await client.get("/get/colour")).get_data(as_text=True) == "blue"


async def test_the_cookie_is_signed_not_readable_plain_text_and_other_clients_do_not_see_it(sapp: Quaver) -> None:
    client = sapp.test_client()
    response = await client.get("/set/colour/blue")
    cookie = session_cookie(response)
    assert cookie is not None and "blue" not in cookie.value
    assert await (await sapp.test_client().get("/get/colour")).get_data(as_text=True) == "<missing>"


async def test_default_cookie_flags(sapp: Quaver) -> None:
    cookie = session_cookie(await sapp.test_client().get("/set/a/b"))
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert not cookie["domain"]
    assert not cookie["expires"]  # a browser session cookie unless permanent


async def test_session_cookie_settings_are_applied(sapp: Quaver) -> None:
    sapp.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    response = await sapp.test_client().get("/set/a/b")
    assert session_cookie(response) is None
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("sid="))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert "httponly" not in attributes
    assert {"secure", "partitioned", "domain", "path", "samesite"} <= attributes
    assert "Domain=example.com" in header and "Path=/app" in header and "SameSite=Strict" in header


async def test_application_root_is_the_default_cookie_path(sapp: Quaver) -> None:
    sapp.config["APPLICATION_ROOT"] = "/shop"
    cookie = session_cookie(await sapp.test_client().get("/set/a/b"))
    assert cookie["path"] == "/shop"


async def test_permanent_session_expires_after_the_lifetime(sapp: Quaver) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    before = datetime.now(UTC)
    cookie = session_cookie(await sapp.test_client().get("/permanent"))
    expires = parse_date(cookie["expires"])
    assert expires is not None
    assert timedelta(hours=2) - timedelta(minutes=1) < expires - before < timedelta(hours=2, minutes=1)


async def test_permanent_session_is_refreshed_on_each_request_unless_disabled(sapp: Quaver) -> None:
    client = sapp.test_client()
    await client.get("/permanent")
    refreshed = await client.get("/get/kind")
    assert await refreshed.get_data(as_text=True) == "permanent"
    assert session_cookie(refreshed) is not None

    sapp.config["SESSION_REFRESH_EACH_REQUEST"] = False
    not_refreshed = await client.get("/get/kind")
    assert session_cookie(not_refreshed) is None


async def test_an_untouched_non_permanent_session_sets_no_cookie(sapp: Quaver) -> None:
    client = sapp.test_client()
    await client.get("/set/a/b")
    response = await client.get("/get/a")
    assert session_cookie(response) is None


async def test_expired_cookie_gives_an_empty_session(sapp: Quaver) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    client = sapp.test_client()
    response = await client.get("/set/colour/blue")
    value = session_cookie(response).value
    await asyncio.sleep(2.1)
    fresh = sapp.test_client()
    fresh.set_cookie("localhost", "session", value)
    response = await fresh.get("/get/colour")
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "<missing>"


@pytest.mark.parametrize("value", ["garbage", "eyJ4IjoxfQ.abc.def", "", "a.b", "\u00e9t\u00e9"])
async def test_tampered_cookie_gives_an_empty_session(sapp: Quaver, value: str) -> None:
    client = sapp.test_client()
    response = await client.get("/get/x", headers={"Cookie": f"session={value}"})
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "<missing>"


async def test_cookie_signed_with_another_key_is_ignored(sapp: Quaver) -> None:
    other = Quaver("other")
    other.secret_key = "someone else's key"

    @other.route("/")
    async def index() -> str:
        session["colour"] = "red"
        return ""

    value = session_cookie(await other.test_client().get("/")).value
    response = await sapp.test_client().get("/get/colour", headers={"Cookie": f"session={value}"})
    assert await response.get_data(as_text=True) == "<missing>"


async def test_secret_key_fallbacks_let_old_cookies_in_and_new_ones_use_the_new_key(sapp: Quaver) -> None:
    old_client = sapp.test_client()
    await old_client.get("/set/colour/green")
    old_value = old_client.get_cookie("session")

    sapp.config["SECRET_KEY_FALLBACKS"] = ["a secret"]
    sapp.secret_key = "the new secret"
    client = sapp.test_client()
    client.set_cookie("localhost", "session", old_value)
    assert await (await client.get("/get/colour")).get_data(as_text=True) == "green"

    response = await client.get("/set/size/big")
    new_value = session_cookie(response).value
    sapp.config["SECRET_KEY_FALLBACKS"] = None
    assert await (await client.get("/get/size")).get_data(as_text=True) == "big"
    again = sapp.test_client()
    again.set_cookie("localhost", "session", old_value)
    assert await (await again.get("/get/colour")).get_data(as_text=True) == "<missing>"
    assert new_value != old_value


async def test_tagged_json_keeps_python_types(app: Quaver) -> None:
    app.secret_key = "key"
    stored = {
        "tuple": (1, "two"),
        "bytes": b"\x00\xff",
        "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "markup": __import__("markupsafe").Markup("<b>bold</b>"),
        "nested": {"list": [1, {"x": (2, 3)}]},
    }

    @app.route("/store")
    async def store() -> str:
        session.update(stored)
        return ""

    @app.route("/check")
    async def check() -> str:
        for key, value in stored.items():
            assert session[key] == value, key
            assert type(session[key]) is type(value), key
        return "same"

    client = app.test_client()
    await client.get("/store")
    assert await (await client.get("/check")).get_data(as_text=True) == "same"


async def test_clearing_the_session_deletes_the_cookie(sapp: Quaver) -> None:
    client = sapp.test_client()
    await client.get("/set/a/b")
    response = await client.get("/clear")
    cookie = session_cookie(response)
    assert cookie is not None and cookie.value == ""
    assert client.get_cookie("session") is None
    assert await (await client.get("/get/a")).get_data(as_text=True) == "<missing>"


async def test_reading_the_session_adds_vary_cookie(sapp: Quaver) -> None:
    client = sapp.test_client()
    await client.get("/set/a/b")
    response = await client.get("/get/a")
    assert await response.get_data(as_text=True) == "b"
    assert "Cookie" in response.vary


async def test_a_request_not_using_the_session_has_no_vary_cookie(sapp: Quaver) -> None:
    @sapp.route("/other")
    async def other() -> str:
        return "no session here"

    client = sapp.test_client()
    await client.get("/set/a/b")
    response = await client.get("/other")
    assert "Cookie" not in response.vary
    assert session_cookie(response) is None


async def test_writing_the_session_without_a_secret_key_is_a_clear_error(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        session["x"] = 1
        return ""

    with pytest.raises(RuntimeError, match="secret key"):
        await app.test_client().get("/")


async def test_reading_the_session_without_a_secret_key_works_and_is_empty(app: Quaver) -> None:
    @app.route("/")
    async def index() -> str:
        return f"{dict(session)} {session.get('x')}"

    response = await app.test_client().get("/", headers={"Cookie": "session=anything"})
    assert await response.get_data(as_text=True) == "{} None"
    assert session_cookie(response) is None


async def test_without_a_secret_key_an_unhandled_write_is_a_500_outside_testing(app: Quaver) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/")
    async def index() -> str:
        session["x"] = 1
        return ""

    assert (await app.test_client().get("/")).status_code == 500


async def test_the_session_is_saved_after_after_request_hooks(sapp: Quaver) -> None:
    @sapp.after_request
    async def mark(response: Any) -> Any:
        session["seen_by_hook"] = "yes"
        return response

    client = sapp.test_client()
    await client.get("/get/a")
    assert await (await client.get("/get/seen_by_hook")).get_data(as_text=True) == "yes"


async def test_sync_views_use_the_session_too(sapp: Quaver) -> None:
    @sapp.route("/sync")
    def sync_view() -> str:
        session["from"] = "sync"
        return "ok"

    client = sapp.test_client()
    await client.get("/sync")
    assert await (await client.get("/get/from")).get_data(as_text=True) == "sync"


async def test_websockets_can_read_the_session(sapp: Quaver) -> None:
    @sapp.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        await websocket.send(session.get("name", "nobody"))

    client = sapp.test_client()
    await client.get("/set/name/ada")
    async with client.websocket("/ws") as connection:
        assert await connection.receive() == "ada"


# -- the test client's session_transaction -------------------------------


async def test_session_transaction_sets_what_the_next_request_sees(sapp: Quaver) -> None:
    client = sapp.test_client()
    async with client.session_transaction() as sess:
        sess["colour"] = "purple"
    assert await (await client.get("/get/colour")).get_data(as_text=True) == "purple"


async def test_session_transaction_sees_what_a_request_stored(sapp: Quaver) -> None:
    client = sapp.test_client()
    await client.get("/set/colour/orange")
    async with client.session_transaction() as sess:
        assert sess["colour"] == "orange"
        del sess["colour"]
    assert await (await client.get("/get/colour")).get_data(as_text=True) == "<missing>"


async def test_session_transaction_without_a_secret_key_is_an_error(app: Quaver) -> None:
    with pytest.raises(RuntimeError):
        async with app.test_client().session_transaction():
            pass


async def test_session_transaction_needs_cookies(sapp: Quaver) -> None:
    with pytest.raises(RuntimeError):
        async with sapp.test_client(use_cookies=False).session_transaction():
            pass


# -- custom session interfaces ------------------------------------------


class _Store:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []


def make_server_side_interface(store: _Store, use_async: bool) -> SessionInterface:
    """A server-side session keyed by an id cookie, sync or async."""

    def open_impl(app: Any, request: Any) -> SecureCookieSession:
        store.calls.append("open")
        sid = request.cookies.get("sid")
        sess = SecureCookieSession(store.data.get(sid, {}) if sid else {})
        sess.sid = sid or uuid.uuid4().hex  # type: ignore[attr-defined]
        return sess

    def save_impl(app: Any, sess: Any, response: Any) -> None:
        store.calls.append("save")
        if sess.modified:
            store.data[sess.sid] = dict(sess)
            response.set_cookie("sid", sess.sid, httponly=True)

    if use_async:

        class AsyncInterface(SessionInterface):
            async def open_session(self, app: Any, request: Any) -> Any:
                await asyncio.sleep(0)
                return open_impl(app, request)

            async def save_session(self, app: Any, sess: Any, response: Any) -> None:
                await asyncio.sleep(0)
                save_impl(app, sess, response)

        return AsyncInterface()

    class SyncInterface(SessionInterface):
        def open_session(self, app: Any, request: Any) -> Any:
            return open_impl(app, request)

        def save_session(self, app: Any, sess: Any, response: Any) -> None:
            save_impl(app, sess, response)

    return SyncInterface()


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_custom_session_interface(app: Quaver, use_async: bool) -> None:
    store = _Store()
    app.session_interface = make_server_side_interface(store, use_async)

    @app.route("/set")
    async def set_value() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    assert await (await client.get("/set")).get_data(as_text=True) == "1"
    assert await (await client.get("/set")).get_data(as_text=True) == "2"
    assert len(store.data) == 1 and list(store.data.values()) == [{"n": 2}]
    assert client.get_cookie("session") is None and client.get_cookie("sid") is not None

    async with client.session_transaction() as sess:
        sess["n"] = 10
    assert await (await client.get("/set")).get_data(as_text=True) == "11"


async def test_async_interface_session_is_open_before_before_request_hooks(app: Quaver) -> None:
    store = _Store()
    app.session_interface = make_server_side_interface(store, use_async=True)
    seen: list[Any] = []

    @app.before_request
    def sync_hook() -> None:
        seen.append(session.get("n", "empty"))

    @app.route("/")
    async def index() -> str:
        return "ok"

    assert (await app.test_client().get("/")).status_code == 200
    assert seen == ["empty"]


async def test_sync_interface_opens_only_when_the_session_is_used(app: Quaver) -> None:
    store = _Store()
    app.session_interface = make_server_side_interface(store, use_async=False)

    @app.route("/untouched")
    async def untouched() -> str:
        return "ok"

    @app.route("/touched")
    async def touched() -> str:
        return str(session.get("n"))

    client = app.test_client()
    await client.get("/untouched")
    assert "open" not in store.calls
    await client.get("/touched")
    assert store.calls == ["open", "save"]


async def test_subclassed_cookie_interface_can_change_the_serializer(app: Quaver) -> None:
    class SaltedInterface(SecureCookieSessionInterface):
        salt = "different-salt"

    app.secret_key = "key"

    @app.route("/set")
    async def set_value() -> str:
        session["x"] = "y"
        return ""

    @app.route("/get")
    async def get_value() -> str:
        return session.get("x", "<missing>")

    client = app.test_client()
    await client.get("/set")
    app.session_interface = SaltedInterface()
    assert await (await client.get("/get")).get_data(as_text=True) == "<missing>"


async def test_session_expiry_follows_the_session_lifetime_in_the_cookie_jar(sapp: Quaver) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = 1
    client = sapp.test_client()
    await client.get("/permanent")
    assert await (await client.get("/get/kind")).get_data(as_text=True) == "permanent"
    await asyncio.sleep(2.1)
    assert await (await client.get("/get/kind")).get_data(as_text=True) == "<missing>"


# -- the cookie interface called directly, as Quart's code does ----------


async def test_cookie_interface_methods_are_awaited_directly(sapp: Quaver) -> None:
    from quaver import Response

    interface = SecureCookieSessionInterface()
    stored = SecureCookieSession()
    stored["user"] = "ada"
    response = Response("")
    await interface.save_session(sapp, stored, response)
    assert session_cookie(response) is not None and response.headers["Vary"] == "Cookie"
    async with sapp.test_request_context("/", headers={"Cookie": response.headers["Set-Cookie"]}) as ctx:
        opened = await interface.open_session(sapp, ctx.request)
    assert opened == {"user": "ada"}


async def test_an_unmodified_session_saves_no_cookie(sapp: Quaver) -> None:
    from quaver import Response

    untouched = SecureCookieSession({"user": "ada"})
    untouched.modified = untouched.accessed = False
    response = Response("")
    await SecureCookieSessionInterface().save_session(sapp, untouched, response)
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers


async def test_subclass_awaiting_the_cookie_interface_works_in_requests(sapp: Quaver) -> None:
    calls: list[str] = []

    class Counting(SecureCookieSessionInterface):
        async def open_session(self, app: Any, request: Any) -> Any:
            calls.append("open")
            return await super().open_session(app, request)

        async def save_session(self, app: Any, sess: Any, response: Any) -> None:
            calls.append("save")
            await super().save_session(app, sess, response)

    sapp.session_interface = Counting()
    client = sapp.test_client()
    await client.get("/set/colour/blue")
    assert await (await client.get("/get/colour")).get_data(as_text=True) == "blue"
    assert calls == ["open", "save", "open", "save"]


# -- the base interface's methods are coroutines, as in Quart ----------------------
async def test_an_interface_awaiting_the_bases_null_session_serves_it_without_a_secret_key() -> None:
    class NullFallback(SessionInterface):
        async def open_session(self, app: Any, request: Any) -> Any:
            return None

        async def save_session(self, app: Any, session: Any, response: Any) -> None:
            pass

        async def make_null_session(self, app: Any) -> Any:
            null = await super().make_null_session(app)
            null.origin = "base"
            return null

    app = Quaver(__name__)
    app.session_interface = NullFallback()

    @app.route("/")
    async def index() -> str:
        return f"{session.get('user', 'nobody')} from {session.origin}"

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "nobody from base"


async def test_the_bases_null_session_is_given_when_a_sync_opener_returns_none() -> None:
    class SyncNone(SessionInterface):
        def open_session(self, app: Any, request: Any) -> Any:
            return None

    app = Quaver(__name__)
    app.session_interface = SyncNone()

    @app.route("/")
    async def index() -> str:
        return str(session.get("user"))

    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "None"


async def test_the_bases_open_and_save_are_left_to_subclasses() -> None:
    interface = SessionInterface()
    with pytest.raises(NotImplementedError):
        await interface.open_session(Quaver(__name__), None)
    with pytest.raises(NotImplementedError):
        await interface.save_session(Quaver(__name__), None, None)


async def test_session_proxy_forwards_methods_and_attributes_and_needs_a_request() -> None:
    app = Quaver(__name__)
    app.secret_key = "proxy-test"

    @app.post("/")
    async def write() -> dict[str, Any]:
        session["user"] = "ada"
        session.permanent = True
        return {"got": session.get("user"), "missing": session.get("nope", "default"), "modified": session.modified}

    @app.get("/")
    async def read() -> dict[str, Any]:
        return {"user": session.get("user"), "permanent": session.permanent, "class": session.__class__.__name__}

    client = app.test_client()
    written = await client.post("/")
    assert await written.get_json() == {"got": "ada", "missing": "default", "modified": True}
    read_back = await client.get("/")
    assert await read_back.get_json() == {"user": "ada", "permanent": True, "class": "SecureCookieSession"}
    with pytest.raises(RuntimeError, match="request context"):
        session.get("user")
