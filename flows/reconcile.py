"""reconcile as a Prefect flow: the report becomes a Prefect artifact (and a file, if asked)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed, Failed

from handoff_hub.flows._names import reconcile_run_name
from handoff_hub.flows._observe import observed
from handoff_hub.flows._secrets import use_prefect_secrets
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import ReconcileResult, fail_on_kinds
from handoff_hub.hub.reports import FORMATS, write_report
from handoff_hub.hub.reports.as_markdown import write_markdown
from handoff_hub.hub.runtime import open_runtime

__all__ = ["ARTIFACT_ROWS", "reconcile_flow"]

ARTIFACT_ROWS = 500
"""Detail rows the artifact shows; the file report (``report_path``) has them all."""


@flow(
    name="reconcile", flow_run_name=reconcile_run_name, log_prints=False, validate_parameters=True
)
def reconcile_flow(
    config_path: str,
    fix: bool = False,
    window_days: int = 90,
    report_path: str | None = None,
    report_format: str = "html",
    fail_on: list[str] | None = None,
) -> State[dict[str, Any]]:
    """Compare CRM and project tool; with ``fix``, repair what the handoffs can.

    Args:
        config_path: The hub config file.
        fix: Apply the repair plan (idempotent) and look again.
        window_days: The KPIs' window, ending today.
        report_path: Also write the full report to this file.
        report_format: The file's format: json, csv, md or html.
        fail_on: Discrepancy kinds (or ``any``) that end the run Failed, as
            ``hub reconcile --fail-on`` exits 3 on them.
    """
    if report_format not in FORMATS:
        raise ValueError(f"report_format must be one of {', '.join(FORMATS)}")
    failing = fail_on_kinds(fail_on)
    use_prefect_secrets()
    loaded = load_config(config_path)
    with observed():
        runtime = open_runtime(loaded)
        try:
            result, kpis = reconcile(runtime, fix=fix, window_days=window_days)
        finally:
            runtime.close()
    try:
        if report_path:
            with Path(report_path).open("w", encoding="utf-8", newline="") as out:
                write_report(result, report_format, out, kpis=kpis)
        markdown = io.StringIO()
        write_markdown(result, markdown, kpis=kpis, limit=ARTIFACT_ROWS)
        create_markdown_artifact(
            key=_artifact_key(loaded.path.stem),
            markdown=markdown.getvalue(),
            description=f"{result.total} discrepancies between {result.crm} and {result.pm}",
        )
        summary = {**result.summary(), "kpis": kpis.as_dict()}
        return _final_state(result, summary, [k.value for k in failing])
    finally:
        result.spool.close()


def _final_state(
    result: ReconcileResult, summary: dict[str, Any], failing: list[str]
) -> State[dict[str, Any]]:
    """Failed when a ``fail_on`` kind was found, else Completed; the counts in the message."""
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(result.counts.items()) if n)
    message = f"{result.total} discrepancies" + (f": {counts}" if counts else "")
    found = [kind for kind in failing if result.counts.get(kind)]
    if found:
        return Failed(message=f"found {', '.join(found)} (fail_on); {message}", data=summary)
    return Completed(message=message, data=summary)


def _artifact_key(stem: str) -> str:
    """Prefect keys allow lower-case letters, digits and dashes."""
    return "reconcile-" + (re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-") or "hub")
