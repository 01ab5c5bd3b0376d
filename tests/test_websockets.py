"""Websocket dispatch through the test client: routing, refusing the
handshake, hooks, error handlers, signals and contexts (quaver/websockets.py).
The websocket object and the test client's connection are tested in
test_websocket_messages.py, disconnects and limits in test_websocket_disconnects.py."""

from __future__ import annotations

import asyncio
import threading

import pytest

from quaver import (
    Blueprint,
    Response,
    abort,
    after_this_websocket,
    copy_current_websocket_context,
    g,
    has_request_context,
    has_websocket_context,
    request,
    url_for,
    websocket,
)
from quaver.testing import WebsocketResponseError


async def refused(client, path, **kwargs):
    """The response the app refused a handshake with."""
    with pytest.raises(WebsocketResponseError) as info:
        async with client.websocket(path, **kwargs) as ws:
            await ws.receive()
    return info.value.response


# -- routes -----------------------------------------------------------------


async def test_echo_keeps_text_as_str_and_binary_as_bytes(app, client):
    @app.websocket("/echo")
    async def echo():
        while True:
            await websocket.send(await websocket.receive())

    async with client.websocket("/echo") as ws:
        await ws.send("héllo")
        assert await ws.receive() == "héllo"
        await ws.send(b"\x00\xffbinary")
        answer = await ws.receive()
        assert answer == b"\x00\xffbinary"
        assert isinstance(answer, bytes)


async def test_converters_give_the_handler_its_arguments(app, client):
    @app.websocket("/rooms/<int:room>/<name>")
    async def room(room, name):
        await websocket.send_json({"room": room, "name": name})

    async with client.websocket("/rooms/12/lobby") as ws:
        assert await ws.receive_json() == {"room": 12, "name": "lobby"}
    assert (await refused(client, "/rooms/twelve/lobby")).status_code == 404


async def test_blueprint_websocket_under_url_prefix_and_url_for(app, client):
    bp = Blueprint("chat", __name__, url_prefix="/chat")

    @bp.websocket("/<int:room>")
    async def room(room):
        await websocket.send(f"{url_for('.room', room=room + 1)} {url_for('link')}")

    @app.get("/link")
    async def link():
        return url_for("chat.room", room=3)

    app.register_blueprint(bp)
    # As in Werkzeug, websocket URLs are always built in full, with a ws/wss scheme.
    async with client.websocket("/chat/7") as ws:
        assert await ws.receive() == "ws://localhost/chat/8 /link"
    assert await (await client.get("/link")).get_data(as_text=True) == "ws://localhost/chat/3"
    assert await (await client.get("/link", scheme="https")).get_data(as_text=True) == "wss://localhost/chat/3"
    assert (await refused(client, "/7")).status_code == 404


async def test_nested_blueprints_prefix_websockets(app, client):
    parent = Blueprint("api", __name__, url_prefix="/api")
    child = Blueprint("live", __name__, url_prefix="/live")

    @child.websocket("/feed")
    async def feed():
        await websocket.send(f"{websocket.endpoint} {websocket.blueprint}")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    async with client.websocket("/api/live/feed") as ws:
        assert await ws.receive() == "api.live.feed api.live"


async def test_http_and_websocket_routes_may_share_a_path(app, client):
    @app.get("/live")
    async def page():
        return "page"

    @app.websocket("/live")
    async def live():
        await websocket.send("socket")

    assert await (await client.get("/live")).get_data(as_text=True) == "page"
    async with client.websocket("/live") as ws:
        assert await ws.receive() == "socket"


async def test_plain_http_to_a_websocket_route_is_a_bad_request(app, client):
    @app.websocket("/only-ws")
    async def only_ws():
        await websocket.send("x")

    @app.get("/only-http")
    async def only_http():
        return "x"

    assert (await client.get("/only-ws")).status_code == 400
    assert (await refused(client, "/only-http")).status_code == 400


