"""HTTP/3: ``app.run(certfile=, keyfile=)`` also serves QUIC when aioquic is
installed, and an aioquic HTTP/3 client gets the app's answer."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from aioquic.asyncio import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent
from tls_server import serve_over_tls

APP = """\
from quaver import Quaver, request

app = Quaver(__name__)

@app.post("/hello")
async def hello():
    data = await request.get_json()
    return {"hello": data["name"], "http_version": request.http_version, "scheme": request.scheme}, 201
"""


class H3Client(QuicConnectionProtocol):
    """Sends one request per stream and collects each stream's headers and body."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.answers: dict[int, tuple[list[tuple[bytes, bytes]], bytearray, asyncio.Future[None]]] = {}

    async def request(self, method: str, authority: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]):
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, [
            (b":method", method.encode()), (b":scheme", b"https"), (b":authority", authority.encode()),
            (b":path", path.encode()), *headers,
        ])
        self.h3.send_data(stream_id, body, end_stream=True)
        done = asyncio.get_running_loop().create_future()
        self.answers[stream_id] = ([], bytearray(), done)
        self.transmit()
        await asyncio.wait_for(done, 10)
        answer_headers, answer_body, _ = self.answers.pop(stream_id)
        return dict(answer_headers), bytes(answer_body)

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self.h3.handle_event(event):
            self.h3_event_received(h3_event)

    def h3_event_received(self, event: H3Event) -> None:
        if isinstance(event, (HeadersReceived, DataReceived)) and event.stream_id in self.answers:
            headers, body, done = self.answers[event.stream_id]
            if isinstance(event, HeadersReceived):
                headers.extend(event.headers)
            else:
                body.extend(event.data)
            if event.stream_ended and not done.done():
                done.set_result(None)


async def h3_post(port: int, cafile: Path, path: str, body: bytes) -> tuple[dict[bytes, bytes], bytes]:
    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
    configuration.load_verify_locations(str(cafile))
    async with connect("127.0.0.1", port, configuration=configuration, create_protocol=H3Client) as client:
        return await client.request("POST", f"localhost:{port}", path, body, [(b"content-type", b"application/json")])


def test_an_http_3_client_gets_the_apps_answer_over_quic(tmp_path: Path) -> None:
    with serve_over_tls(tmp_path, APP) as (server, port, context):
        posting = h3_post(port, tmp_path / "ca.pem", "/hello", b'{"name": "quic"}')
        headers, body = asyncio.run(asyncio.wait_for(posting, 15))
        assert headers[b":status"] == b"201"
        assert httpx.Response(200, content=body).json() == {"hello": "quic", "http_version": "3", "scheme": "https"}
        # the TCP side advertises HTTP/3 to browsers
        with httpx.Client(verify=context, timeout=5) as http:
            answer = http.post(f"https://127.0.0.1:{port}/hello", json={"name": "tcp"})
            assert f'h3=":{port}"' in answer.headers["alt-svc"]
        assert "HTTP/3 (QUIC, UDP port" in server.stdout
        assert server.stop(signal.SIGINT, timeout=10) == 0
        assert "Traceback" not in server.stderr, server.stderr


def test_http3_false_serves_tcp_only(tmp_path: Path) -> None:
    with serve_over_tls(tmp_path, APP, run_args=", http3=False") as (server, port, context):
        with httpx.Client(verify=context, timeout=5) as http:
            response = http.post(f"https://127.0.0.1:{port}/hello", json={"name": "tcp"})
        assert response.status_code == 201
        assert "alt-svc" not in response.headers
        assert "HTTP/3 off (http3=False)" in server.stdout
        assert server.stop(signal.SIGINT, timeout=10) == 0
