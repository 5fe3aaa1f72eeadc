"""Leases: one run at a time per handoff and system, across processes and machines.

A run takes the lease before it reads, renews it before each page and gives
it back when it ends. Taking and renewing are single conditional UPDATEs, so
two workers racing for a lease cannot both win on SQLite or PostgreSQL. A run
that crashed keeps its lease only until it expires; the next run then takes
it over, and marks the crashed run's row ``crashed``. It takes over at once
only when the holder provably was a process that no longer runs: one of the
same kernel boot and PID namespace (:func:`host_identity`), whose PID is gone.
Host names prove nothing (the pods of one Deployment, containers started with
one ``--hostname``, share them), so a holder elsewhere is waited for. A run
that lost its lease (it stalled past the expiry and another took over) learns
it at its next renewal or cursor write and stops, so it never moves a cursor
behind the new holder's back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handoff_hub.hub.errors import HubError
from handoff_hub.hub.store.tables import LeaseRow, RunRow

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "Lease",
    "LeaseHeld",
    "LeaseLost",
    "host_identity",
    "new_holder",
]

log = logging.getLogger("hub.store.leases")

DEFAULT_LEASE_SECONDS = 900.0
"""A page that takes longer than this lets a second run take over."""


class LeaseHeld(HubError):
    """Another run holds the lease (it is working, or crashed and its lease has not expired)."""


class LeaseLost(HubError):
    """The lease expired and another run took it: this run must stop writing."""


_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_PID_NAMESPACE = "/proc/self/ns/pid"
CRASHED = (
    "the run stopped without finishing (its process was killed or its machine lost); "
    "the next run took its lease over"
)


def host_identity() -> str | None:
    """Who can see this process's PIDs: this kernel boot and PID namespace, hashed.

    Two processes with the same identity see the same PIDs, so one can tell
    whether the other still runs. Containers on one host share the boot id
    but not the PID namespace; machines share neither. None where the
    system does not tell (then no holder is ever taken for dead early).
    """
    try:
        boot = _BOOT_ID.read_text(encoding="ascii").strip()
        namespace = os.readlink(_PID_NAMESPACE)
    except OSError:
        return None
    return hashlib.sha256(f"{boot}|{namespace}".encode()).hexdigest()[:12]


def new_holder() -> str:
    """A holder id naming this process, unique per run: ``host:identity:pid:random``.

    The host name is for people reading ``hub history``; only the identity
    (:func:`host_identity`) decides whether the holder can be seen dead.
    """
    host = socket.gethostname()[:20].replace(":", "-")
    return f"{host}:{host_identity() or '-'}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(holder: str) -> bool:
    """True when ``holder`` is provably a process that no longer runs.

    Only a holder of this kernel boot and PID namespace can be checked; any
    other (another machine, another container, an older release's holder
    without an identity) is alive until its lease expires.
    """
    parts = holder.split(":")
    mine = host_identity()
    if len(parts) != 4 or mine is None or parts[1] != mine or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


Clock = Callable[[], dt.datetime]


class Lease:
    """The lease ``name`` as held (or wanted) by ``holder``.

    ``sessions`` is the store's session factory; ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str,
        *,
        holder: str | None = None,
        seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self.name = name
        self.holder = holder or new_holder()
        self.seconds = seconds
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def acquire(self) -> None:
        """Take the lease, or raise LeaseHeld naming who holds it and until when.

        A lease whose holder was a process on this machine that no longer
        exists (killed, crashed) is taken over at once, without waiting for it
        to expire; a holder elsewhere is waited for.
        """
        now = self._clock()
        self._ensure_row(now)
        if self._claim(now, steal_expired=True):
            return
        holder, expires = self._current()
        if holder is not None and _dead_here(holder) and self._take_from(holder, now):
            log.warning(
                "%s: took over the lease of %s, which is no longer running", self.name, holder
            )
            return
        raise LeaseHeld(
            f"{self.name}: another run ({holder}) holds the lease until "
            f"{expires.isoformat(timespec='seconds') if expires else '?'}; "
            "it is still working, or it stopped and its lease runs out then"
        )

    def renew(self) -> None:
        """Extend the lease; raise LeaseLost if another run has taken it."""
        if not self._claim(self._clock(), steal_expired=False):
            raise LeaseLost(f"{self.name}: this run's lease was taken over by another run")

    def release(self) -> None:
        """Give the lease back (only if still ours)."""
        with self._sessions.begin() as s:
            s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .values(holder=None, expires_at=self._clock())
                .execution_options(synchronize_session=False)
            )

    def held(self) -> bool:
        """True while this run holds an unexpired lease."""
        holder, expires = self._current()
        return holder == self.holder and expires is not None and expires > self._clock()

    def check(self, session: Session) -> None:
        """Inside ``session``'s transaction: raise LeaseLost unless this run holds the lease.

        On PostgreSQL the row is locked until the transaction ends, so a run
        taking the lease over waits for the write this check guards.
        """
        row = session.get(LeaseRow, self.name, with_for_update=True)
        expires = row.expires_at if row else None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        if row is None or row.holder != self.holder or expires is None or expires <= self._clock():
            raise LeaseLost(f"{self.name}: this run's lease was taken over by another run")

    def _claim(self, now: dt.datetime, *, steal_expired: bool) -> bool:
        mine = LeaseRow.holder == self.holder
        free = LeaseRow.holder.is_(None) | (LeaseRow.expires_at <= now)
        condition = (mine | free) if steal_expired else (mine & (LeaseRow.expires_at > now))
        values: dict[str, object] = {
            "holder": self.holder,
            "expires_at": now + dt.timedelta(seconds=self.seconds),
        }
        with self._sessions.begin() as s:
            before: str | None = None
            if steal_expired:
                current = s.get(LeaseRow, self.name)
                if current is None or current.holder != self.holder:
                    values["acquired_at"] = now
                    before = current.holder if current is not None else None
            result = s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            claimed = bool(cast(CursorResult[Any], result).rowcount == 1)
            if claimed and before is not None:
                _mark_crashed(s, before, now)
            return claimed

    def _take_from(self, holder: str, now: dt.datetime) -> bool:
        with self._sessions.begin() as s:
            result = s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == holder)
                .values(
                    holder=self.holder,
                    acquired_at=now,
                    expires_at=now + dt.timedelta(seconds=self.seconds),
                )
                .execution_options(synchronize_session=False)
            )
            taken = bool(cast(CursorResult[Any], result).rowcount == 1)
            if taken:
                _mark_crashed(s, holder, now)
            return taken

    def _ensure_row(self, now: dt.datetime) -> None:
        try:
            with self._sessions.begin() as s:
                if s.get(LeaseRow, self.name) is None:
                    s.add(LeaseRow(name=self.name, holder=None, expires_at=now))
        except IntegrityError:
            pass  # another process made the row first: fine, it is the same row

    def _current(self) -> tuple[str | None, dt.datetime | None]:
        with self._sessions() as s:
            row = s.get(LeaseRow, self.name)
            if row is None:
                return None, None
            expires = row.expires_at
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
            return row.holder, expires


def _mark_crashed(session: Session, holder: str, now: dt.datetime) -> None:
    """The runs ``holder`` left running: they stopped without finishing."""
    session.execute(
        update(RunRow)
        .where(RunRow.holder == holder, RunRow.status == "running")
        .values(status="crashed", finished_at=now, error=CRASHED)
        .execution_options(synchronize_session=False)
    )