async def test_unknown_path_is_refused_with_404(client):
    assert (await refused(client, "/nothing-here")).status_code == 404


# -- refusing the handshake -------------------------------------------------


async def test_abort_before_accept_refuses_with_that_status_and_body(app, client):
    @app.websocket("/private")
    async def private():
        if websocket.headers.get("Authorization") != "Bearer ok":
            abort(401)
        await websocket.send("welcome")

    response = await refused(client, "/private")
    assert response.status_code == 401
    assert "Unauthorized" in await response.get_data(as_text=True)
    async with client.websocket("/private", headers={"Authorization": "Bearer ok"}) as ws:
        assert await ws.receive() == "welcome"


async def test_error_handler_response_refuses_the_handshake(app, client):
    @app.errorhandler(401)
    async def unauthorized(error):
        return {"error": "log in first"}, 401, {"WWW-Authenticate": "Bearer"}

    @app.websocket("/private")
    async def private():
        abort(401)

    response = await refused(client, "/private")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await response.get_json() == {"error": "log in first"}


async def test_returned_response_refuses_the_handshake(app, client):
    @app.websocket("/teapot")
    async def teapot():
        return Response("short and stout", 418, headers={"X-Kind": "teapot"})

    @app.websocket("/tuple")
    async def as_tuple():
        return "not today", 429

    response = await refused(client, "/teapot")
    assert (response.status_code, response.headers["X-Kind"]) == (418, "teapot")
    assert await response.get_data() == b"short and stout"
    response = await refused(client, "/tuple")
    assert (response.status_code, await response.get_data()) == (429, b"not today")


async def test_streamed_response_body_reaches_the_refused_client(app, client):
    @app.websocket("/streamed")
    async def streamed():
        async def body():
            yield b"part one, "
            yield b"part two"

        return Response(body(), 403)

    response = await refused(client, "/streamed")
    assert (response.status_code, await response.get_data()) == (403, b"part one, part two")


async def test_returning_nothing_before_accept_refuses_with_403(app, client):
    @app.websocket("/silent")
    async def silent():
        return None

    assert (await refused(client, "/silent")).status_code == 403


async def test_closing_before_accept_refuses_with_403(app, client):
    @app.websocket("/closed")
    async def closed():
        await websocket.close(1008)

    assert (await refused(client, "/closed")).status_code == 403


