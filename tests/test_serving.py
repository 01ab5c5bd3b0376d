"""``app.run()``: Hypercorn in a child process, stopped by signals, reloading, and over TLS."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
import trustme
from server_process import ServerProcess

from quaver import Quaver

APP = """\
import sys
from quaver import Quaver, request
import greeting

app = Quaver(__name__)

@app.after_serving
async def goodbye():
    print("after_serving ran", flush=True)

@app.route("/")
async def index():
    return {{"greeting": greeting.WORD, "http_version": request.http_version, "scheme": request.scheme}}

if __name__ == "__main__":
    app.run({run_args})
"""


def write_program(directory: Path, run_args: str, word: str = "hello") -> Path:
    (directory / "greeting.py").write_text(f"WORD = {word!r}\n")
    (directory / "app.py").write_text(APP.format(run_args=run_args))
    return directory


def assert_clean_exit(server: ServerProcess, code: int) -> None:
    assert code == 0, f"exit code {code}\nstderr:\n{server.stderr}"
    assert "Traceback" not in server.stderr, server.stderr
    assert "after_serving ran" in server.stdout


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_serves_http_1_1_and_stops_cleanly_on_a_signal(tmp_path: Path, free_port: int, stop_signal: int) -> None:
    write_program(tmp_path, f"host='127.0.0.1', port={free_port}")
    url = f"http://127.0.0.1:{free_port}/"
    with ServerProcess([sys.executable, "app.py"], cwd=tmp_path) as server:
        server.wait_until_serving(url)
        with httpx.Client(timeout=5) as http:
            response = http.get(url)
            assert response.http_version == "HTTP/1.1"
            assert response.json() == {"greeting": "hello", "http_version": "1.1", "scheme": "http"}
            assert response.headers["content-type"] == "application/json"
            code = server.stop(stop_signal, timeout=5)  # with the keep-alive connection still open
    assert_clean_exit(server, code)
    assert f" * Running on http://127.0.0.1:{free_port}" in server.stdout


def test_run_defaults_to_127_0_0_1_port_5000_in_its_banner(tmp_path: Path) -> None:
    # Only the banner is checked: port 5000 may be taken on the test machine.
    (tmp_path / "banner.py").write_text(
        textwrap.dedent(
            """\
            import quaver.serving as serving
            from quaver import Quaver

            async def fake_serve(app, config, shutdown_trigger):
                print("bind", config.bind, flush=True)

            import hypercorn.asyncio
            hypercorn.asyncio.serve = fake_serve
            Quaver("banner").run()
            """
        )
    )
    result = subprocess.run([sys.executable, "banner.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert " * Running on http://127.0.0.1:5000 (CTRL + C to quit)" in result.stdout
    assert "bind ['127.0.0.1:5000']" in result.stdout


def test_a_port_in_use_is_reported_without_a_traceback(tmp_path: Path, free_port: int) -> None:
    write_program(tmp_path, f"host='127.0.0.1', port={free_port}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port))
        taken.listen()
        result = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def wait_for_greeting(url: str, expected: str, server: ServerProcess, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = httpx.get(url, timeout=2).json()["greeting"]
        except httpx.TransportError:
            seen = None  # between the old server closing and the new one listening
        if seen == expected:
            return
        time.sleep(0.1)
    raise AssertionError(
        f"still {seen!r}, not {expected!r}, after {timeout}s\nstdout:\n{server.stdout}\nstderr:\n{server.stderr}"
    )


@pytest.mark.parametrize("run_args", ["use_reloader=True", "debug=True"])
def test_the_reloader_restarts_when_an_imported_file_changes(
    tmp_path: Path, free_port: int, run_args: str
) -> None:
    write_program(tmp_path, f"host='127.0.0.1', port={free_port}, {run_args}")
    url = f"http://127.0.0.1:{free_port}/"
    with ServerProcess([sys.executable, "app.py"], cwd=tmp_path) as server:
        assert server.wait_until_serving(url).json()["greeting"] == "hello"
        (tmp_path / "greeting.py").write_text("WORD = 'bonjour'\n")
        wait_for_greeting(url, "bonjour", server)
        assert "Detected change in" in server.stdout and "greeting.py" in server.stdout
        # And again, after the restart: the new process watches as well.
        (tmp_path / "greeting.py").write_text("WORD = 'hallo'\n")
        wait_for_greeting(url, "hallo", server)
        code = server.stop(signal.SIGINT)
    assert_clean_exit(server, code)


def test_without_the_reloader_a_change_is_not_picked_up(tmp_path: Path, free_port: int) -> None:
    write_program(tmp_path, f"host='127.0.0.1', port={free_port}")
    url = f"http://127.0.0.1:{free_port}/"
    with ServerProcess([sys.executable, "app.py"], cwd=tmp_path) as server:
        server.wait_until_serving(url)
        (tmp_path / "greeting.py").write_text("WORD = 'bonjour'\n")
        time.sleep(1.5)  # three times the reloader's polling interval
        assert httpx.get(url).json()["greeting"] == "hello"
        code = server.stop(signal.SIGINT)
    assert_clean_exit(server, code)


def test_the_reloader_restarts_a_program_run_with_dash_m(tmp_path: Path, free_port: int) -> None:
    package = tmp_path / "webapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "greeting.py").write_text("WORD = 'hello'\n")
    (package / "__main__.py").write_text(
        APP.replace("import greeting", "from webapp import greeting").format(
            run_args=f"host='127.0.0.1', port={free_port}, use_reloader=True"
        )
    )
    url = f"http://127.0.0.1:{free_port}/"
    with ServerProcess([sys.executable, "-m", "webapp"], cwd=tmp_path) as server:
        assert server.wait_until_serving(url).json()["greeting"] == "hello"
        (package / "greeting.py").write_text("WORD = 'bonjour'\n")
        wait_for_greeting(url, "bonjour", server)
        code = server.stop(signal.SIGINT)
    assert_clean_exit(server, code)


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 and localhost, its key, and a client context that trusts it."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(certfile))
    issued.private_key_pem.write_to_path(str(keyfile))
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    return certfile, keyfile, client_context


def test_certfile_and_keyfile_serve_https_with_http_2(tmp_path: Path, free_port: int, tls) -> None:
    certfile, keyfile, client_context = tls
    write_program(tmp_path, f"host='127.0.0.1', port={free_port}, certfile={str(certfile)!r}, keyfile={str(keyfile)!r}")
    url = f"https://127.0.0.1:{free_port}/"
    with ServerProcess([sys.executable, "app.py"], cwd=tmp_path) as server:
        server.wait_until_serving(url, verify=client_context)
        with httpx.Client(http2=True, verify=client_context, timeout=5) as http:
            response = http.get(url)
            assert response.http_version == "HTTP/2"
            assert response.json() == {"greeting": "hello", "http_version": "2", "scheme": "https"}
        with httpx.Client(verify=client_context, timeout=5) as http:
            response = http.get(f"https://localhost:{free_port}/")
            assert response.http_version == "HTTP/1.1"
            assert response.json()["scheme"] == "https"
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the certificate
            httpx.get(url, timeout=5)
        code = server.stop(signal.SIGINT)
    assert_clean_exit(server, code)
    assert f" * Running on https://127.0.0.1:{free_port}" in server.stdout


def test_the_quaver_run_command_serves_the_app(tmp_path: Path, free_port: int) -> None:
    write_program(tmp_path, "")
    command = [str(Path(sys.executable).parent / "quaver"), "--app", "app:app", "run", "--port", str(free_port)]
    url = f"http://127.0.0.1:{free_port}/"
    with ServerProcess(command, cwd=tmp_path) as server:
        assert server.wait_until_serving(url).json()["greeting"] == "hello"
        code = server.stop(signal.SIGINT)
    assert_clean_exit(server, code)


async def test_run_task_serves_in_the_callers_loop_until_its_shutdown_trigger(free_port: int) -> None:
    app = Quaver(__name__)
    served: list[str] = []

    @app.before_serving
    async def hello() -> None:
        served.append("before_serving")

    @app.after_serving
    async def goodbye() -> None:
        served.append("after_serving")

    @app.route("/")
    async def index() -> str:
        return "served beside other work"

    stop = asyncio.Event()
    server = asyncio.create_task(app.run_task(port=free_port, shutdown_trigger=stop.wait))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    response = await client.get(f"http://127.0.0.1:{free_port}/")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
        assert response.status_code == 200
        assert response.text == "served beside other work"
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    assert served == ["before_serving", "after_serving"]
