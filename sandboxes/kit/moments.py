"""Random moments for seeded records: when each was made and last changed."""

from __future__ import annotations

import datetime as dt
import random

__all__ = ["moment_after", "moment_before"]


def moment_before(
    rng: random.Random, anchor: dt.datetime, days: int, *, at_least_seconds: int = 1
) -> dt.datetime:
    """A moment within ``days`` before ``anchor`` (not closer than ``at_least_seconds``)."""
    seconds = rng.randrange(at_least_seconds, days * 86400)
    return anchor - dt.timedelta(seconds=seconds, milliseconds=rng.randrange(1000))


def moment_after(rng: random.Random, created: dt.datetime, anchor: dt.datetime) -> dt.datetime:
    """A moment between ``created`` and ``anchor``: a record's last change."""
    span = max(1, int((anchor - created).total_seconds()))
    return created + dt.timedelta(seconds=rng.randrange(span), milliseconds=rng.randrange(1000))