async def test_unhandled_error_before_accept_refuses_with_500(app, client, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/broken")
    async def broken():
        raise KeyError("oops")

    response = await refused(client, "/broken")
    assert response.status_code == 500
    assert "Exception on /broken" in caplog.text


async def test_without_the_response_extension_a_refusal_is_a_plain_403(app, client):
    @app.websocket("/private")
    async def private():
        abort(401)

    response = await refused(client, "/private", scope_base={"extensions": {}})
    assert response.status_code == 403
    assert await response.get_data() == b""


async def test_leaving_the_block_raises_an_unread_refusal(app, client):
    @app.websocket("/private")
    async def private():
        abort(401)

    with pytest.raises(WebsocketResponseError) as info:
        async with client.websocket("/private") as ws:
            while ws.response is None:  # let the app answer, without reading its answer
                await asyncio.sleep(0)
    assert info.value.response.status_code == 401


async def test_leaving_the_block_at_once_raises_a_refusal_made_at_once(app, client):
    @app.get("/page")
    async def page():
        return "page"

    @app.before_websocket
    async def guard():
        if websocket.path == "/guarded":
            abort(403)

    @app.websocket("/guarded")
    async def guarded():
        await websocket.send("never")

    for path, status in (("/page", 400), ("/guarded", 403), ("/missing", 404)):
        with pytest.raises(WebsocketResponseError) as info:
            async with client.websocket(path):
                pass
        assert info.value.response.status_code == status


async def test_a_handler_that_waits_before_accepting_is_still_disconnected_on_leaving(app, client):
    cancelled = asyncio.Event()

    @app.websocket("/waits")
    async def waits():
        try:
            await asyncio.Event().wait()  # never answers the handshake
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with client.websocket("/waits"):
        pass
    assert cancelled.is_set()


async def test_a_cancelled_handler_cancels_handle_websocket(app):
    from werkzeug.datastructures import Headers

    @app.websocket("/")
    async def index():
        raise asyncio.CancelledError()

    made = app.websocket_class("/", b"", "ws", Headers({"Host": "localhost"}), "", "1.1", None, None, None, None, None)
    with pytest.raises(asyncio.CancelledError):
        await app.handle_websocket(made)


# -- hooks ------------------------------------------------------------------


async def test_before_after_and_teardown_websocket_run_in_order(app, client):
    calls = []
    bp = Blueprint("bp", __name__)

    @app.before_websocket
    async def app_before():
        calls.append("app before")
        g.user = "ada"

    @bp.before_websocket
    def bp_before():  # sync hooks run too
        calls.append("bp before")

    @app.after_websocket
    async def app_after(response):
        calls.append(f"app after {response!r}")
        return response

    @bp.after_websocket
    async def bp_after(response):
        calls.append("bp after")
        return response

    @app.teardown_websocket
    async def app_teardown(exc):
        calls.append(f"app teardown {exc!r}")

    @app.before_request
    async def http_only():
        calls.append("before_request")

    @bp.websocket("/ws")
    async def handle():
        calls.append("handler")
        await websocket.send(g.user)

    app.register_blueprint(bp)
    async with client.websocket("/ws") as ws:
        assert await ws.receive() == "ada"
    assert calls == [
        "app before",
        "bp before",
        "handler",
        "bp after",
        "app after None",
        "app teardown None",
    ]


async def test_before_websocket_value_refuses_without_running_the_handler(app, client):
    ran = []

    @app.before_websocket
    async def gate():
        if "X-Key" not in websocket.headers:
            return "key required", 401
        return None

    @app.websocket("/ws")
    async def handle():
        ran.append(True)
        await websocket.send("in")

    response = await refused(client, "/ws")
    assert (response.status_code, await response.get_data()) == (401, b"key required")
    assert ran == []
    async with client.websocket("/ws", headers={"X-Key": "1"}) as ws:
        assert await ws.receive() == "in"


async def test_after_websocket_sees_a_refusal_response(app, client):
    @app.after_websocket
    async def stamp(response):
        response.headers["X-Stamp"] = "after"
        return response

    @app.websocket("/no")
    async def no():
        return "no", 403

    assert (await refused(client, "/no")).headers["X-Stamp"] == "after"


async def test_after_this_websocket_runs_for_this_websocket_only(app, client):
    seen = []

    @app.websocket("/ws")
    async def handle():
        after_this_websocket(lambda response: seen.append(websocket.path) or response)
        await websocket.send("x")

    async with client.websocket("/ws") as ws:
        await ws.receive()
    async with client.websocket("/ws") as ws:
        await ws.receive()
    assert seen == ["/ws", "/ws"]


async def test_blueprint_hooks_apply_to_its_websockets_only(app, client):
    calls = []
    bp = Blueprint("bp", __name__)

    @bp.before_websocket
    async def bp_before():
        calls.append(websocket.path)

    @bp.before_app_websocket
    async def everywhere():
        calls.append("app-wide " + websocket.path)

    @bp.websocket("/inside")
    async def inside():
        await websocket.send("x")

    @app.websocket("/outside")
    async def outside():
        await websocket.send("x")

    app.register_blueprint(bp)
    for path in ("/inside", "/outside"):
        async with client.websocket(path) as ws:
            await ws.receive()
    assert calls == ["app-wide /inside", "/inside", "app-wide /outside"]


async def test_teardown_gets_the_error_of_a_failed_handler(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    errors = []

    @app.teardown_websocket
    async def teardown(exc):
        errors.append(exc)

    @app.websocket("/broken")
    async def broken():
        raise LookupError("gone")

    assert (await refused(client, "/broken")).status_code == 500
    assert [type(error) for error in errors] == [LookupError]


# -- error handlers ---------------------------------------------------------


async def test_websocket_error_handler_answers_an_exception(app, client):
    class QuotaExceeded(Exception):
        pass

    @app.errorhandler(QuotaExceeded)
    async def quota(error):
        return "over quota", 429

    @app.websocket("/ws")
    async def handle():
        raise QuotaExceeded()

    response = await refused(client, "/ws")
    assert (response.status_code, await response.get_data()) == (429, b"over quota")


async def test_blueprint_error_handler_takes_its_websockets_errors(app, client):
    bp = Blueprint("bp", __name__)

    @bp.errorhandler(403)
    async def bp_forbidden(error):
        return "blueprint says no", 403

    @app.errorhandler(403)
    async def app_forbidden(error):
        return "app says no", 403

    @bp.websocket("/inside")
    async def inside():
        abort(403)

    @app.websocket("/outside")
    async def outside():
        abort(403)

    app.register_blueprint(bp)
    assert await (await refused(client, "/inside")).get_data() == b"blueprint says no"
    assert await (await refused(client, "/outside")).get_data() == b"app says no"


async def test_500_handler_answers_unhandled_websocket_errors(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(500)
    async def server_error(error):
        return f"sorry: {error.original_exception}", 500

    @app.websocket("/ws")
    async def handle():
        raise ValueError("bad value")

    response = await refused(client, "/ws")
    assert (response.status_code, await response.get_data()) == (500, b"sorry: bad value")


async def test_websocket_signals_and_url_value_preprocessors(app, client):
    from quaver import got_websocket_exception, websocket_finished, websocket_started, websocket_tearing_down

    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = []
    bp = Blueprint("bp", __name__, url_prefix="/<lang>")

    def started(sender, **extra):
        seen.append("started")

    def finished(sender, response, **extra):
        seen.append(f"finished {response.status_code if response is not None else None}")

    def failed(sender, exception, **extra):
        seen.append(f"exception {type(exception).__name__}")

    def tearing_down(sender, exc, **extra):
        seen.append(f"tearing down {type(exc).__name__}")

    @bp.url_value_preprocessor
    def pull_lang(endpoint, values):
        g.lang = values.pop("lang")

    @bp.websocket("/greet")
    async def greet():
        await websocket.send({"en": "hello", "fr": "bonjour"}[g.lang])

    @app.websocket("/bad")
    async def bad():
        raise ValueError()

    app.register_blueprint(bp)
    with websocket_started.connected_to(started, app), websocket_finished.connected_to(finished, app), \
            got_websocket_exception.connected_to(failed, app), websocket_tearing_down.connected_to(tearing_down, app):
        async with client.websocket("/fr/greet") as ws:
            assert await ws.receive() == "bonjour"
        assert (await refused(client, "/bad")).status_code == 500
    assert seen == [
        "started", "finished None", "tearing down NoneType",
        "started", "exception ValueError", "finished 500", "tearing down ValueError",
    ]


# -- sessions ---------------------------------------------------------------


class RecordingSessions:
    """A session interface that keeps what it was asked to save."""

    def __init__(self) -> None:
        self.saved: list = []

    def open_session(self, app, request):
        from quaver.sessions import SecureCookieSession

        return SecureCookieSession({"user": "ada"})

    def make_null_session(self, app):
        return None

    def is_null_session(self, session) -> bool:
        return False

    def save_session(self, app, session, response):
        self.saved.append((dict(session), response))

    def __getattr__(self, name):  # the rest of Flask's SessionInterface
        from quaver.sessions import SessionInterface

        return getattr(SessionInterface(), name)


async def test_a_custom_session_is_saved_after_an_accepted_websocket_with_no_response(app, client):
    app.session_interface = RecordingSessions()

    @app.websocket("/ws")
    async def ws():
        from quaver import session

        session["seen"] = session["user"]
        await websocket.send("hi")

    async with client.websocket("/ws") as connection:
        assert await connection.receive() == "hi"
    assert app.session_interface.saved == [({"user": "ada", "seen": "ada"}, None)]


async def test_a_refused_websocket_sets_the_session_cookie_on_its_refusal(app, client):
    from quaver import session

    app.secret_key = "websocket secret"

    @app.websocket("/ws")
    async def ws():
        session["tried"] = True
        return "not here", 401

    response = await refused(client, "/ws")
    assert response.status_code == 401
    assert "session=" in response.headers["Set-Cookie"]


async def test_a_cookie_session_changed_in_an_accepted_websocket_is_logged_as_lost(app, client, caplog):
    from quaver import session

    app.secret_key = "websocket secret"

    @app.websocket("/ws")
    async def ws():
        await websocket.accept()
        session["late"] = True
        await websocket.send("ok")

    async with client.websocket("/ws") as connection:
        assert await connection.receive() == "ok"
    assert "change is lost" in caplog.text


# -- contexts ---------------------------------------------------------------


async def test_has_websocket_context_only_inside_websockets(app, client):
    @app.websocket("/ws")
    async def handle():
        await websocket.send_json([has_websocket_context(), has_request_context()])

    @app.get("/http")
    async def http():
        return [has_websocket_context(), has_request_context()]

    async with client.websocket("/ws") as ws:
        assert await ws.receive_json() == [True, False]
    assert await (await client.get("/http")).get_json() == [False, True]
    assert not has_websocket_context()


async def test_request_global_is_unbound_in_a_websocket(app, client):
    @app.websocket("/ws")
    async def handle():
        try:
            _ = request.path  # reading it is what raises
        except RuntimeError:
            await websocket.send("no request")

    async with client.websocket("/ws") as ws:
        assert await ws.receive() == "no request"


async def test_copy_current_websocket_context_works_outside_the_handler(app, client):
    copied = []

    @app.websocket("/rooms/<room>")
    async def room(room):
        @copy_current_websocket_context
        async def describe():
            return f"{websocket.path} {has_websocket_context()}"

        copied.append(describe)
        await websocket.send("ready")
        await websocket.receive()

    async with client.websocket("/rooms/blue") as ws:
        assert await ws.receive() == "ready"
        assert not has_websocket_context()
        assert await copied[0]() == "/rooms/blue True"  # called from the test, not the handler
        await ws.send("done")


async def test_copy_current_websocket_context_needs_a_websocket():
    with pytest.raises(RuntimeError):
        copy_current_websocket_context(lambda: None)


# -- sync code in the thread pool -------------------------------------------


async def test_sync_handler_and_hooks_run_in_the_thread_pool(app, client):
    loop_thread = threading.get_ident()
    threads = {}

    @app.before_websocket
    def before():
        threads["before"] = threading.get_ident()

    @app.errorhandler(409)
    def conflict(error):
        threads["error handler"] = threading.get_ident()
        return f"conflict on {websocket.path}", 409

    @app.websocket("/sync/<name>")
    def sync_handler(name):
        threads["handler"] = threading.get_ident()
        if name == "conflict":
            abort(409)
        return f"sync refused {websocket.path}", 403

    response = await refused(client, "/sync/plain")
    assert (response.status_code, await response.get_data()) == (403, b"sync refused /sync/plain")
    response = await refused(client, "/sync/conflict")
    assert (response.status_code, await response.get_data()) == (409, b"conflict on /sync/conflict")
    assert set(threads) == {"before", "handler", "error handler"}
    assert loop_thread not in threads.values()


# -- the dispatch steps an app may call itself (Quart's names) ----------------
def _socket_to(app, path):
    """A websocket for ``path`` that is never connected (for a context of its own)."""
    from werkzeug.datastructures import Headers

    return app.websocket_class(path, b"", "ws", Headers({"Host": "localhost"}), "", "1.1", [], None, None, None, None)


async def test_preprocess_websocket_runs_the_before_websocket_hooks_and_gives_the_first_answer(app):
    ran = []
    rooms = Blueprint("rooms", __name__)

    @app.url_value_preprocessor
    def pull(endpoint, values):
        ran.append(f"preprocessor {endpoint} {values}")

    @app.before_websocket
    async def app_hook():
        ran.append("app")

    @rooms.before_websocket
    def rooms_hook():
        ran.append("rooms")
        return "full", 403

    @rooms.websocket("/rooms/<name>")
    async def room(name):
        pass

    app.register_blueprint(rooms)
    async with app.websocket_context(_socket_to(app, "/rooms/lobby")) as ctx:
        assert await app.preprocess_websocket() == ("full", 403)
        assert ran == ["preprocessor rooms.room {'name': 'lobby'}", "app", "rooms"]
        ran.clear()
        assert await app.preprocess_websocket(ctx) == ("full", 403)
        assert len(ran) == 3


async def test_dispatch_websocket_calls_the_handler_of_the_current_websocket(app):
    from werkzeug.exceptions import NotFound

    @app.websocket("/rooms/<name>")
    async def room(name):
        return f"no room called {name}", 404

    async with app.websocket_context(_socket_to(app, "/rooms/attic")):
        assert await app.dispatch_websocket() == ("no room called attic", 404)
    async with app.websocket_context(_socket_to(app, "/nowhere")):
        with pytest.raises(NotFound):
            await app.dispatch_websocket()


async def test_postprocess_websocket_runs_the_after_websocket_hooks(app):
    seen = []

    @app.after_websocket
    async def stamp(response):
        seen.append(response)
        if response is not None:
            response.headers["X-Seen"] = "yes"
        return response

    @app.websocket("/ws")
    async def ws():
        pass

    async with app.websocket_context(_socket_to(app, "/ws")):
        assert await app.postprocess_websocket(None) is None
        refusal = Response("go away", 403)
        answered = await app.postprocess_websocket(refusal)
        assert answered is refusal
        assert answered.headers["X-Seen"] == "yes"
    assert seen == [None, refusal]


async def test_an_app_class_overriding_the_websocket_steps_has_them_called():
    from quaver import Quaver

    calls = []

    class Audited(Quaver):
        async def preprocess_websocket(self, ctx=None):
            calls.append("preprocess_websocket")
            return await super().preprocess_websocket(ctx)

        async def dispatch_websocket(self, ctx=None):
            calls.append("dispatch_websocket")
            return await super().dispatch_websocket(ctx)

        async def postprocess_websocket(self, response, ctx=None):
            calls.append(f"postprocess_websocket {response}")
            return await super().postprocess_websocket(response, ctx)

    app = Audited(__name__)

    @app.websocket("/echo")
    async def echo():
        await websocket.send(await websocket.receive())

    async with app.test_client().websocket("/echo") as ws:
        await ws.send("hi")
        assert await ws.receive() == "hi"
    for _ in range(10):
        if len(calls) == 3:
            break
        await asyncio.sleep(0.01)
    assert calls == ["preprocess_websocket", "dispatch_websocket", "postprocess_websocket None"]
    refusal = await refused(app.test_client(), "/nowhere")
    assert refusal.status_code == 404


async def test_do_teardown_websocket_runs_the_teardown_functions_of_the_context_given(app):
    torn = []

    @app.teardown_websocket
    def note(exc):
        torn.append(exc)

    @app.websocket("/ws")
    async def ws():
        pass

    async with app.websocket_context(_socket_to(app, "/ws")) as ctx:
        await app.do_teardown_websocket(None, ctx)
        assert torn == [None]
