"""``hub deadletters list|show|replay|discard``: the records the hub could not handle.

Listing, showing and discarding need only the state store (no credentials);
replaying opens the whole runtime, because it reads each record again from
its product and hands it to its handoff.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, fail, load
from handoff_hub.hub.cli.console import console, echo_json
from handoff_hub.hub.cli.options import DEAD_LETTER_STATUSES, DeadLetterStatus, HandoffName
from handoff_hub.hub.http.redact import redact

if TYPE_CHECKING:
    from handoff_hub.hub.store import DeadLetterRow, StateStore

__all__ = ["deadletters_app", "letter_dict", "open_store", "short_text", "utc", "when_text"]

deadletters_app = typer.Typer(
    help="Records the hub could not handle, with the reason of each.", no_args_is_help=True
)

STATUSES = DEAD_LETTER_STATUSES
BAD_INPUT = 2
REASON_WIDTH = 80
_OUTCOMES = {
    "failed": "still failing (left open)",
    "gone": "record gone (left open)",
    "unreplayable": "no record id (left open)",
    "not_open": "not open (skipped)",
}

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
HandoffOption = Annotated[
    HandoffName | None, typer.Option("--handoff", help="Only this handoff's letters")
]


@contextmanager
def open_store(config: Path) -> Iterator[StateStore]:
    """The config's state store; no credential is needed to read it.

    A store that fails while the block uses it ends the command with one line naming it.
    """
    from handoff_hub.hub.store import StateStore
    from handoff_hub.hub.store.opening import store_errors

    with admin_errors():
        url = load(config, check_env=False).config.store.url
        store = StateStore(url)
    try:
        with admin_errors(), store_errors(url):
            yield store
    finally:
        store.close()


def letter_dict(row: DeadLetterRow, *, payload: bool = True) -> dict[str, Any]:
    """A dead letter as plain JSON-ready values (reason and payload redacted again)."""
    data: dict[str, Any] = {
        "id": row.id,
        "at": utc(row.at).isoformat(),
        "handoff": row.handoff,
        "system": row.system,
        "object": row.object,
        "record_id": row.record_id,
        "attempts": row.attempts,
        "status": row.status,
        "run_id": row.run_id,
        "reason": redact(row.reason),
    }
    if payload:
        data["payload"] = json.loads(redact(json.dumps(row.payload, default=str)))
    return data


@deadletters_app.command("list")
def list_command(
    config: ConfigOption,
    status: Annotated[DeadLetterStatus, typer.Option("--status", help="Letters shown")] = "open",
    handoff: HandoffOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N letters")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Dead letters, newest first, with the reason of each."""
    if status not in STATUSES:
        raise fail(f"unknown status {status!r}; use one of {', '.join(STATUSES)}", BAD_INPUT)
    _check_handoff(handoff)
    with open_store(config) as store:
        rows = store.dead_letters(
            status=None if status == "all" else status,
            handoff=handoff,
            limit=limit,
            newest_first=True,
        )
    if as_json:
        echo_json([letter_dict(r, payload=False) for r in rows], indent=2)
        return
    if not rows:
        console.print(f"no {'' if status == 'all' else status + ' '}dead letters", markup=False)
        return
    table = Table(title=f"Dead letters ({status})", header_style="bold")
    for column in ("id", "when", "handoff", "system", "object", "record", "attempts", "reason"):
        table.add_column(column, justify="right" if column in {"id", "attempts"} else "left")
    table.add_column("status")
    for row in rows:
        table.add_row(
            *[
                Text(v)
                for v in (
                    str(row.id),
                    when_text(row.at),
                    row.handoff,
                    row.system,
                    row.object,
                    row.record_id or "",
                    str(row.attempts),
                    short_text(row.reason, REASON_WIDTH),
                    row.status,
                )
            ]
        )
    console.print(table)
    console.print(f"{len(rows)} letter(s); `hub deadletters show ID` for one in full", markup=False)


@deadletters_app.command("show")
def show_command(
    letter_id: Annotated[int, typer.Argument(metavar="ID", help="Dead letter id")],
    config: ConfigOption,
    as_json: JsonOption = False,
) -> None:
    """One dead letter in full: where it came from, why, and the record as it failed."""
    with open_store(config) as store:
        row = store.dead_letter_by_id(letter_id)
    if row is None:
        raise fail(f"no dead letter {letter_id}", BAD_INPUT)
    data = letter_dict(row)
    if as_json:
        echo_json(data, indent=2)
        return
    table = Table(title=f"Dead letter {row.id}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    labels = {"at": "when", "record_id": "record", "run_id": "run"}
    for key, value in data.items():
        if key not in {"id", "payload"}:
            table.add_row(Text(labels.get(key, key)), Text(str(value or "")))
    console.print(table)
    console.print("payload (as the record was when it failed):", markup=False)
    console.print(
        Text(json.dumps(data["payload"], indent=2, ensure_ascii=False, sort_keys=True)),
        soft_wrap=True,
    )


@deadletters_app.command("replay")
def replay_command(
    config: ConfigOption,
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="[ID]...", help="Dead letters to replay")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Every open letter")] = False,
    handoff: HandoffOption = None,
) -> None:
    """Read each letter's record again from its product and run it through its handoff.

    Fix the cause first (in the product or the mapping): the record is read
    fresh, not from the stored payload. A letter whose record goes through is
    marked replayed; one that fails again stays open with the new reason.
    """
    from handoff_hub.hub.handoffs.replay import REPLAY_RUN, ReplayError, replay_dead_letters
    from handoff_hub.hub.runtime import open_runtime

    ids = list(dict.fromkeys(ids or []))
    if ids and (replay_all or handoff):
        raise fail("give dead letter ids, or --all / --handoff, not both", BAD_INPUT)
    if not ids and not (replay_all or handoff):
        raise fail("name the dead letters to replay (ids), or use --all", BAD_INPUT)
    _check_handoff(handoff)
    with open_store(config) as store:
        rows = _chosen(store, ids, handoff)
    if not rows:
        console.print("nothing to replay: no open dead letters", markup=False)
        return
    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            try:
                counts = replay_dead_letters(runtime, rows)
            except ReplayError as exc:
                raise fail(str(exc), BAD_INPUT) from None
            after = [runtime.store.dead_letter_by_id(r.id) for r in rows]
            runs = runtime.store.runs(REPLAY_RUN, limit=1)
        finally:
            runtime.close()
    _print_outcome([r for r in after if r is not None], counts, runs[0].id if runs else None)
    if counts.get("failed"):
        raise typer.Exit(1)


