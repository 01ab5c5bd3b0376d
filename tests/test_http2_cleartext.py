"""HTTP/2 without TLS through ``app.run`` (Hypercorn): the HTTP/1.1 Upgrade to
h2c, and prior knowledge (a client that starts in HTTP/2)."""

from __future__ import annotations

import json
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import httpx
import pytest
from server_process import ServerProcess
from tls_server import free_port

APP = """\
from quaver import Quaver, request

app = Quaver(__name__)

@app.get("/")
async def index():
    return {"http_version": request.http_version, "scheme": request.scheme}
"""


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    directory: Path = tmp_path_factory.mktemp("h2c")
    port = free_port()
    (directory / "app.py").write_text(
        f"{APP}\nif __name__ == '__main__':\n    app.run(host='127.0.0.1', port={port})\n"
    )
    with ServerProcess([sys.executable, "app.py"], cwd=directory) as server:
        server.wait_until_serving(f"http://127.0.0.1:{port}/")
        yield port
        assert server.stop(signal.SIGINT, timeout=10) == 0, server.stderr
        assert "Traceback" not in server.stderr, server.stderr


def test_prior_knowledge_http_2_is_served_in_cleartext(port: int) -> None:
    with httpx.Client(http1=False, http2=True, timeout=5) as http:
        response = http.get(f"http://127.0.0.1:{port}/")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"http_version": "2", "scheme": "http"}


def test_an_http_1_1_upgrade_to_h2c_is_answered_over_http_2(port: int) -> None:
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = connection.initiate_upgrade_connection()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\n\r\n"
        )
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection before answering the upgrade"
            received += chunk
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].startswith(b"HTTP/1.1 101"), head
        sock.sendall(connection.data_to_send())
        status, body, ended = None, b"", False
        pending = rest
        while not ended:
            for event in connection.receive_data(pending) if pending else ():
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == 1:
                    status = dict(event.headers)[b":status"]
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == 1:
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == 1:
                    ended = True
            sock.sendall(connection.data_to_send())
            if not ended:
                pending = sock.recv(65536)
                assert pending, "the server closed the connection before the response ended"
    assert status == b"200"
    assert json.loads(body) == {"http_version": "2", "scheme": "http"}
