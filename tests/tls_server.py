"""A Quaver program served by ``app.run(certfile=, keyfile=)`` in a child
process, with a certificate made for the test by trustme."""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trustme
from server_process import ServerProcess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_over_tls(
    directory: Path, app_source: str, run_args: str = ""
) -> Iterator[tuple[ServerProcess, int, ssl.SSLContext]]:
    """Write ``app_source`` (defining ``app``) to ``directory``, run it with
    ``app.run`` over TLS on a free port, and yield (server, port, a client
    context trusting the certificate); ``directory / "ca.pem"`` is the
    authority's certificate. The process ends when the block does."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(certfile))
    issued.private_key_pem.write_to_path(str(keyfile))
    authority.cert_pem.write_to_path(str(directory / "ca.pem"))  # for clients that load a file (aioquic)
    port = free_port()
    program = (
        f"{app_source}\n\nif __name__ == '__main__':\n"
        f"    app.run(host='127.0.0.1', port={port}, certfile={str(certfile)!r}, keyfile={str(keyfile)!r}{run_args})\n"
    )
    (directory / "app.py").write_text(program)
    context = ssl.create_default_context()
    authority.configure_trust(context)
    with ServerProcess([sys.executable, "app.py"], cwd=directory) as server:
        server.wait_until_serving(f"https://127.0.0.1:{port}/", verify=context)
        yield server, port, context


