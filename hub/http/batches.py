"""Cutting a long list into the batches a product takes in one call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

__all__ = ["chunks"]

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``size`` items: a product's batch or ``IN (...)`` limit."""
    if size <= 0:
        raise ValueError("a batch size must be positive")
    for start in range(0, len(items), size):
        yield items[start : start + size]
