"""A bare HTTP/2 client on the h2 package, for tests that need to see frames
httpx hides: PUSH_PROMISE, pushed streams, and 103 informational responses."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.settings


@dataclass
class Stream:
    """What arrived on one stream: informational responses, the response, its body."""

    request_headers: dict[str, str] = field(default_factory=dict)  # of a pushed stream: the promised request
    informational: list[list[tuple[str, str]]] = field(default_factory=list)  # header pairs, repeats kept
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    ended: bool = False


def h2_get(
    port: int, context: ssl.SSLContext, path: str, enable_push: bool = True, timeout: float = 10
) -> dict[int, Stream]:
    """GET ``path`` over TLS on 127.0.0.1:``port`` and return every stream by id:
    1 is the request's own, the others are pushed. Returns once all have ended."""
    context.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            assert sock.selected_alpn_protocol() == "h2"
            config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
            connection = h2.connection.H2Connection(config)
            connection.initiate_connection()
            connection.update_settings({h2.settings.SettingCodes.ENABLE_PUSH: int(enable_push)})
            connection.send_headers(
                1,
                [(":method", "GET"), (":path", path), (":scheme", "https"), (":authority", f"127.0.0.1:{port}")],
                end_stream=True,
            )
            sock.sendall(connection.data_to_send())
            streams: dict[int, Stream] = {1: Stream()}
            while not all(stream.ended for stream in streams.values()):
                data = sock.recv(65536)
                if not data:
                    raise AssertionError(f"the server closed the connection; got so far: {streams}")
                for event in connection.receive_data(data):
                    if isinstance(event, h2.events.PushedStreamReceived):
                        streams[event.pushed_stream_id] = Stream(request_headers=dict(event.headers))
                    elif isinstance(event, h2.events.InformationalResponseReceived):
                        streams[event.stream_id].informational.append(list(event.headers))
                    elif isinstance(event, h2.events.ResponseReceived):
                        streams[event.stream_id].headers = dict(event.headers)
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id].body += event.data
                        connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        streams[event.stream_id].ended = True
                    elif isinstance(event, h2.events.StreamReset):
                        raise AssertionError(f"stream {event.stream_id} was reset: {event.error_code!r}")
                sock.sendall(connection.data_to_send())
            connection.close_connection()
            sock.sendall(connection.data_to_send())
            return streams