@deadletters_app.command("discard")
def discard_command(
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Dead letters to discard")],
    config: ConfigOption,
    reason: Annotated[str, typer.Option("--reason", help="Why: kept with the letter's reason")],
) -> None:
    """Let open dead letters go (e.g. test data, a deal cancelled); the reason is kept."""
    if not reason.strip():
        raise fail("--reason must say why the letters are discarded", BAD_INPUT)
    ids = list(dict.fromkeys(ids))
    with open_store(config) as store:
        found = {i: store.dead_letter_by_id(i) for i in ids}
        unknown = [str(i) for i, row in found.items() if row is None]
        if unknown:
            raise fail(f"no dead letter {', '.join(unknown)}; nothing discarded", BAD_INPUT)
        chosen = [i for i, row in found.items() if row is not None and row.status == "open"]
        for i, row in found.items():
            if row is not None and row.status != "open":
                console.print(
                    f"dead letter {i} is {row.status}, not open: left as it is", markup=False
                )
        if not chosen:
            raise fail("nothing to discard: none of these letters is open", BAD_INPUT)
        done = store.set_dead_letter_status(
            chosen, "discarded", note=f"discarded: {reason.strip()}"
        )
    console.print(f"discarded {done} dead letter(s): {', '.join(map(str, chosen))}", markup=False)


def _chosen(store: StateStore, ids: Sequence[int], handoff: str | None) -> list[DeadLetterRow]:
    """The open letters asked for; an unknown id, or ids none of which is open, exit 2."""
    if not ids:
        return store.dead_letters(status="open", handoff=handoff)
    found = {i: store.dead_letter_by_id(i) for i in ids}
    unknown = [str(i) for i, row in found.items() if row is None]
    if unknown:
        raise fail(f"no dead letter {', '.join(unknown)}; nothing replayed", BAD_INPUT)
    rows = [row for row in found.values() if row is not None]
    for row in rows:
        if row.status != "open":
            console.print(f"dead letter {row.id} is {row.status}, not open: skipped", markup=False)
    chosen = [row for row in rows if row.status == "open"]
    if not chosen:
        raise fail("nothing to replay: none of these letters is open", BAD_INPUT)
    return chosen


def _print_outcome(rows: Sequence[DeadLetterRow], counts: dict[str, int], run: str | None) -> None:
    table = Table(title="Replay", header_style="bold")
    for column in ("id", "handoff", "record", "status", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *[
                Text(v)
                for v in (
                    str(row.id),
                    row.handoff,
                    row.record_id or "",
                    row.status,
                    "" if row.status == "replayed" else short_text(row.reason, REASON_WIDTH),
                )
            ]
        )
    console.print(table)
    outcome = [f"{_OUTCOMES.get(k, k)} {v}" for k, v in counts.items() if ": " not in k]
    where = f"run {run[:8]}: " if run else ""
    console.print(f"{where}{', '.join(outcome) or 'nothing done'}", markup=False)
    by_handoff: dict[str, list[str]] = {}
    for key, value in counts.items():
        name, sep, count = key.partition(": ")
        if sep:
            by_handoff.setdefault(name, []).append(f"{count} {value}")
    for name, parts in by_handoff.items():
        console.print(f"  {name}: {', '.join(parts)}", markup=False)
    if run:
        console.print(f"what it wrote: hub history --run {run[:8]}", markup=False)


def _check_handoff(handoff: str | None) -> None:
    from handoff_hub.hub.handoffs.catalogue import HANDOFFS

    if handoff is not None and handoff not in HANDOFFS:
        raise fail(f"unknown handoff {handoff!r}; known: {', '.join(HANDOFFS)}", BAD_INPUT)


def utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; the store writes UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def when_text(value: dt.datetime) -> str:
    """A stored time as ``YYYY-MM-DD HH:MM`` UTC."""
    return utc(value).strftime("%Y-%m-%d %H:%M")


def short_text(text: str, width: int) -> str:
    """One line of at most ``width`` characters, secrets masked."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
