"""The state store's tables (SQLAlchemy 2 typed declarative).

links        which record in one product is which in the other, per handoff
cursors      how far each incremental read has come
handled      the records a read handled within its look-back window, at which version
runs         one row per handoff run, with its counts
audit_events every write the hub made: what, where, fingerprints, outcome
dead_letters records that failed validation or a non-transient error, replayable
sync_state   the field values a linked deal and project last agreed on (sync)
leases       who runs a handoff right now, until when (one run per handoff and system)
seen_deliveries  digests of the webhook deliveries accepted within the replay window
turns        how many turns each round-robin pool has given (a project manager pool)
rate_budget  the tokens left in each vendor rate budget the hub's processes share

The schema is created and changed by the Alembic migrations in
hub/store/migrations; a table changed here needs a new migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditEventRow",
    "Base",
    "CursorRow",
    "DeadLetterRow",
    "HandledRow",
    "LeaseRow",
    "LinkRow",
    "RateBudgetRow",
    "RunRow",
    "SeenDeliveryRow",
    "SyncStateRow",
    "TurnRow",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base; UTC-aware datetimes everywhere."""

    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class LinkRow(Base):
    """Source record -> target record, for one handoff."""

    __tablename__ = "links"
    __table_args__ = (
        # source_id leads: every look-up by source names its ids, so any plan on
        # this index takes them as its index condition (never a filter of the rest)
        UniqueConstraint(
            "source_id", "handoff", "source_system", "target_system", "slot", name="uq_link"
        ),
        Index("ix_links_target", "target_system", "target_id"),
        Index("ix_links_target_key", "target_system", "target_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff: Mapped[str] = mapped_column(String(64))
    source_system: Mapped[str] = mapped_column(String(64))
    source_object: Mapped[str] = mapped_column(String(128))
    source_id: Mapped[str] = mapped_column(String(255))
    target_system: Mapped[str] = mapped_column(String(64))
    target_object: Mapped[str] = mapped_column(String(128))
    target_id: Mapped[str] = mapped_column(String(255))
    target_key: Mapped[str | None] = mapped_column(String(255))
    target_url: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32), default="complete")
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """Which of a source's projects this is: "" for its only one, else the template's key."""
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class CursorRow(Base):
    """Position of one incremental read (handoff + system + object)."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class HandledRow(Base):
    """A record one incremental read handled at this modified time, kept for the look-back.

    A read starts a window before its cursor, so a record committed late with
    an older modified time is still found; these rows say which of the records
    read again were already handled at the version read, so none is handled twice.
    """

    __tablename__ = "handled"
    __table_args__ = (Index("ix_handled_modified", "cursor", "modified_at"),)

    cursor: Mapped[str] = mapped_column(String(255), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    modified_at: Mapped[dt.datetime] = mapped_column()


class RunRow(Base):
    """One run of a handoff; ``holder`` is the lease holder that ran it (None: no lease)."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_holder", "holder"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handoff: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(default=False)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    """The orchestrator's run (a Prefect flow run id) this run was part of, if any."""


class AuditEventRow(Base):
    """One write the hub made (or tried to)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_record", "system", "record_id"),
        Index("ix_audit_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    handoff: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    system: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(128))
    record_id: Mapped[str | None] = mapped_column(String(255))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    before_fp: Mapped[str | None] = mapped_column(String(64))
    after_fp: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class DeadLetterRow(Base):
    """A record the hub could not handle, kept with the reason until replayed or discarded."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_status", "status", "handoff"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    handoff: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(128))
    record_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    attempts: Mapped[int] = mapped_column(default=1)


class SyncStateRow(Base):
    """The field values last agreed between the two records of one link (sync's base)."""

    __tablename__ = "sync_state"

    pair: Mapped[str] = mapped_column(String(255), primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class LeaseRow(Base):
    """The run allowed to work on one handoff and system now, and until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    acquired_at: Mapped[dt.datetime | None] = mapped_column()
    expires_at: Mapped[dt.datetime] = mapped_column(default=_now)


class SeenDeliveryRow(Base):
    """A webhook delivery accepted lately, by digest, so that the same one again is a replay.

    The digest is the primary key: of two ``hub serve`` processes inserting it at
    once, one commits and the other fails, so only one accepts the delivery.
    """

    __tablename__ = "seen_deliveries"
    __table_args__ = (Index("ix_seen_deliveries_seen_at", "seen_at"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column()


class TurnRow(Base):
    """How many turns a round-robin pool has given, so its next one survives restarts."""

    __tablename__ = "turns"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class RateBudgetRow(Base):
    """One rate budget shared by the hub's processes: its tokens at ``updated_at``.

    ``updated_at`` is in seconds since the epoch, by the database's clock on
    PostgreSQL (workers on several machines agree on it) and the machine's on SQLite.
    """

    __tablename__ = "rate_budget"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
