"""Replay dead letters through the normal engine, from each record as it is now.

A dead letter's payload is what the record looked like when it failed; by the
time an admin replays it, the cause has been fixed in the product or in the
mapping. So each letter's source record is read again by id from its system
and handed, batched per handoff, to that handoff's ``process``: the same
idempotent path as a scheduled run (links, stamps, audit, dead letters), all
recorded under one ``replay`` run.

A letter ends ``replayed`` when its record went through. One whose record
fails again stays open (the handoff bumps its attempts and keeps the new
reason); one whose record is gone from the product stays open with a note.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.hub.errors import ConfigError, HubError
from handoff_hub.hub.handoffs.base import PairHandoff
from handoff_hub.hub.handoffs.catalogue import HANDOFFS, handoff_settings
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK_TO_ACCOUNT_MANAGER
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import DeadLetterRow

__all__ = ["REPLAYABLE", "REPLAY_RUN", "ReplayError", "replay_dead_letters"]

REPLAY_RUN = "replay"
"""The ``handoff`` of a replay's row in the runs table."""

REPLAYABLE: dict[str, tuple[str, str]] = {
    WON_TO_PROJECT: ("crm", "Opportunity"),
    FEEDBACK_TO_LEAD: ("pm", "Feedback"),
    RISK_TO_ACCOUNT_MANAGER: ("pm", "Risk"),
}
"""Handoff -> (the side its records come from, the mapping entity they are read as)."""

_RISK_PREFIXES = {"risk": "Risk", "health": "Project"}
_GONE_NOTE = "replay: the record is no longer in {system}"
_NO_ID_NOTE = "replay: no record id to read again"
_DEFAULT_BATCH = 100

log = logging.getLogger("hub.replay")


class ReplayError(HubError):
    """A dead letter that cannot be replayed with this config (its handoff or system)."""


@dataclass(frozen=True)
class _Source:
    """Where a dead letter's record is read again from, and the ids it is dead-lettered under."""

    letter: DeadLetterRow
    handoff: str
    system: str
    entity: str
    record_id: str
    aliases: frozenset[str]


def replay_dead_letters(
    runtime: Runtime, rows: Sequence[DeadLetterRow], *, run_id: str | None = None
) -> dict[str, int]:
    """Replay the open letters among ``rows``; counts of what happened.

    Counts: ``replayed``, ``failed`` (still failing, left open), ``gone``
    (record deleted, left open), ``unreplayable`` (no record id), ``not_open``
    (already replayed or discarded, left alone), and each handoff's own counts
    as ``"<handoff>: <count>"``. Without ``run_id`` the replay is recorded as a
    run of its own; with one, the caller owns that run.

    Raises:
        ReplayError: a letter's handoff cannot be replayed, is not configured, or
            now reads from another system. Raised before anything is written.
        LeaseHeld: a run of that handoff is in progress; replay after it.
    """
    counts: Counter[str] = Counter()
    open_rows = [r for r in rows if r.status == "open"]
    if len(open_rows) < len(rows):
        counts["not_open"] = len(rows) - len(open_rows)
    located = [(row, _source(row)) for row in open_rows]
    per_handoff: dict[str, list[_Source]] = {}
    groups: dict[tuple[str, str, str], list[_Source]] = {}
    for _, source in located:
        if source is not None:
            per_handoff.setdefault(source.handoff, []).append(source)
            groups.setdefault((source.handoff, source.system, source.entity), []).append(source)
    handoffs = {name: _build(runtime, name, letters) for name, letters in per_handoff.items()}
    store = runtime.store
    for row, source in located:
        if source is None:
            counts["unreplayable"] += 1
            store.annotate_dead_letter(row.id, _NO_ID_NOTE)
    if not groups:
        return dict(sorted(counts.items()))
    own_run = run_id is None
    current = run_id or store.start_run(REPLAY_RUN)
    try:
        for (name, system, entity), items in groups.items():
            handoff = handoffs[name]
            handoff.run_id = current
            handoff.read_as(system, entity)
            # The handoff's lease, as a run takes it: a replay never races a scheduled run.
            with store.holding(store.lease(handoff.lease_name)):
                _replay_group(runtime, handoff, name, system, entity, items, current, counts)
    except BaseException as exc:
        if own_run:
            store.finish_run(current, status="failed", counts=dict(counts), error=str(exc))
        raise
    if own_run:
        status = "completed_with_failures" if counts.get("failed") else "succeeded"
        store.finish_run(current, status=status, counts=dict(sorted(counts.items())))
    return dict(sorted(counts.items()))


