"""Reading the sandbox's requests (query parameters, JSON bodies) as HubSpot reads them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from handoff_hub.sandboxes.hubspot.errors import ApiError

__all__ = ["body", "bool_param", "int_param", "list_param"]


def int_param(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter, or HubSpot's refusal of another value."""
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be a whole number") from None


def bool_param(request: Request, name: str) -> bool:
    """A ``true`` / ``false`` query parameter (absent: false)."""
    value = request.query_params.get(name)
    if value is None:
        return False
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ApiError(400, "VALIDATION_ERROR", f"{name} must be true or false")


def list_param(request: Request, name: str) -> list[str] | None:
    """A list parameter, comma-separated or repeated (``properties=a&properties=b``)."""
    values = request.query_params.getlist(name)
    names = [item for value in values for item in value.split(",") if item]
    return names or None


async def body(request: Request) -> Any:
    """The JSON body, None when empty; HubSpot's 400 for one that is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}") from None
