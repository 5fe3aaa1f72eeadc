"""``hub plan``: what the next run would do, record by record, with the values it would write.

Each handoff is shown summary first (its counts and whether it is a first run),
then one row per record it would act on, with the values of each write (the
project, its template, budget with currency, manager, dates); records it would
skip are counted, and listed only with ``--all``. Nothing is written anywhere:
no product call that writes, no run row, no cursor, no link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, fail, load
from handoff_hub.hub.cli.console import console, echo_json, print_rows
from handoff_hub.hub.handoffs.catalogue import HANDOFFS
from handoff_hub.hub.handoffs.engine import Decision, Verdict

__all__ = ["configured_handoffs", "plan_command", "plan_data"]

_QUIET = (Verdict.SKIP,)
"""Verdicts counted in the summary but left out of the table unless ``--all``."""


def plan_command(
    config: ConfigOption,
    handoff: Annotated[
        str | None, typer.Argument(help="Handoff to plan (default: every configured one)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Show at most N records per handoff (counts: all)"),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the records the run would skip")
    ] = False,
) -> None:
    """Show what the next run would do, record by record; writes nothing anywhere."""
    if handoff is not None and handoff not in HANDOFFS:
        raise fail(f"unknown handoff {handoff!r}; known: {', '.join(HANDOFFS)}", 2)
    plans = _plans(config, handoff)
    if as_json:
        echo_json(
            {"handoffs": [plan_data(p, limit, show_all=show_all) for p in plans]},
            indent=2,
            default=str,
        )
        return
    for plan in plans:
        _print_plan(plan_data(plan, limit, show_all=show_all))


def _plans(config: Any, only: str | None) -> list[tuple[Any, str | None]]:
    """Each handoff's dry-run summary and its first-run note."""
    from handoff_hub.hub.handoffs.catalogue import build_handoff
    from handoff_hub.hub.handoffs.runner import run_handoff
    from handoff_hub.hub.runtime import open_runtime

    with admin_errors():
        loaded = load(config)
        names = [only] if only else configured_handoffs(loaded)
        runtime = open_runtime(loaded)
        try:
            handoffs = {name: build_handoff(runtime, name) for name in names}
            first = {name: _first_run_note(h) for name, h in handoffs.items()}
            return [
                (run_handoff(name, h, runtime.store, dry_run=True), first[name])
                for name, h in handoffs.items()
            ]
        finally:
            runtime.close()


def plan_data(
    plan: tuple[Any, str | None], limit: int | None, *, show_all: bool = False
) -> dict[str, Any]:
    """One handoff's plan as plain data: summary, then the records shown."""
    summary, note = plan
    # A record met again in another stream of the same dry run (a sync reads deals,
    # projects and tasks) is planned alike each time; the run acts on it once.
    decisions: list[Decision] = list(dict.fromkeys(summary.decisions))
    listed = [d for d in decisions if show_all or d.verdict not in _QUIET]
    shown = listed[:limit] if limit else listed
    return {
        "handoff": summary.handoff,
        "summary": dict(sorted(Counter(d.verdict.value for d in decisions).items())),
        "first_run": note,
        "records": [_record(d) for d in shown],
        "not_shown": len(listed) - len(shown),
        "skipped_not_listed": 0 if show_all else len(decisions) - len(listed),
    }


def _record(decision: Decision) -> dict[str, Any]:
    preview = decision.preview
    return {
        "action": decision.verdict.value,
        "record": decision.source_id,
        "name": decision.label,
        "why": decision.reason,
        "target": decision.target,
        "writes": None
        if preview is None
        else {"system": preview.system, "values": dict(preview.values), "fields": preview.fields},
    }


def _print_plan(data: dict[str, Any]) -> None:
    summary = ", ".join(f"{n} {verdict}" for verdict, n in data["summary"].items())
    console.print(f"plan: {data['handoff']}: {summary or 'nothing to do'}", markup=False)
    if data["first_run"]:
        console.print(f"  {data['first_run']}", markup=False)
    records: Sequence[dict[str, Any]] = data["records"]
    if records:
        rows = [_row(r) for r in records]
        title = f"{data['handoff']}, record by record"
        print_rows(title, ("action", "record", "name", "why", "writes"), rows)
    if data["not_shown"]:
        console.print(f"  ... and {data['not_shown']} more (--limit)", markup=False)
    if data["skipped_not_listed"]:
        console.print(
            f"  {data['skipped_not_listed']} skipped record(s) not listed (--all lists them)",
            markup=False,
        )


def _row(record: dict[str, Any]) -> tuple[str, ...]:
    writes = record["writes"]
    values = "\n".join(f"{k}: {v}" for k, v in writes["values"].items()) if writes else ""
    return (record["action"], record["record"], record["name"], record["why"], values)


def _first_run_note(handoff: Any) -> str | None:
    """What the plan of a first run reads: everything, or changes since ``start_from``."""
    if handoff.rt.store.get_cursor(handoff.cursor_name()):
        return None
    start_from = getattr(handoff.cfg, "start_from", None)
    if start_from is None:
        return "first run: reads every record (set start_from to go live on an org with history)"
    return f"first run: reads changes since {start_from} (start_from)"


def configured_handoffs(loaded: Any) -> list[str]:
    """The handoffs the config sets up and enables, in catalogue order."""
    handoffs = loaded.config.handoffs
    return [
        name
        for name, kind in HANDOFFS.items()
        if (settings := getattr(handoffs, kind.config_key)) is not None and settings.enabled
    ]
