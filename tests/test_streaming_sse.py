"""Server-Sent Events: ServerSentEvent's encoding, Response.event_stream's
headers and keep-alive comments, and examples/events through Uvicorn with
httpx."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import httpx
import pytest
from test_streaming import uvicorn_serving

from quaver import Quaver, Response, request, stream_with_context
from quaver.datastructures import ServerSentEvent

EVENTS = Path(__file__).resolve().parent.parent / "examples" / "events"


def test_event_fields_are_lines_ending_with_a_blank_line() -> None:
    event = ServerSentEvent("hello", event="greeting", id="7", retry=1500)
    assert event.encode() == b"event: greeting\nid: 7\nretry: 1500\ndata: hello\n\n"


def test_multiline_data_and_comments_become_one_line_each() -> None:
    assert ServerSentEvent("one\ntwo\r\nthree\rfour").encode() == b"data: one\ndata: two\ndata: three\ndata: four\n\n"
    assert ServerSentEvent(comment="a\nb").encode() == b": a\n: b\n\n"
    assert ServerSentEvent("").encode() == b"data: \n\n"
    assert ServerSentEvent("caf\u00e9").encode() == "data: caf\u00e9\n\n".encode()


def test_line_breaks_in_event_or_id_are_refused() -> None:
    with pytest.raises(ValueError):
        ServerSentEvent("x", event="bad\nname")
    with pytest.raises(ValueError):
        ServerSentEvent("x", id="1\r2")
    with pytest.raises(TypeError):
        ServerSentEvent({"not": "a string"})  # type: ignore[arg-type]


async def test_event_stream_headers_and_body(app: Quaver, client) -> None:
    @app.get("/events")
    async def events():
        async def stream():
            yield ServerSentEvent("first", id="1")
            yield "plain text data"
            yield b"data: already encoded\n\n"

        return Response.event_stream(stream())

    response = await client.get("/events")
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in response.headers
    assert await response.get_data() == b"id: 1\ndata: first\n\ndata: plain text data\n\ndata: already encoded\n\n"


async def test_event_stream_of_a_sync_generator(app: Quaver, client) -> None:
    @app.get("/events")
    async def events():
        return Response.event_stream(ServerSentEvent(str(n)) for n in range(3))

    assert await (await client.get("/events")).get_data() == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_event_stream_is_not_cut_by_response_timeout(app: Quaver, client) -> None:
    app.config["RESPONSE_TIMEOUT"] = 0.05

    @app.get("/events")
    async def events():
        async def stream():
            for n in range(3):
                await asyncio.sleep(0.04)
                yield str(n)

        return Response.event_stream(stream(), keep_alive=None)

    assert await (await client.get("/events")).get_data() == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


async def test_keep_alive_comments_fill_the_silence_without_disturbing_the_generator(app: Quaver, client) -> None:
    @app.get("/events")
    async def events():
        async def stream():
            yield "before"
            await asyncio.sleep(0.35)  # quiet: keep-alives go out meanwhile, this sleep is not cut short
            yield "after"

        return Response.event_stream(stream(), keep_alive=0.1)

    body = await (await client.get("/events")).get_data()
    assert body.startswith(b"data: before\n\n")
    assert body.endswith(b"data: after\n\n")
    assert body.count(b": keep-alive\n\n") >= 2


async def test_an_error_in_the_events_reaches_the_stream(app: Quaver) -> None:
    async def stream():
        yield "ok"
        raise LookupError("gone")

    response = Response.event_stream(stream(), keep_alive=5)
    chunks = response.iter_body()
    assert await chunks.__anext__() == b"data: ok\n\n"
    with pytest.raises(LookupError):
        await chunks.__anext__()


async def test_event_stream_with_context_sees_the_request(app: Quaver, client) -> None:
    @app.get("/events")
    async def events():
        @stream_with_context
        async def stream():
            yield ServerSentEvent(request.args["topic"], event="topic")

        return Response.event_stream(stream(), keep_alive=1)

    assert await (await client.get("/events?topic=news")).get_data() == b"event: topic\ndata: news\n\n"


async def test_client_leaving_an_event_stream_closes_it(app: Quaver, free_port: int) -> None:
    closed = asyncio.Event()

    @app.get("/events")
    async def events():
        async def stream():
            try:
                yield "hello"
                await asyncio.Event().wait()
            finally:
                closed.set()

        return Response.event_stream(stream(), keep_alive=0.05)

    async with uvicorn_serving(app, free_port) as url:
        before = asyncio.all_tasks()
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", url + "/events") as response:
                lines = response.aiter_lines()
                assert await asyncio.wait_for(lines.__anext__(), 5) == "data: hello"
                assert await asyncio.wait_for(lines.__anext__(), 5) == ""
                assert await asyncio.wait_for(lines.__anext__(), 5) == ": keep-alive"
        await asyncio.wait_for(closed.wait(), 5)
        for _ in range(100):
            running = {task for task in asyncio.all_tasks() - before if not task.done()} - {asyncio.current_task()}
            if not running:
                break
            await asyncio.sleep(0.02)
        assert running == set()


# --- examples/events ---------------------------------------------------------------------------


@pytest.fixture
def events_example(monkeypatch):
    spec = importlib.util.spec_from_file_location("events_example", EVENTS / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "events_example", module)
    spec.loader.exec_module(module)
    module.app.config["TESTING"] = True
    return module


async def test_example_page_listens_with_event_source(events_example) -> None:
    response = await events_example.app.test_client().get("/")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'new EventSource("/events")' in page
    assert 'addEventListener("announcement"' in page


async def test_example_rejects_an_empty_announcement(events_example) -> None:
    response = await events_example.app.test_client().post("/announce", form={"text": "   "})
    assert response.status_code == 400


async def _next_event(lines) -> dict[str, str]:
    """The fields of the next event (comments kept under ':'), read from SSE lines."""
    fields: dict[str, str] = {}
    while True:
        line = await asyncio.wait_for(lines.__anext__(), 5)
        if line == "":
            if fields:
                return fields
            continue
        name, _, value = line.partition(":")
        fields[name or ":"] = value[1:] if value.startswith(" ") else value


async def test_example_announcements_reach_every_listener_and_reconnects_catch_up(
    events_example, free_port: int
) -> None:
    app = events_example.app
    app.config["SSE_KEEP_ALIVE"] = 0.2
    async with uvicorn_serving(app, free_port) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        async with client.stream("GET", "/events") as ada, client.stream("GET", "/events") as bob:
            assert ada.headers["content-type"] == "text/event-stream"
            assert ada.headers["cache-control"] == "no-cache"
            ada_lines, bob_lines = ada.aiter_lines(), bob.aiter_lines()
            assert await _next_event(ada_lines) == {":": "connected", "retry": "2000"}
            assert await _next_event(bob_lines) == {":": "connected", "retry": "2000"}

            posted = await client.post("/announce", data={"text": "doors open at <b>nine</b>"})
            assert posted.status_code == 201
            expected = {
                "event": "announcement",
                "id": str(posted.json()["id"]),
                "data": '{"text": "doors open at <b>nine</b>"}',
            }
            assert await _next_event(ada_lines) == expected
            assert await _next_event(bob_lines) == expected
            assert await _next_event(ada_lines) == {":": "keep-alive"}  # nothing new for a while
            assert len(events_example.announcements.listeners) == 2

            second = (await client.post("/announce", data={"text": "second"})).json()["id"]
        for _ in range(100):  # both left: their generators were closed and unsubscribed
            if not events_example.announcements.listeners:
                break
            await asyncio.sleep(0.02)
        assert events_example.announcements.listeners == set()

        async with client.stream("GET", "/events", headers={"Last-Event-ID": str(posted.json()["id"])}) as again:
            lines = again.aiter_lines()
            await _next_event(lines)  # connected
            missed = await _next_event(lines)
            assert (missed["id"], missed["data"]) == (str(second), '{"text": "second"}')


async def test_event_stream_headers_arrive_before_the_first_event(free_port: int) -> None:
    """A browser's EventSource opens on the headers: they must not wait for an event."""
    app = Quaver(__name__)
    release = asyncio.Event()

    @app.get("/events")
    async def events():
        async def later():
            await release.wait()
            yield ServerSentEvent("now")

        return Response.event_stream(later(), keep_alive=None)

    async with uvicorn_serving(app, free_port) as url:
        async with httpx.AsyncClient(timeout=10) as client:
            async with asyncio.timeout(5):
                stream = client.stream("GET", f"{url}/events")
                response = await stream.__aenter__()
            try:
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                release.set()
                chunks = response.aiter_bytes()
                assert await chunks.__anext__() == b"data: now\n\n"
            finally:
                release.set()
                await stream.__aexit__(None, None, None)