def _source(row: DeadLetterRow) -> _Source | None:
    """Where the letter's record lives; None when it carries no usable id."""
    side = REPLAYABLE.get(row.handoff)
    if side is None:
        known = ", ".join(REPLAYABLE)
        raise ReplayError(
            f"dead letter {row.id} is from {row.handoff!r}, which cannot be replayed"
            f" (replayable: {known}); discard it instead"
        )
    record_id = (row.record_id or "").strip()
    if not record_id or record_id == "?":
        return None
    entity = side[1]
    aliases = {record_id}
    if row.handoff == RISK_TO_ACCOUNT_MANAGER:
        prefix, sep, rest = record_id.partition(":")
        if sep and prefix in _RISK_PREFIXES and rest:
            entity, record_id = _RISK_PREFIXES[prefix], rest
        elif row.object in _RISK_PREFIXES.values():
            entity = row.object
        else:
            return None
        prefix = next(p for p, e in _RISK_PREFIXES.items() if e == entity)
        aliases = {record_id, f"{prefix}:{record_id}"}
    return _Source(row, row.handoff, row.system, entity, record_id, frozenset(aliases))


def _build(runtime: Runtime, name: str, letters: Sequence[_Source]) -> PairHandoff[Any]:
    """The configured handoff for these letters; a ReplayError says why it cannot be."""
    ids = ", ".join(str(s.letter.id) for s in letters[:10])
    try:
        settings = handoff_settings(runtime.loaded, name)
    except ConfigError:
        raise ReplayError(
            f"dead letter(s) {ids} are from {name!r}, which is not configured or not enabled"
            f" in {runtime.loaded.path.name}: enable it, or discard the letters"
        ) from None
    side = REPLAYABLE[name][0]
    reads_from = getattr(settings, side)
    moved = sorted({s.system for s in letters if s.system != reads_from})
    if moved:
        raise ReplayError(
            f"dead letter(s) {ids} came from system {', '.join(moved)!s}, but {name} now reads"
            f" from {reads_from!r}: discard them, or restore that system in the config"
        )
    return HANDOFFS[name].build(runtime, settings)


def _replay_group(
    runtime: Runtime,
    handoff: PairHandoff[Any],
    name: str,
    system: str,
    entity_name: str,
    items: Sequence[_Source],
    run_id: str,
    counts: Counter[str],
) -> None:
    """Read this group's records again, in batches, and let the handoff handle them."""
    store = runtime.store
    entity = runtime.mapping(system).entities[entity_name]
    connector = runtime.connector(system)
    settings = handoff_settings(runtime.loaded, name)
    batch = int(getattr(settings, "batch_size", _DEFAULT_BATCH) or _DEFAULT_BATCH)
    ids = list(dict.fromkeys(s.record_id for s in items))
    found: set[str] = set()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        records = connector.read_by_ids(entity.object, chunk, fields=entity.source_fields())
        found.update(r.id for r in records)
        if records:
            report = handoff.process(records)
            for key, value in report.counts.items():
                if key != "seen" and value:
                    counts[f"{name}: {key}"] += value
    failed_again = {
        r.record_id
        for r in store.dead_letters(status="open", handoff=name, run_id=run_id)
        if r.record_id
    }
    done: list[int] = []
    for source in items:
        letter = source.letter
        if source.record_id not in found:
            counts["gone"] += 1
            store.annotate_dead_letter(letter.id, _GONE_NOTE.format(system=system))
            log.warning(
                "replay: dead letter %s: %s %s is gone", letter.id, system, source.record_id
            )
        elif source.aliases & failed_again:
            counts["failed"] += 1
        else:
            counts["replayed"] += 1
            done.append(letter.id)
    # won-to-project and feedback-to-lead resolve their own letters; risk-to-account-manager
    # does not, and its letters may carry another form of the id ("risk:X" for X).
    store.set_dead_letter_status(done, "replayed")
