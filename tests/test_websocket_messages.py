"""The websocket object and the test client's connection: the handshake's
request data, accepting, messages, JSON and closing
(quaver/wrappers/websocket.py, quaver/testing/websocket.py)."""

from __future__ import annotations

import asyncio

import pytest

from quaver import abort, request, session, websocket
from quaver.testing import WebsocketDisconnectError, WebsocketResponseError
from quaver.wrappers import WebsocketDisconnected

# -- the websocket global ---------------------------------------------------


async def test_websocket_global_holds_the_handshake_request(app, client):
    @app.websocket("/inspect/<int:item>")
    async def inspect(item):
        await websocket.send_json({
            "path": websocket.path,
            "full_path": websocket.full_path,
            "args": websocket.args.to_dict(flat=False),
            "token": websocket.headers["X-Token"],
            "cookie": websocket.cookies.get("flavour"),
            "subprotocols": websocket.requested_subprotocols,
            "scheme": websocket.scheme,
            "host": websocket.host,
            "url": websocket.url,
            "method": websocket.method,
            "endpoint": websocket.endpoint,
            "view_args": websocket.view_args,
            "remote_addr": websocket.remote_addr,
        })

    client.set_cookie("localhost", "flavour", "lemon")
    async with client.websocket(
        "/inspect/5?tag=a&tag=b",
        headers={"X-Token": "secret"},
        subprotocols=["chat.v2", "chat.v1"],
        scope_base={"client": ("127.0.0.1", 50123)},
    ) as ws:
        seen = await ws.receive_json()
    assert seen == {
        "path": "/inspect/5",
        "full_path": "/inspect/5?tag=a&tag=b",
        "args": {"tag": ["a", "b"]},
        "token": "secret",
        "cookie": "lemon",
        "subprotocols": ["chat.v2", "chat.v1"],
        "scheme": "ws",
        "host": "localhost",
        "url": "ws://localhost/inspect/5?tag=a&tag=b",
        "method": "GET",
        "endpoint": "inspect",
        "view_args": {"item": 5},
        "remote_addr": "127.0.0.1",
    }


async def test_session_is_readable_in_a_websocket(app, client):
    app.secret_key = "test secret"

    @app.post("/login")
    async def login():
        session["user"] = "ada"
        return "ok"

    @app.websocket("/whoami")
    async def whoami():
        await websocket.send(session.get("user", "nobody"))

    async with client.websocket("/whoami") as ws:
        assert await ws.receive() == "nobody"
    await client.post("/login")
    async with client.websocket("/whoami") as ws:
        assert await ws.receive() == "ada"


# -- accepting --------------------------------------------------------------


async def test_accept_sends_headers_and_the_chosen_subprotocol(app, client):
    @app.websocket("/proto")
    async def proto():
        chosen = "chat.v1" if "chat.v1" in websocket.requested_subprotocols else None
        await websocket.accept(headers={"X-Server": "quaver"}, subprotocol=chosen)
        await websocket.send(chosen or "none")

    async with client.websocket("/proto", subprotocols=["chat.v2", "chat.v1"]) as ws:
        assert await ws.receive() == "chat.v1"
        assert ws.accepted
        assert ws.subprotocol == "chat.v1"
        assert ws.accept_headers["X-Server"] == "quaver"
    async with client.websocket("/proto") as ws:
        assert await ws.receive() == "none"
        assert ws.subprotocol is None


async def test_accepting_a_subprotocol_the_client_did_not_offer_fails(app, client):
    @app.websocket("/proto")
    async def proto():
        await websocket.accept(subprotocol="made-up")

    with pytest.raises(ValueError, match="made-up"):
        async with client.websocket("/proto", subprotocols=["chat"]) as ws:
            await ws.receive()


@pytest.mark.parametrize("first", ["send", "receive"])
async def test_first_send_or_receive_accepts_implicitly(app, client, first):
    states = []

    @app.websocket("/implicit")
    async def implicit():
        states.append(websocket.accepted)
        if first == "send":
            await websocket.send("hello")
        else:
            await websocket.send(await websocket.receive())
        states.append(websocket.accepted)

    async with client.websocket("/implicit") as ws:
        if first == "receive":
            await ws.send("hello")
        assert await ws.receive() == "hello"
        assert ws.accepted
    assert states == [False, True]


async def test_accepting_twice_sends_one_accept(app, client):
    @app.websocket("/twice")
    async def twice():
        await websocket.accept(headers={"X-First": "1"})
        await websocket.accept(headers={"X-Second": "2"})
        await websocket.send("ok")

    async with client.websocket("/twice") as ws:
        assert await ws.receive() == "ok"
        assert "X-First" in ws.accept_headers
        assert "X-Second" not in ws.accept_headers


# -- messages and closing ---------------------------------------------------


async def test_json_in_and_out(app, client):
    @app.websocket("/json")
    async def json_echo():
        data = await websocket.receive_json()
        await websocket.send_json(data)
        await websocket.send_json(1, "two", None)
        await websocket.send_json(total=data["n"] * 2)

    async with client.websocket("/json") as ws:
        await ws.send_json({"n": 21, "tags": ["a", "é"]})
        assert await ws.receive_json() == {"n": 21, "tags": ["a", "é"]}
        assert await ws.receive_json() == [1, "two", None]
        assert await ws.receive_json() == {"total": 42}


