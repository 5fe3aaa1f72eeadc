"""The verdict of a pre-flight: exit code and the JSON form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handoff_hub.hub.connector import CheckResult, CheckStatus

__all__ = ["ALL_CLEAR", "PROBLEMS", "as_json", "exit_code", "problems"]

ALL_CLEAR = 0
PROBLEMS = 1


def problems(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The findings that will make a run fail."""
    return [r for r in results if r.status is CheckStatus.PROBLEM]


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing will fail (warnings allowed), 1 otherwise."""
    return PROBLEMS if problems(results) else ALL_CLEAR


def as_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    """Every finding, and counts by status."""
    counts = {s.value: sum(r.status is s for r in results) for s in CheckStatus}
    return {
        "ok": not problems(results),
        "counts": counts,
        "results": [
            {
                "system": r.system,
                "check": r.check,
                "result": r.status.value,
                "detail": r.detail,
                "handoff": r.handoff,
            }
            for r in results
        ],
    }
