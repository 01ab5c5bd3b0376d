"""The films blueprint: the list of films and each film on its own."""

from __future__ import annotations

from typing import Any

from database import get_database

from quaver import Blueprint, abort, request

blueprint = Blueprint("films", __name__)

# No film is older or newer than these; they keep a filter within the database's integers.
EARLIEST, LATEST = -10_000, 10_000


@blueprint.get("/")
async def list_films() -> list[dict[str, Any]]:
    """Every film, by id; ``?year.gt=1999`` keeps those made after 1999."""
    year_gt = request.args.get("year.gt")
    if year_gt is None:
        return await get_database().films()
    try:
        year = int(year_gt)
    except ValueError:
        abort(400, f"year.gt must be a year, not {year_gt!r}.")
    return await get_database().films(year_gt=max(EARLIEST, min(year, LATEST)))


@blueprint.get("/<int:film_id>/")
async def show_film(film_id: int) -> dict[str, Any]:
    """One film, or 404."""
    film = await get_database().film(film_id)
    if film is None:
        abort(404, f"There is no film {film_id}.")
    return film