async def test_send_json_refuses_positional_and_keyword_together(app, client):
    @app.websocket("/json")
    async def both():
        try:
            await websocket.send_json(1, a=2)
        except TypeError:
            await websocket.send("TypeError")

    async with client.websocket("/json") as ws:
        assert await ws.receive() == "TypeError"


async def test_close_code_and_reason_reach_the_client(app, client):
    @app.websocket("/bye")
    async def bye():
        await websocket.send("last words")
        await websocket.close(4001, "see you")

    async with client.websocket("/bye") as ws:
        assert await ws.receive() == "last words"
        with pytest.raises(WebsocketDisconnectError) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (4001, "see you")
        with pytest.raises(WebsocketDisconnectError):  # and it stays closed
            await ws.receive()


async def test_handler_returning_closes_normally(app, client):
    @app.websocket("/once")
    async def once():
        await websocket.send("only")

    async with client.websocket("/once") as ws:
        assert await ws.receive() == "only"
        with pytest.raises(WebsocketDisconnectError) as info:
            await ws.receive()
        assert info.value.code == 1000


async def test_send_after_close_raises_websocket_disconnected(app, client):
    outcome = []

    @app.websocket("/closed")
    async def closed():
        await websocket.accept()
        await websocket.close(1000)
        try:
            await websocket.send("too late")
        except WebsocketDisconnected as error:
            outcome.append(error.code)

    async with client.websocket("/closed") as ws:
        with pytest.raises(WebsocketDisconnectError):
            await ws.receive()
    assert outcome == [1000]


async def test_error_after_accept_closes_with_1011(app, client, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/broken")
    async def broken():
        await websocket.send("about to fail")
        raise RuntimeError("handler bug")

    async with client.websocket("/broken") as ws:
        assert await ws.receive() == "about to fail"
        with pytest.raises(WebsocketDisconnectError) as info:
            await ws.receive()
        assert info.value.code == 1011
    assert "handler bug" in caplog.text


async def test_error_propagates_to_the_test_when_testing(app, client):
    @app.websocket("/broken")
    async def broken():
        await websocket.send("about to fail")
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError, match="handler bug"):
        async with client.websocket("/broken") as ws:
            assert await ws.receive() == "about to fail"
            await ws.receive()


async def test_client_close_code_is_seen_by_the_app(app, client):
    seen = asyncio.Event()
    codes = []

    @app.websocket("/watch")
    async def watch():
        try:
            await websocket.receive()
        finally:
            codes.append(websocket.close_code)
            seen.set()

    async with client.websocket("/watch") as ws:
        await ws.close(4100)
        await asyncio.wait_for(seen.wait(), 5)
    assert codes == [4100]


# -- the test client --------------------------------------------------------


async def test_handler_may_wait_for_the_test_before_accepting(app, client):
    messages: asyncio.Queue[str] = asyncio.Queue()

    @app.post("/publish")
    async def publish():
        await messages.put(await request.get_data(as_text=True))
        return "", 204

    @app.websocket("/feed")
    async def feed():
        while True:
            await websocket.send(await messages.get())

    async with client.websocket("/feed") as ws:
        assert not ws.accepted
        assert (await client.post("/publish", data="news")).status_code == 204
        assert await ws.receive() == "news"


async def test_headers_and_query_string_arguments(app, client):
    @app.websocket("/ws")
    async def handle():
        await websocket.send(f"{websocket.args['page']} {websocket.headers['X-Trace']}")

    async with client.websocket("/ws", headers={"X-Trace": "t1"}, query_string={"page": "2"}) as ws:
        assert await ws.receive() == "2 t1"


async def test_app_rejection_is_not_raised_twice(app, client):
    @app.websocket("/no")
    async def no():
        abort(404)

    async with client.websocket("/no") as ws:
        with pytest.raises(WebsocketResponseError) as info:
            await ws.receive()
        assert info.value.response.status_code == 404
        assert ws.response is info.value.response
    # leaving the block did not raise it again



# -- the wrapper on its own -------------------------------------------------


async def test_websocket_made_directly_calls_the_functions_it_was_given():
    from werkzeug.datastructures import Headers

    from quaver.wrappers import Websocket

    calls = []

    async def receive():
        return "incoming"

    async def send(data):
        calls.append(("send", data))

    async def accept(headers, subprotocol):
        calls.append(("accept", dict(headers), subprotocol))

    async def close(code, reason):
        calls.append(("close", code, reason))

    ws = Websocket(
        "/live", b"room=1", "wss", Headers({"Host": "example.com"}), "", "1.1", ["chat"],
        receive, send, accept, close, scope={},
    )
    assert (ws.url, ws.args["room"], ws.requested_subprotocols) == ("wss://example.com/live?room=1", "1", ["chat"])
    assert await ws.receive() == "incoming"  # accepts first
    await ws.send_json(ok=True)
    await ws.close(4000, "done")
    with pytest.raises(WebsocketDisconnected):
        await ws.receive()
    assert calls == [
        ("accept", {}, None),
        ("send", '{"ok": true}'),
        ("close", 4000, "done"),
    ]
