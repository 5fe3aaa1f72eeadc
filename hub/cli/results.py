"""What ``hub validate --json`` and ``hub run --json`` print: one JSON object on stdout.

A script reads the outcome from here and the exit code as before (0 ok, 1 failed
records or an error, 2 a config problem); the human messages stay on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.http.redact import redact

if TYPE_CHECKING:
    from handoff_hub.hub.config.loading import LoadedConfig
    from handoff_hub.hub.errors import Issue

__all__ = ["issue_dict", "run_result", "validation_result"]


def issue_dict(issue: Issue) -> dict[str, Any]:
    """One problem: its file, line (or null), path in the file, message and hint."""
    return {
        "file": issue.file,
        "line": issue.line,
        "path": issue.field,
        "message": issue.message,
        "hint": issue.hint,
    }


def validation_result(
    config: Path,
    issues: Sequence[Issue],
    loaded: LoadedConfig | None = None,
    warnings: Sequence[Issue] = (),
) -> dict[str, Any]:
    """``ok`` with the systems and mapping count, or every issue found; warnings either way."""
    result: dict[str, Any] = {
        "ok": not issues,
        "config": str(config),
        "issues": [issue_dict(i) for i in issues],
        "warnings": [issue_dict(i) for i in warnings],
    }
    if loaded is not None:
        systems = loaded.config.systems.items()
        result["systems"] = {key: system.connector for key, system in systems}
        result["mappings"] = len(loaded.mappings)
    return result


def run_result(config: Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """A run's id, status, counts per outcome, duration and error (redacted)."""
    error = summary.get("error")
    return {
        "handoff": summary.get("handoff"),
        "config": str(config),
        "run_id": summary.get("run_id"),
        "status": summary.get("status"),
        "counts": dict(summary.get("counts", {})),
        "seconds": summary.get("seconds"),
        "error": redact(str(error)) if error else None,
    }
