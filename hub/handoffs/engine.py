"""Engine primitives shared by the handoffs: decisions, counts, fingerprints.

A handoff runs in two steps per batch. ``plan`` only reads (link store, then
the target product's stamped ids) and returns one :class:`Decision` per
record, saying what would happen and why. ``apply`` carries the decisions out
and records each write before the batch's cursor moves on.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handoff_hub.hub.errors import TransientError

__all__ = [
    "BatchReport",
    "Counts",
    "Decision",
    "Preview",
    "Verdict",
    "fingerprint",
    "raise_if_unsure",
]


class Verdict(StrEnum):
    """What a handoff decided for one source record."""

    CREATE = "create"
    RECOVER = "recover"
    FINISH = "finish"
    UPDATE = "update"
    CLOSE = "close"
    SKIP = "skip"
    FAIL = "fail"


@dataclass(frozen=True)
class Preview:
    """What a planned write would carry, for ``hub plan``; computed only when planning.

    ``values`` are read by people (``budget: EUR 120,000.00``), in the order shown;
    ``fields`` are the product's fields as they would be sent to ``system``.
    """

    system: str
    values: Mapping[str, str]
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The plan for one source record."""

    verdict: Verdict
    source_id: str
    label: str
    reason: str
    target: str | None = None
    preview: Preview | None = field(default=None, compare=False)


class Counts(Counter[str]):
    """Per-run tallies: seen, created, recovered, skipped, failed, ..."""

    def as_dict(self) -> dict[str, int]:
        """Plain dict for storage and JSON."""
        return {k: int(v) for k, v in sorted(self.items())}


@dataclass
class BatchReport:
    """What one batch did: counts plus one decision per record."""

    counts: Counts = field(default_factory=Counts)
    decisions: list[Decision] = field(default_factory=list)


def fingerprint(value: Mapping[str, Any] | None) -> str | None:
    """Stable short hash of a payload, for before/after in the audit trail."""
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def raise_if_unsure(
    unsure: Sequence[tuple[str, BaseException]],
    report: BatchReport,
    *,
    what: str,
    tells: str,
    system: str,
) -> None:
    """After the rest of a batch is done, fail it for the writes whose answer was lost.

    ``unsure`` pairs a record id with the transient error of a write that may
    or may not have gone through; the batch then runs again from its
    checkpoint, where ``tells`` (a stamp, the item's comments) shows which did.
    """
    if not unsure:
        return
    report.counts["unsure"] += len(unsure)
    record, cause = unsure[0]
    raise TransientError(
        f"{len(unsure)} {what} may or may not have gone through (e.g. {record}: {cause}); "
        f"the rest of the batch is done, and the batch runs again from its checkpoint, "
        f"where {tells} tells",
        system=system,
    )
