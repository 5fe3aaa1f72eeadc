"""HubSpot's error bodies, as the sandbox answers them.

Every API error is ``{"status": "error", "message", "correlationId",
"category", ...}``; a refused property value nests HubSpot's per-property
problems as JSON inside the message (``Property values were not valid:
[{"isValid": false, "message": ..., "error": "PROPERTY_DOESNT_EXIST", ...}]``).
Batch answers with per-record problems carry them under ``errors`` with the
ids concerned in ``context.ids``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ApiError", "PropertyProblem", "invalid_properties", "record_error"]

_VALUES_PREFIX = "Property values were not valid: "


@dataclass(frozen=True)
class PropertyProblem:
    """One refused property value."""

    name: str
    code: str
    message: str

    def as_hubspot(self) -> dict[str, Any]:
        """The entry HubSpot lists in its ``Property values were not valid`` message."""
        return {
            "isValid": False,
            "message": self.message,
            "error": self.code,
            "name": self.name,
            "localizedErrorMessage": self.message,
        }


class ApiError(Exception):
    """A request refused with HubSpot's error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: Sequence[dict[str, Any]] = (),
        context: dict[str, Any] | None = None,
        sub_category: str | None = None,
    ) -> None:
        self.status = status
        self.category = category
        self.message = message
        self.errors = list(errors)
        self.context = context
        self.sub_category = sub_category
        super().__init__(f"{status} {category}: {message}")

    def body(self, correlation_id: str) -> dict[str, Any]:
        """The JSON body HubSpot sends with this error."""
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        return body


def invalid_properties(problems: Sequence[PropertyProblem]) -> ApiError:
    """The 400 VALIDATION_ERROR for refused property values."""
    listed = json.dumps([p.as_hubspot() for p in problems], separators=(",", ":"))
    return ApiError(
        400,
        "VALIDATION_ERROR",
        _VALUES_PREFIX + listed,
        errors=[
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    )


def record_error(category: str, message: str, ids: Sequence[str]) -> dict[str, Any]:
    """One entry of a 207 multi-status ``errors`` list."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"ids": list(ids)},
    }
