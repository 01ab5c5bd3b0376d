"""The reviews blueprint: posting a rating for a film."""

from __future__ import annotations

from typing import Any, TypeGuard

from database import get_database

from quaver import Blueprint, abort, request

blueprint = Blueprint("reviews", __name__)

LOWEST, HIGHEST = 1, 5


def _whole_number(value: Any) -> TypeGuard[int]:
    # JSON's true and false arrive as bools, which Python also counts as ints.
    return isinstance(value, int) and not isinstance(value, bool)


@blueprint.post("/")
async def add_review() -> tuple[dict[str, Any], int]:
    """Takes ``{"film_id": 12, "rating": 4}``; answers 201 with the review,
    400 when the body is not that, 404 when there is no such film."""
    data = await request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, 'Send a JSON object such as {"film_id": 12, "rating": 4}.')
    film_id, rating = data.get("film_id"), data.get("rating")
    if not _whole_number(film_id):
        abort(400, "film_id must be a whole number.")
    if not _whole_number(rating) or not LOWEST <= rating <= HIGHEST:
        abort(400, f"rating must be a whole number from {LOWEST} to {HIGHEST}.")
    review = await get_database().add_review(film_id, rating)
    if review is None:
        abort(404, f"There is no film {film_id}.")
    return review, 201
