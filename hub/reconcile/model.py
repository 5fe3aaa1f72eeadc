"""What reconciliation finds: discrepancies by kind, spooled to disk as they are found.

A reconcile of a large CRM finds its discrepancies while it streams pages, so
they are written to a spool (JSON lines in a temporary file) and only counted
in memory. Reports read the spool back once the counts are known, which keeps
memory flat however many records there are.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import IO, Any

__all__ = ["KIND_TITLES", "Discrepancy", "Kind", "ReconcileResult", "Spool", "fail_on_kinds"]


class Kind(StrEnum):
    """The kinds of discrepancy, in report order."""

    WON_WITHOUT_PROJECT = "won_without_project"
    MORE_PROJECTS = "more_projects_than_rules"
    FEWER_PROJECTS = "fewer_projects_than_rules"
    PROJECT_DEAL_GONE = "project_deal_gone"
    PROJECT_DEAL_NOT_WON = "project_deal_not_won"
    LINK_TO_DELETED = "link_to_deleted"
    FIELD_DRIFT = "field_drift"
    RISK_WITHOUT_TASK = "risk_without_task"
    FEEDBACK_WITHOUT_LEAD = "feedback_without_lead"
    UNREADABLE = "unreadable_record"


def fail_on_kinds(names: str | Sequence[str] | None) -> list[Kind]:
    """The kinds ``--fail-on`` (or a flow's ``fail_on``) names: comma-separated, or ``any``.

    Raises:
        ValueError: A name is no kind; the message lists the known ones.
    """
    if isinstance(names, str):
        names = names.split(",")
    wanted = [n.strip() for n in names or () if n.strip()]
    if "any" in wanted:
        return list(Kind)
    known = {k.value: k for k in Kind}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; known: any, {', '.join(known)}")
    return [known[n] for n in wanted]


KIND_TITLES: dict[Kind, str] = {
    Kind.WON_WITHOUT_PROJECT: "Won deal without a project",
    Kind.MORE_PROJECTS: "Deal with more projects than its template rules give",
    Kind.FEWER_PROJECTS: "Deal with fewer projects than its template rules give",
    Kind.PROJECT_DEAL_GONE: "Project whose deal is gone",
    Kind.PROJECT_DEAL_NOT_WON: "Project whose deal is no longer won",
    Kind.LINK_TO_DELETED: "Link to a deleted record",
    Kind.FIELD_DRIFT: "Field drift between deal and project",
    Kind.RISK_WITHOUT_TASK: "Risk without its CRM task",
    Kind.FEEDBACK_WITHOUT_LEAD: "Feedback without its lead",
    Kind.UNREADABLE: "Record the mapping cannot read",
}


@dataclass(frozen=True)
class Discrepancy:
    """One disagreement between the systems, with both sides' values and a fix.

    ``crm_ref``/``pm_ref`` are record ids (or keys) in each system; ``field`` and
    the two values are set for field drift (values as text, as an admin reads
    them). ``fixable`` says whether ``--fix`` repairs it; otherwise ``fix`` is
    advice for a person.
    """

    kind: Kind
    name: str
    crm_ref: str | None = None
    pm_ref: str | None = None
    field: str | None = None
    crm_value: str | None = None
    pm_value: str | None = None
    fix: str = ""
    fixable: bool = False
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (``kind`` as its value)."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Discrepancy:
        """The inverse of :meth:`as_dict`."""
        return cls(**{**data, "kind": Kind(data["kind"])})


class Spool:
    """Discrepancies as JSON lines in a temporary file, counted by kind as they come."""

    def __init__(self) -> None:
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.counts: Counter[Kind] = Counter()
        self.fixable = 0

    def add(self, item: Discrepancy) -> None:
        """Append one discrepancy."""
        self._file.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
        self.counts[item.kind] += 1
        self.fixable += item.fixable

    def __iter__(self) -> Iterator[Discrepancy]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield Discrepancy.from_dict(json.loads(line))
        self._file.seek(0, 2)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        """Delete the spool file."""
        self._file.close()


@dataclass
class ReconcileResult:
    """A finished reconcile: counts, the spooled discrepancies and what was scanned."""

    config: str
    crm: str
    pm: str
    started_at: dt.datetime
    seconds: float
    spool: Spool
    scanned: dict[str, int] = field(default_factory=dict)
    fixes: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Discrepancies by kind (every kind, zeros included), in report order."""
        return {k.value: self.spool.counts.get(k, 0) for k in Kind}

    @property
    def total(self) -> int:
        """Number of discrepancies."""
        return len(self.spool)

    def discrepancies(self) -> Iterator[Discrepancy]:
        """Every discrepancy, read back from the spool."""
        return iter(self.spool)

    def summary(self) -> dict[str, Any]:
        """Everything but the rows, JSON-safe."""
        return {
            "config": self.config,
            "crm": self.crm,
            "pm": self.pm,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "total": self.total,
            "counts": self.counts,
            "scanned": dict(self.scanned),
            "fixes": dict(self.fixes),
        }
