"""``hub history`` (being written)."""

from __future__ import annotations

__all__ = ["history_command"]


def history_command() -> None:
    """What the hub wrote, where, when and in which run."""
    raise NotImplementedError
