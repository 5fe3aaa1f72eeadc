"""``hub history``: what the hub wrote, where, when and in which run (the audit trail)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from handoff_hub.hub.cli.common import ConfigOption, fail
from handoff_hub.hub.cli.console import console, echo_json
from handoff_hub.hub.cli.deadletters import open_store, short_text, utc, when_text
from handoff_hub.hub.cli.options import HandoffName
from handoff_hub.hub.http.redact import redact

if TYPE_CHECKING:
    from handoff_hub.hub.store import AuditEventRow, RunRow, StateStore

__all__ = ["event_dict", "history_command", "run_dict"]

BAD_INPUT = 2
DETAIL_WIDTH = 60
LATEST_RUNS = 10


def history_command(
    config: ConfigOption,
    run: Annotated[
        str | None, typer.Option("--run", help="One run: its id, or the first characters of it")
    ] = None,
    record: Annotated[
        str | None,
        typer.Option("--record", help="One record: its id, or a source ref such as crm:006..."),
    ] = None,
    handoff: Annotated[
        HandoffName | None, typer.Option("--handoff", help="Only this handoff")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Events shown, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
) -> None:
    """What the hub wrote, where, when and in which run, newest first."""
    with open_store(config) as store:
        chosen = _run(store, run) if run else None
        events = store.audit_events(
            run_id=chosen.id if chosen else None, record_id=record, handoff=handoff, limit=limit
        )
        latest = [] if run or record else store.runs(handoff, limit=LATEST_RUNS)
    if as_json:
        data: dict[str, Any] = {"events": [event_dict(e) for e in events]}
        if chosen is not None:
            data["run"] = run_dict(chosen)
        if latest:
            data["runs"] = [run_dict(r) for r in latest]
        echo_json(data, indent=2)
        return
    if chosen is not None:
        _print_run(chosen)
    if latest:
        _print_runs(latest)
    _print_events(events, _title(run, record, handoff), limit)


def run_dict(row: RunRow) -> dict[str, Any]:
    """A run as JSON-ready values."""
    return {
        "id": row.id,
        "handoff": row.handoff,
        "status": row.status,
        "started_at": utc(row.started_at).isoformat(),
        "finished_at": utc(row.finished_at).isoformat() if row.finished_at else None,
        "counts": dict(row.counts or {}),
        "error": redact(row.error) if row.error else None,
        "dry_run": row.dry_run,
        "flow_run_id": row.flow_run_id,
    }


def event_dict(row: AuditEventRow) -> dict[str, Any]:
    """An audit event as JSON-ready values."""
    return {
        "id": row.id,
        "at": utc(row.at).isoformat(),
        "run_id": row.run_id,
        "handoff": row.handoff,
        "action": row.action,
        "system": row.system,
        "object": row.object,
        "record_id": row.record_id,
        "source_ref": row.source_ref,
        "outcome": row.outcome,
        "before_fp": row.before_fp,
        "after_fp": row.after_fp,
        "detail": redact(row.detail) if row.detail else None,
    }


def _run(store: StateStore, ref: str) -> RunRow:
    """The run named by its id or a prefix of it; exit 2 when none or several match."""
    ref = ref.strip()
    exact = store.run(ref) if ref else None
    if exact is not None:
        return exact
    found = store.runs(id_prefix=ref, limit=2) if ref else []
    if not found:
        raise fail(f"no run {ref!r} (hub history lists the latest runs)", BAD_INPUT)
    if len(found) > 1:
        raise fail(f"more than one run starts with {ref!r}: give more of its id", BAD_INPUT)
    return found[0]


def _print_run(row: RunRow) -> None:
    table = Table(title=f"Run {row.id}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    finished = utc(row.finished_at) if row.finished_at else None
    took = f" ({(finished - utc(row.started_at)).total_seconds():.1f} s)" if finished else ""
    counts = ", ".join(f"{k} {v}" for k, v in sorted((row.counts or {}).items()))
    rows = [
        ("handoff", row.handoff + (" (dry run)" if row.dry_run else "")),
        ("status", row.status),
        ("started", utc(row.started_at).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("finished", (finished.strftime("%Y-%m-%d %H:%M:%S UTC") + took) if finished else ""),
        ("counts", counts or "none"),
    ]
    if row.error:
        rows.append(("error", redact(row.error)))
    if row.flow_run_id:
        rows.append(("Prefect flow run", row.flow_run_id))
    for key, value in rows:
        table.add_row(Text(key), Text(value))
    console.print(table)


def _print_runs(rows: list[RunRow]) -> None:
    table = Table(title="Latest runs", header_style="bold")
    for column in ("run", "handoff", "started", "status", "counts", "flow run"):
        table.add_column(column)
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted((row.counts or {}).items()) if v)
        table.add_row(
            *[
                Text(v)
                for v in (
                    row.id[:8],
                    row.handoff,
                    when_text(row.started_at),
                    row.status,
                    short_text(counts, DETAIL_WIDTH),
                    (row.flow_run_id or "")[:8],
                )
            ]
        )
    console.print(table)


def _print_events(rows: list[AuditEventRow], title: str, limit: int) -> None:
    if not rows:
        console.print(f"{title}: nothing written", markup=False)
        return
    table = Table(title=title, header_style="bold")
    columns = ("when", "run", "handoff", "action", "system", "object", "record", "from")
    for column in (*columns, "outcome", "detail"):
        table.add_column(column)
    for row in rows:
        outcome = Text(row.outcome, style="" if row.outcome == "ok" else "red")
        values = (
            when_text(row.at),
            (row.run_id or "")[:8],
            row.handoff,
            row.action,
            row.system,
            row.object,
            row.record_id or "",
            row.source_ref or "",
        )
        detail = short_text(row.detail or "", DETAIL_WIDTH)
        table.add_row(*[Text(v) for v in values], outcome, Text(detail))
    console.print(table)
    more = f" (the newest {limit}; --limit for more)" if len(rows) == limit else ""
    console.print(f"{len(rows)} event(s){more}", markup=False)


def _title(run: str | None, record: str | None, handoff: str | None) -> str:
    parts = [f"run {run}" if run else "", f"record {record}" if record else ""]
    parts.append(handoff or "")
    which = ", ".join(p for p in parts if p)
    return f"What the hub wrote ({which})" if which else "What the hub wrote"
