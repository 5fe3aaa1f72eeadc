"""StateStore: the hub's memory of links, cursors, runs, audit and dead letters.

Every method is one short transaction, so what it records survives a crash
right after it returns. The ordering rule that gives exactly one effect per
change lives in the engine: record the link (and audit) of each write first,
then advance the cursor that covers it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.store.bulk import insert_rows
from handoff_hub.hub.store.leases import DEFAULT_LEASE_SECONDS, Lease
from handoff_hub.hub.store.opening import make_engine
from handoff_hub.hub.store.rate_budget import StoreRateLedger
from handoff_hub.hub.store.schema import upgrade
from handoff_hub.hub.store.statistics import GrowthWatch
from handoff_hub.hub.store.tables import (
    AuditEventRow,
    Base,
    CursorRow,
    DeadLetterRow,
    HandledRow,
    LinkRow,
    RunRow,
    SeenDeliveryRow,
    SyncStateRow,
    TurnRow,
)

__all__ = ["DEAD_LETTER_STATUSES", "AuditEvent", "Link", "StateStore"]

DEAD_LETTER_STATUSES = ("open", "replayed", "discarded")
"""open: waiting for a person or a replay; replayed: went through since; discarded: let go."""


@dataclass(frozen=True)
class Link:
    """A recorded source -> target pair."""

    handoff: str
    source_system: str
    source_object: str
    source_id: str
    target_system: str
    target_object: str
    target_id: str
    target_key: str | None = None
    target_url: str | None = None
    state: str = "complete"
    fingerprint: str | None = None
    slot: str = ""
    """Which of the source's projects: "" for its only one, else its template's key."""
    created_at: dt.datetime | None = field(default=None, compare=False)
    """When the link was first recorded (set by the store; ignored on write)."""


@dataclass(frozen=True)
class AuditEvent:
    """One write, as the audit trail records it."""

    handoff: str
    action: str
    system: str
    object: str
    record_id: str | None
    outcome: str
    source_ref: str | None = None
    before_fp: str | None = None
    after_fp: str | None = None
    detail: str | None = None


LinkEnds = tuple[str, str, str | None, dt.datetime | None, str]
"""``(source_id, target_id, target_key, created_at, slot)`` of a link."""

_LINK_FIELDS = tuple(f.name for f in fields(Link))
_LINK_COLUMNS = tuple(getattr(LinkRow, name) for name in _LINK_FIELDS)
"""Links are read as plain rows of these columns, on the session's connection: ORM
objects, and even the ORM's execution of a column select, cost several times more
per row, and a reconcile reads every link."""


def _to_link(row: Any) -> Link:
    """A Link from a row that starts with ``_LINK_COLUMNS``."""
    values = dict(zip(_LINK_FIELDS, row, strict=False))
    values["created_at"] = _aware(values["created_at"])
    return Link(**values)


def _remember_handled(s: Session, name: str, handled: Mapping[str, dt.datetime]) -> None:
    """Store each record's handled version, the newer one where it was handled before."""
    ids = list(handled)
    newer: dict[str, dt.datetime] = dict(handled)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored = s.execute(
            select(HandledRow.record_id, HandledRow.modified_at).where(
                HandledRow.cursor == name, HandledRow.record_id.in_(chunk)
            )
        )
        for record_id, at in stored:
            newer[record_id] = max(newer[record_id], _aware(at) or at)
        s.execute(
            delete(HandledRow).where(HandledRow.cursor == name, HandledRow.record_id.in_(chunk))
        )
    s.execute(
        insert(HandledRow),
        [{"cursor": name, "record_id": k, "modified_at": v} for k, v in newer.items()],
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back naive; the store writes UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _link_row(session: Session, link: Link) -> LinkRow | None:
    """The stored row of ``link`` (one per handoff, source, target system and slot)."""
    return session.scalars(
        select(LinkRow).where(
            LinkRow.handoff == link.handoff,
            LinkRow.source_system == link.source_system,
            LinkRow.source_id == link.source_id,
            LinkRow.target_system == link.target_system,
            LinkRow.slot == link.slot,
        )
    ).one_or_none()


def _by_source(
    session: Session,
    columns: tuple[Any, ...],
    handoff: str,
    source_system: str,
    target_system: str,
    source_ids: Sequence[str],
) -> Iterator[Any]:
    """``columns`` of the links of these source records, one query per 500 ids."""
    for start in range(0, len(source_ids), 500):
        yield from session.connection().execute(
            select(*columns).where(
                LinkRow.handoff == handoff,
                LinkRow.source_system == source_system,
                LinkRow.target_system == target_system,
                LinkRow.source_id.in_(list(source_ids[start : start + 500])),
            )
        )


_LinkKey = tuple[str, str, str, str, str]


def _link_key(link: Link) -> _LinkKey:
    return (link.handoff, link.source_system, link.target_system, link.source_id, link.slot)


def _link_values(link: Link) -> dict[str, Any]:
    return {k: v for k, v in link.__dict__.items() if k != "created_at"}


class StateStore:
    """Links, cursors, runs, audit events and dead letters in one database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        """Open the store at ``url``; with ``create``, migrate its schema to the newest revision."""
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lease: Lease | None = None
        self.rate_ledger = StoreRateLedger(self.engine)
        """Rate budgets shared by the hub's processes (``store.shared_rate_limit``)."""
        self.link_statistics = GrowthWatch("links")
        """Re-analyzes the links table as it grows (PostgreSQL plans from its statistics)."""
        if create:
            upgrade(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # links -----------------------------------------------------------------

    def links_for(
        self, handoff: str, source_system: str, source_ids: Sequence[str], *, target_system: str
    ) -> dict[str, Link]:
        """The first link of each of these source records, by source id (one query per 500 ids).

        First: its only one (slot ""), else its first slot by name; :meth:`link_sets`
        gives every link of a source that has several (a deal with several projects).
        """
        sets = self.link_sets(handoff, source_system, source_ids, target_system=target_system)
        return {source_id: links[0] for source_id, links in sets.items()}

    def link_sets(
        self, handoff: str, source_system: str, source_ids: Sequence[str], *, target_system: str
    ) -> dict[str, list[Link]]:
        """Every link of these source records, by source id, in slot order ("" first)."""
        found: dict[str, list[Link]] = {}
        with self._tx() as s:
            rows = _by_source(s, _LINK_COLUMNS, handoff, source_system, target_system, source_ids)
            for row in rows:
                found.setdefault(row.source_id, []).append(_to_link(row))
        for links in found.values():
            links.sort(key=lambda link: link.slot)
        return found

    def record_link(self, link: Link) -> None:
        """Insert or update a link (idempotent on handoff + source + target system)."""
        self.record_links([link])

    def record_links(self, links: Iterable[Link]) -> None:
        """Insert or update links in one transaction (of one key, the last given wins).

        The stored rows are looked up 500 source ids at a time and the new ones
        inserted in one executemany: a batch's links cost a few statements, not
        a transaction each. Once the links inserted since the table's last
        ``ANALYZE`` are a quarter of it, it is analyzed again (after the commit).
        """
        latest = {_link_key(link): link for link in links}
        if not latest:
            return
        groups: dict[tuple[str, str, str], list[str]] = {}
        for handoff, source_system, target_system, source_id, _ in latest:
            groups.setdefault((handoff, source_system, target_system), []).append(source_id)
        table = cast("Table", LinkRow.__table__)
        with self._tx() as s:
            stored: dict[_LinkKey, int] = {}
            for (handoff, source_system, target_system), ids in groups.items():
                columns = (LinkRow.id, LinkRow.source_id, LinkRow.slot)
                for row_id, source_id, slot in _by_source(
                    s, columns, handoff, source_system, target_system, list(dict.fromkeys(ids))
                ):
                    stored[(handoff, source_system, target_system, source_id, slot)] = row_id
            now = dt.datetime.now(dt.UTC)
            new = [
                {**_link_values(link), "created_at": now, "updated_at": now}
                for key, link in latest.items()
                if key not in stored
            ]
            changed = [
                {**_link_values(link), "row_id": stored[key], "updated_at": now}
                for key, link in latest.items()
                if key in stored
            ]
            insert_rows(s.connection(), table, new)
            if changed:
                s.execute(
                    update(table).where(table.c.id == bindparam("row_id")),
                    changed,
                )
        self.link_statistics.added(self.engine, len(new))

    def drop_link(self, link: Link) -> bool:
        """Forget a link (its record is gone); True when there was one."""
        with self._tx() as s:
            row = _link_row(s, link)
            if row is None:
                return False
            s.delete(row)
            return True

    def iter_links(self, handoff: str, *, batch: int = 500) -> Iterator[list[Link]]:
        """Every link of a handoff, ``batch`` at a time, in insertion order (keyset paging)."""
        for rows in self._link_pages(_LINK_COLUMNS, [LinkRow.handoff == handoff], batch):
            yield [_to_link(r) for r in rows]

    def _link_pages(
        self, columns: Sequence[Any], where: Sequence[Any], batch: int
    ) -> Iterator[list[Any]]:
        """Rows of ``columns`` (then the row id) of the links matching ``where``, by id.

        Keyset paging, one short transaction per page, so a long read holds no
        lock between pages.
        """
        last = 0
        while True:
            with self._tx() as s:
                rows = (
                    s.connection()
                    .execute(
                        select(*columns, LinkRow.id)
                        .where(*where, LinkRow.id > last)
                        .order_by(LinkRow.id)
                        .limit(batch)
                    )
                    .all()
                )
            if not rows:
                return
            last = rows[-1][-1]
            yield list(rows)

    def links_to(
        self, handoff: str, target_system: str, target_ids: Sequence[str]
    ) -> dict[str, list[Link]]:
        """Links whose target id or key is one of these, by that id or key."""
        found: dict[str, list[Link]] = {}
        with self._tx() as s:
            for start in range(0, len(target_ids), 500):
                chunk = list(target_ids[start : start + 500])
                wanted = set(chunk)
                rows: dict[int, Any] = {}
                for column in (LinkRow.target_id, LinkRow.target_key):  # one index each
                    matched = s.connection().execute(
                        select(*_LINK_COLUMNS, LinkRow.id).where(
                            LinkRow.handoff == handoff,
                            LinkRow.target_system == target_system,
                            column.in_(chunk),
                        )
                    )
                    rows.update((row.id, row) for row in matched)
                for row in rows.values():
                    link = _to_link(row)
                    for key in {row.target_id, row.target_key} & wanted:
                        found.setdefault(str(key), []).append(link)
        return found

    def link_ends(
        self, handoff: str, source_system: str, target_system: str, *, batch: int = 5000
    ) -> Iterator[list[LinkEnds]]:
        """``(source_id, target_id, target_key, created_at, slot)`` of one pair's links.

        ``batch`` at a time, in insertion order (keyset paging): what a reconcile
        needs of every link, without building Link objects. It reads them all once
        rather than looking them up page by page.
        """
        columns = (
            LinkRow.source_id,
            LinkRow.target_id,
            LinkRow.target_key,
            LinkRow.created_at,
            LinkRow.slot,
        )
        where = (
            LinkRow.handoff == handoff,
            LinkRow.source_system == source_system,
            LinkRow.target_system == target_system,
        )
        for rows in self._link_pages(columns, where, batch):
            yield [(r[0], r[1], r[2], _aware(r[3]), r[4]) for r in rows]

    def links(self, handoff: str | None = None) -> list[Link]:
        """Every link (of one handoff)."""
        with self._tx() as s:
            query = select(*_LINK_COLUMNS).order_by(LinkRow.id)
            if handoff:
                query = query.where(LinkRow.handoff == handoff)
            return [_to_link(r) for r in s.connection().execute(query)]

    # sync base values ----------------------------------------------------------

    def sync_bases(self, pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The last agreed field values of these linked pairs (absent: never synced)."""
        found: dict[str, dict[str, Any]] = {}
        with self._tx() as s:
            for start in range(0, len(pairs), 500):
                chunk = list(pairs[start : start + 500])
                for row in s.scalars(select(SyncStateRow).where(SyncStateRow.pair.in_(chunk))):
                    found[row.pair] = dict(row.values)
        return found

    def set_sync_base(self, pair: str, values: Mapping[str, Any]) -> None:
        """Record the field values both sides of ``pair`` now agree on."""
        with self._tx() as s:
            row = s.get(SyncStateRow, pair)
            if row is None:
                s.add(SyncStateRow(pair=pair, values=dict(values)))
            else:
                row.values = dict(values)

    # cursors ---------------------------------------------------------------

    # leases ----------------------------------------------------------------

    def lease(self, name: str, *, seconds: float = DEFAULT_LEASE_SECONDS) -> Lease:
        """The lease ``name`` for a new run (not yet taken)."""
        return Lease(self._sessions, name, seconds=seconds)

    @contextmanager
    def holding(self, lease: Lease) -> Iterator[Lease]:
        """Take ``lease`` for the block; cursor writes inside it check the lease is still ours."""
        lease.acquire()
        previous, self._lease = self._lease, lease
        try:
            yield lease
        finally:
            self._lease = previous
            lease.release()

    def get_cursor(self, name: str) -> str | None:
        """Stored position of a read, or None before the first run."""
        with self._tx() as s:
            row = s.get(CursorRow, name)
            return row.value if row else None

    def set_cursor(
        self,
        name: str,
        value: str | None,
        *,
        handled: Mapping[str, dt.datetime] | None = None,
        forget_before: dt.datetime | None = None,
    ) -> None:
        """Advance a read's position; call only after the writes it covers are recorded.

        Args:
            name: The read.
            value: Its new position.
            handled: Records just handled, by id, with the modified time handled
                (kept for the read's look-back window; a newer time replaces an older).
            forget_before: Handled records modified before this drop out of the window.

        Raises:
            LeaseLost: Inside :meth:`holding`, when another run has taken the lease.
        """
        with self._tx() as s:
            if self._lease is not None:
                self._lease.check(s)
            row = s.get(CursorRow, name)
            if row is None:
                s.add(CursorRow(name=name, value=value))
            else:
                row.value = value
            if handled:
                _remember_handled(s, name, handled)
            if forget_before is not None:
                s.execute(
                    delete(HandledRow).where(
                        HandledRow.cursor == name, HandledRow.modified_at < forget_before
                    )
                )

    def handled_since(self, name: str, since: dt.datetime) -> dict[str, dt.datetime]:
        """The records the read ``name`` handled modified at or after ``since``, by id."""
        with self._tx() as s:
            rows = s.execute(
                select(HandledRow.record_id, HandledRow.modified_at).where(
                    HandledRow.cursor == name, HandledRow.modified_at >= since
                )
            )
            return {record_id: _aware(at) or at for record_id, at in rows}

    # runs ------------------------------------------------------------------

    def start_run(
        self,
        handoff: str,
        *,
        dry_run: bool = False,
        holder: str | None = None,
        flow_run_id: str | None = None,
    ) -> str:
        """Open a run row; return its id.

        ``holder``: the lease holder running it; ``flow_run_id``: the Prefect flow run, if any.
        """
        run_id = str(uuid.uuid4())
        with self._tx() as s:
            s.add(
                RunRow(
                    id=run_id,
                    handoff=handoff,
                    holder=holder,
                    status="running",
                    counts={},
                    dry_run=dry_run,
                    flow_run_id=flow_run_id,
                )
            )
        return run_id

    def finish_run(
        self, run_id: str, *, status: str, counts: Mapping[str, int], error: str | None = None
    ) -> None:
        """Close a run with its outcome and counts."""
        with self._tx() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise KeyError(f"no run {run_id}")
            row.status = status
            row.counts = dict(counts)
            row.error = redact(error) if error else None
            row.finished_at = dt.datetime.now(dt.UTC)

    def runs(
        self, handoff: str | None = None, *, limit: int = 50, id_prefix: str | None = None
    ) -> list[RunRow]:
        """Most recent runs first (of one handoff; whose id starts with ``id_prefix``)."""
        with self._tx() as s:
            query = select(RunRow).order_by(RunRow.started_at.desc()).limit(limit)
            if handoff:
                query = query.where(RunRow.handoff == handoff)
            if id_prefix:
                query = query.where(RunRow.id.startswith(id_prefix, autoescape=True))
            return list(s.scalars(query))

    def run(self, run_id: str) -> RunRow | None:
        """One run by its full id."""
        with self._tx() as s:
            return s.get(RunRow, run_id)

    # audit -----------------------------------------------------------------

    def audit(self, run_id: str | None, events: Iterable[AuditEvent]) -> None:
        """Append audit events in one transaction (details redacted)."""
        rows = [
            AuditEventRow(
                run_id=run_id,
                **{**e.__dict__, "detail": redact(e.detail) if e.detail else None},
            )
            for e in events
        ]
        if rows:
            with self._tx() as s:
                s.add_all(rows)

    def audit_events(
        self,
        *,
        run_id: str | None = None,
        record_id: str | None = None,
        limit: int = 1000,
        handoff: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[AuditEventRow]:
        """Audit events, newest first, optionally of one run, record, handoff, or since a time.

        ``record_id`` matches the written record's id or the source ref (``crm:006...``).
        """
        with self._tx() as s:
            query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
            if run_id:
                query = query.where(AuditEventRow.run_id == run_id)
            if record_id:
                query = query.where(
                    (AuditEventRow.record_id == record_id) | (AuditEventRow.source_ref == record_id)
                )
            if handoff:
                query = query.where(AuditEventRow.handoff == handoff)
            if since is not None:
                query = query.where(AuditEventRow.at >= since)
            return list(s.scalars(query))

    # dead letters ----------------------------------------------------------

    def dead_letter(
        self,
        run_id: str | None,
        *,
        handoff: str,
        system: str,
        object_name: str,
        record_id: str | None,
        reason: str,
        payload: Mapping[str, Any],
    ) -> None:
        """Keep a failed record with its reason; a repeat bumps ``attempts`` instead."""
        safe_payload = json.loads(redact(json.dumps(payload, default=str)))
        with self._tx() as s:
            row = (
                s.scalars(
                    select(DeadLetterRow).where(
                        DeadLetterRow.handoff == handoff,
                        DeadLetterRow.system == system,
                        DeadLetterRow.record_id == record_id,
                        DeadLetterRow.status == "open",
                    )
                ).first()
                if record_id
                else None
            )
            if row is None:
                s.add(
                    DeadLetterRow(
                        run_id=run_id,
                        handoff=handoff,
                        system=system,
                        object=object_name,
                        record_id=record_id,
                        reason=redact(reason),
                        payload=safe_payload,
                    )
                )
                return
            row.attempts += 1
            row.reason, row.payload, row.run_id = redact(reason), safe_payload, run_id

    def dead_letters(
        self,
        *,
        status: str | None = "open",
        handoff: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[DeadLetterRow]:
        """Dead letters with this status (None: any), oldest first unless ``newest_first``.

        ``run_id`` keeps those whose last attempt was in that run.
        """
        order = DeadLetterRow.id.desc() if newest_first else DeadLetterRow.id
        query = select(DeadLetterRow).order_by(order)
        if status is not None:
            query = query.where(DeadLetterRow.status == status)
        if handoff:
            query = query.where(DeadLetterRow.handoff == handoff)
        if run_id:
            query = query.where(DeadLetterRow.run_id == run_id)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as s:
            return list(s.scalars(query))

    def dead_letter_by_id(self, letter_id: int) -> DeadLetterRow | None:
        """One dead letter, or None."""
        with self._tx() as s:
            return s.get(DeadLetterRow, letter_id)

    def set_dead_letter_status(
        self, ids: Sequence[int], status: str, *, note: str | None = None
    ) -> int:
        """Give these dead letters ``status``; ``note`` is appended to each reason.

        There is no column for why a letter was discarded, so the reason keeps it:
        ``"<reason> | discarded: <note>"``. Returns how many rows changed.
        """
        if status not in DEAD_LETTER_STATUSES:
            raise ValueError(f"unknown dead-letter status {status!r}")
        if not ids:
            return 0
        with self._tx() as s:
            rows = s.scalars(select(DeadLetterRow).where(DeadLetterRow.id.in_(list(ids)))).all()
            for row in rows:
                row.status = status
                if note:
                    row.reason = f"{row.reason} | {redact(note)}"
            return len(rows)

    def annotate_dead_letter(self, letter_id: int, note: str) -> bool:
        """Append ``note`` to a dead letter's reason unless it already ends with it."""
        suffix = f" | {redact(note)}"
        with self._tx() as s:
            row = s.get(DeadLetterRow, letter_id)
            if row is None or row.reason.endswith(suffix):
                return False
            row.reason += suffix
            return True

    def resolve_dead_letters(self, handoff: str, system: str, record_ids: Sequence[str]) -> int:
        """Mark open dead letters of records that have now gone through as replayed."""
        if not record_ids:
            return 0
        with self._tx() as s:
            rows = s.scalars(
                select(DeadLetterRow).where(
                    DeadLetterRow.handoff == handoff,
                    DeadLetterRow.system == system,
                    DeadLetterRow.status == "open",
                    DeadLetterRow.record_id.in_(list(record_ids)),
                )
            ).all()
            for row in rows:
                row.status = "replayed"
            return len(rows)

    # round-robin turns -----------------------------------------------------

    def take_turn(self, name: str, size: int) -> int:
        """The next position (0 .. size-1) of the round-robin ``name``, taken for good.

        One turn per call across processes: the increment and its read are one
        transaction, and the row's write lock (SQLite: the database's) keeps a
        concurrent taker waiting until it commits.
        """
        if size < 1:
            raise ValueError("a round-robin needs at least one member")
        try:
            with self._tx() as s:
                if s.get(TurnRow, name) is None:
                    s.add(TurnRow(name=name, taken=0))
        except IntegrityError:
            pass  # another process made the row first
        with self._tx() as s:
            s.execute(update(TurnRow).where(TurnRow.name == name).values(taken=TurnRow.taken + 1))
            taken = int(s.scalar(select(TurnRow.taken).where(TurnRow.name == name)) or 1)
        return (taken - 1) % size

    # webhook deliveries ----------------------------------------------------

    def claim_deliveries(
        self, digests: Sequence[str], *, at: dt.datetime, forget_before: dt.datetime
    ) -> bool:
        """Record a delivery's digests as seen ``at``; False, recording none, if one was seen.

        Digests seen before ``forget_before`` are forgotten first. Atomic across
        processes: each digest is a primary key, so of two stores claiming it at
        once one commits and the other's insert fails (on PostgreSQL it waits for
        the first to commit). No two claims wait on each other in a cycle: digests
        are inserted in order, and forgetting is a transaction of its own that
        waits for nobody (it skips rows another claim is forgetting); inside the
        insert's transaction it could hold a row that a claim waiting for us inserts.
        """
        rows = [{"digest": d, "seen_at": at} for d in sorted(set(digests))]
        if not rows:
            return True
        expired = (
            select(SeenDeliveryRow.digest)
            .where(SeenDeliveryRow.seen_at < forget_before)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writes one at a time
        )
        with self._tx() as s:
            s.execute(delete(SeenDeliveryRow).where(SeenDeliveryRow.digest.in_(expired)))
        try:
            with self._tx() as s:
                s.execute(insert(SeenDeliveryRow).values(rows))  # one statement, in order
        except IntegrityError:
            return False
        return True

    def release_deliveries(self, digests: Sequence[str]) -> None:
        """Forget a delivery's digests: it was not accepted after all, so it may come again."""
        with self._tx() as s:
            s.execute(delete(SeenDeliveryRow).where(SeenDeliveryRow.digest.in_(list(digests))))

    def count(self, table: type[Base]) -> int:
        """Number of rows in a table (tests and summaries)."""
        with self._tx() as s:
            return int(s.scalar(select(func.count()).select_from(table)) or 0)
