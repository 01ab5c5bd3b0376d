"""examples/disks: the in-memory disks API, through the test client and as ``python app.py``."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
DISKS = ROOT / "examples" / "disks"

PROGRAM = """\
from quaver import Quaver
from routes.disk_api import disks_api
app = Quaver(__name__)
app.register_blueprint(disks_api, url_prefix='/api/disks')
if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)
"""


def test_the_example_program_is_exactly_the_documented_one() -> None:
    assert (DISKS / "app.py").read_text() == PROGRAM


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example's ``app`` module, imported afresh (so with an empty store)."""
    monkeypatch.syspath_prepend(str(DISKS))
    for name in ("routes", "routes.disk_api"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    spec = importlib.util.spec_from_file_location("disks_example", DISKS / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in ("routes", "routes.disk_api"):
        sys.modules.pop(name, None)


@pytest.fixture
def client(example: Any) -> Any:
    return example.app.test_client()


async def test_the_blueprint_is_disks_api_under_api_disks(example: Any) -> None:
    assert example.disks_api.name == "disks_api"
    assert "disks_api" in example.app.blueprints
    rules = {rule.rule for rule in example.app.url_map.iter_rules() if rule.endpoint.startswith("disks_api.")}
    assert rules == {"/api/disks/", "/api/disks/<int:disk_id>"}


async def test_the_list_starts_empty(client: Any) -> None:
    response = await client.get("/api/disks/")
    assert response.status_code == 200
    assert await response.get_json() == []


async def test_create_then_get_then_list(client: Any) -> None:
    created = await client.post("/api/disks/", json={"name": "backup", "size_gb": 500})
    assert created.status_code == 201
    disk = await created.get_json()
    assert disk == {"id": 1, "name": "backup", "size_gb": 500}
    assert created.headers["Location"] == "/api/disks/1"

    second = await (await client.post("/api/disks/", json={"name": "scratch", "size_gb": 20})).get_json()
    assert second["id"] == 2

    fetched = await client.get("/api/disks/1")
    assert fetched.status_code == 200
    assert await fetched.get_json() == disk
    listed = await (await client.get("/api/disks/")).get_json()
    assert listed == [disk, second]


async def test_a_missing_disk_is_404_in_json(client: Any) -> None:
    response = await client.get("/api/disks/42")
    assert response.status_code == 404
    assert (await response.get_json())["error"]


async def test_a_non_integer_id_is_404(client: Any) -> None:
    assert (await client.get("/api/disks/abc")).status_code == 404


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "headers": {"Content-Type": "application/json"}},
        {"data": "name=x&size_gb=1"},
        {"json": ["a", "list"]},
        {"json": {"size_gb": 10}},
        {"json": {"name": "", "size_gb": 10}},
        {"json": {"name": "x"}},
        {"json": {"name": "x", "size_gb": -1}},
        {"json": {"name": "x", "size_gb": "10"}},
        {"json": {"name": "x", "size_gb": True}},
        {"json": {"name": "x", "size_gb": 1, "colour": "red"}},
    ],
    ids=[
        "malformed-json", "form", "not-an-object", "no-name", "empty-name", "no-size",
        "negative-size", "size-as-text", "size-as-bool", "unknown-field",
    ],
)
async def test_bad_input_is_400_and_creates_nothing(client: Any, kwargs: dict[str, Any]) -> None:
    response = await client.post("/api/disks/", **kwargs)
    assert response.status_code == 400
    assert (await response.get_json())["error"]
    assert await (await client.get("/api/disks/")).get_json() == []


async def test_delete_removes_the_disk(client: Any) -> None:
    await client.post("/api/disks/", json={"name": "old", "size_gb": 1})
    deleted = await client.delete("/api/disks/1")
    assert deleted.status_code == 204
    assert await deleted.get_data() == b""
    assert (await client.get("/api/disks/1")).status_code == 404
    assert (await client.delete("/api/disks/1")).status_code == 404


async def test_methods_not_offered_get_405(client: Any) -> None:
    response = await client.put("/api/disks/1", json={"name": "x", "size_gb": 1})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "DELETE"}


async def test_each_app_has_its_own_store(example: Any) -> None:
    from quaver import Quaver

    other = Quaver("other")
    other.register_blueprint(example.disks_api, url_prefix="/api/disks")
    await example.app.test_client().post("/api/disks/", json={"name": "mine", "size_gb": 1})
    assert await (await other.test_client().get("/api/disks/")).get_json() == []


# -- as a real process ------------------------------------------------------


@pytest.fixture
def program_dir(tmp_path: Path, free_port: int) -> Path:
    """A copy of the example whose app.py differs only in host and port."""
    text = PROGRAM.replace("host='0.0.0.0', port=5000", f"host='127.0.0.1', port={free_port}")
    assert text != PROGRAM
    (tmp_path / "app.py").write_text(text)
    shutil.copytree(DISKS / "routes", tmp_path / "routes", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_python_app_py_serves_the_api_and_stops_cleanly(program_dir: Path, free_port: int, stop_signal: int) -> None:
    base = f"http://127.0.0.1:{free_port}/api/disks/"
    with ServerProcess([sys.executable, "app.py"], cwd=program_dir) as server:
        server.wait_until_serving(base)
        with httpx.Client(timeout=5) as http:
            assert http.get(base).json() == []
            created = http.post(base, json={"name": "backup", "size_gb": 500})
            assert created.status_code == 201
            assert created.json() == {"id": 1, "name": "backup", "size_gb": 500}
            assert http.get(base + "1").json() == created.json()
            assert http.get(base + "2").status_code == 404
            assert http.post(base, json={"size_gb": 1}).status_code == 400
            assert http.delete(base + "1").status_code == 204
            assert http.get(base).json() == []
            # A keep-alive connection is still open while the server is told to stop.
            code = server.stop(stop_signal, timeout=5)
        assert code == 0, server.stderr
        assert "Traceback" not in server.stderr, server.stderr
        assert f"http://127.0.0.1:{free_port}" in server.stdout
