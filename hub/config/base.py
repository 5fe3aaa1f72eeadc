"""The base of every config model: unknown keys are errors, not ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = [
    "StrictModel",
]


class StrictModel(BaseModel):
    """A config model that refuses keys it does not know (a typo is an error)."""

    model_config = ConfigDict(extra="forbid")
