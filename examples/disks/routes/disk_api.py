"""``disks_api``: a small JSON API over disks kept in memory.

    GET    /            every disk, oldest first
    GET    /<id>        one disk (404 when there is none)
    POST   /            {"name": "backup", "size_gb": 500} -> 201 and the new disk
    DELETE /<id>        204 (404 when there is none)

Each app that registers the blueprint gets its own, empty, store.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from quaver import Blueprint, current_app, request, url_for

disks_api = Blueprint("disks_api", __name__)


class DiskStore:
    """Disks by id, ids counting up from 1."""

    def __init__(self) -> None:
        self.disks: dict[int, dict[str, Any]] = {}
        self._ids = count(1)

    def add(self, name: str, size_gb: int) -> dict[str, Any]:
        disk: dict[str, Any] = {"id": next(self._ids), "name": name, "size_gb": size_gb}
        self.disks[disk["id"]] = disk
        return disk


@disks_api.record_once
def _give_the_app_a_store(state: Any) -> None:
    state.app.extensions["disks"] = DiskStore()


def _store() -> DiskStore:
    return current_app.extensions["disks"]


def _error(status: int, message: str) -> tuple[dict[str, str], int]:
    return {"error": message}, status


def _invalid(data: Any) -> str | None:
    """Why ``data`` is not a disk to create, or None when it is."""
    if not isinstance(data, dict):
        return "send a JSON object"
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        return "'name' must be a non-empty string"
    size = data.get("size_gb")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        return "'size_gb' must be a positive integer"
    unknown = set(data) - {"name", "size_gb"}
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))}"
    return None


@disks_api.get("/")
async def list_disks() -> list[dict[str, Any]]:
    return list(_store().disks.values())


@disks_api.get("/<int:disk_id>")
async def get_disk(disk_id: int) -> Any:
    disk = _store().disks.get(disk_id)
    if disk is None:
        return _error(404, f"no disk {disk_id}")
    return disk


@disks_api.post("/")
async def create_disk() -> Any:
    data = await request.get_json(silent=True)
    problem = _invalid(data)
    if problem is not None:
        return _error(400, problem)
    disk = _store().add(data["name"].strip(), data["size_gb"])
    return disk, 201, {"Location": url_for(".get_disk", disk_id=disk["id"])}


@disks_api.delete("/<int:disk_id>")
async def delete_disk(disk_id: int) -> Any:
    if _store().disks.pop(disk_id, None) is None:
        return _error(404, f"no disk {disk_id}")
    return "", 204
