"""An on-disk index of the deals and projects one reconcile has seen.

Joining every deal with every project needs each side's ids at hand; kept in
a temporary SQLite file (stdlib sqlite3) they cost no memory, so a reconcile
of a million deals runs in the same few megabytes as one of a thousand.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff_hub.hub.handoffs.template_choice import VALUE_SLOT
from handoff_hub.hub.store.repo import LinkEnds
from handoff_hub.hub.unicode_text import without_surrogates

__all__ = ["DealRow", "RecordIndex"]

_SCHEMA = """
CREATE TABLE deals (
    id TEXT PRIMARY KEY, stamp TEXT, name TEXT, won INTEGER, linked INTEGER,
    close_date TEXT, in_window INTEGER, days_to_project REAL, record TEXT,
    readable INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE projects (id TEXT, key TEXT, name TEXT, stamp TEXT, deal TEXT, slot TEXT);
CREATE TABLE links_seen (source_id TEXT PRIMARY KEY);
CREATE TABLE links (source_id TEXT, target_id TEXT, target_key TEXT, created REAL, slot TEXT);
CREATE TABLE expected (deal TEXT, slot TEXT);
CREATE TABLE slot_stamps (stamp TEXT, deal TEXT, slot TEXT);
CREATE TABLE progress (project TEXT, key TEXT, deal TEXT);
CREATE TABLE unread_deals (deal TEXT, project TEXT, name TEXT, via_link INTEGER);
"""
_DEAL_INDEXES = """
CREATE INDEX deals_stamp ON deals (stamp);
CREATE INDEX expected_deal ON expected (deal, slot);
CREATE INDEX slot_stamps_stamp ON slot_stamps (stamp);
"""
_LINKED_DEALS = """
UPDATE deals SET linked = 1 WHERE won = 1 AND id IN (SELECT source_id FROM links);
UPDATE deals SET days_to_project = (
    SELECT max((l.created - CAST(strftime('%s', deals.close_date) AS REAL)) / 86400.0, 0.0)
    FROM links l WHERE l.source_id = deals.id ORDER BY l.rowid LIMIT 1
) WHERE linked = 1 AND in_window = 1 AND close_date IS NOT NULL;
"""
_PROJECT_INDEXES = """
CREATE INDEX projects_id ON projects (id);
CREATE INDEX projects_key ON projects (key);
CREATE INDEX projects_stamp ON projects (stamp);
CREATE INDEX projects_deal ON projects (deal, slot);
"""
_LINK_INDEXES = """
CREATE INDEX links_source ON links (source_id, slot);
CREATE INDEX links_target_id ON links (target_id);
CREATE INDEX links_target_key ON links (target_key);
"""


_EXTRA_PROJECTS = """
WITH flagged AS (
    SELECT p.rowid AS r, p.deal, p.key, COALESCE(p.slot, '') AS slot,
        COALESCE(d.won = 1
            AND EXISTS (SELECT 1 FROM expected e WHERE e.deal = p.deal)
            AND NOT EXISTS (
                SELECT 1 FROM expected e WHERE e.deal = p.deal AND e.slot = COALESCE(p.slot, '')
            ), 0) AS unexpected
    FROM projects p LEFT JOIN deals d ON d.id = p.deal
    WHERE p.deal IS NOT NULL
), bad AS (
    SELECT deal FROM flagged GROUP BY deal
    HAVING count(*) > count(DISTINCT slot) OR max(unexpected) = 1
)
SELECT f.deal, COALESCE(d.name, f.deal), f.key, f.slot, f.unexpected
FROM flagged f JOIN bad b ON b.deal = f.deal LEFT JOIN deals d ON d.id = f.deal
ORDER BY f.deal, f.r
"""
_MISSING_SLOTS = """
SELECT e.deal, d.name, e.slot FROM expected e JOIN deals d ON d.id = e.deal
WHERE d.won = 1 AND d.readable = 1
    AND (d.linked = 1 OR EXISTS (SELECT 1 FROM projects p WHERE p.deal = e.deal))
    AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.deal = e.deal AND p.slot = e.slot)
    AND NOT EXISTS (SELECT 1 FROM links l WHERE l.source_id = e.deal AND l.slot = e.slot)
ORDER BY e.deal, e.rowid
"""


_WINDOW_COMPLETE = """
SELECT count(*) FROM deals d WHERE d.won = 1 AND d.in_window = 1
    AND (d.linked = 1 OR EXISTS (SELECT 1 FROM projects p WHERE p.deal = d.id))
    AND NOT EXISTS (
        SELECT 1 FROM expected e WHERE e.deal = d.id
        AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.deal = e.deal AND p.slot = e.slot)
        AND NOT EXISTS (SELECT 1 FROM links l WHERE l.source_id = e.deal AND l.slot = e.slot)
    )
"""


def _stamp(text: str) -> str:
    """A stamp as the index compares it: case-folded, and storable.

    Stamps come from the products' records as they are (labels, properties);
    one holding an unpaired surrogate cannot be written to SQLite at all, so
    the surrogate becomes U+FFFD: such a stamp matches no deal, as it should.
    """
    return without_surrogates(text.casefold())


@dataclass(frozen=True)
class DealRow:
    """A deal as the index keeps it."""

    id: str
    name: str
    won: bool
    linked: bool
    in_window: bool
    record: str | None = None
    """What comparing needs of the deal (JSON), for won deals."""
    readable: bool = True
    """False for a deal the mapping could not read (reported as such)."""


class RecordIndex:
    """Deals and projects by id and stamp, in a temporary SQLite database.

    A table's secondary indexes are built once it is filled (:meth:`deals_done`,
    :meth:`projects_done`): one sort instead of a B-tree insert per row. Lookups
    before that are still right, only slower.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="hub-reconcile-")
        self._db = sqlite3.connect(Path(self._dir.name) / "index.db")
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)

    def close(self) -> None:
        """Drop the database."""
        self._db.close()
        self._dir.cleanup()

    # deals ---------------------------------------------------------------------------

    def add_deals(
        self,
        rows: Iterable[tuple[str, str, str, bool, dt.date | None, bool, str | None]],
    ) -> None:
        """``(id, stamp, name, won, close_date, in_window, record)``.

        ``record`` is what comparing needs of the deal, as JSON (kept for won
        deals, which step 2 compares with their projects, so they are not read
        from the CRM again). Whether a won deal is linked, and how many days
        its project took, the index works out itself (:meth:`deals_done`).
        """
        self._db.executemany(
            "INSERT OR REPLACE INTO deals VALUES (?, ?, ?, ?, 0, ?, ?, NULL, ?, 1)",
            [
                (i, _stamp(s), n, int(w), c.isoformat() if c else None, int(iw), r)
                for i, s, n, w, c, iw, r in rows
            ],
        )

    def add_slots(self, rows: Iterable[tuple[str, Sequence[str], Mapping[str, str]]]) -> None:
        """``(deal id, slots the rules give it, stamp of each other slot its projects may hold)``.

        A deal's project in slot ``""`` carries the deal's own stamp (:meth:`add_deals`).
        """
        expected, stamps = [], []
        for deal, slots, slot_stamps in rows:
            expected += [(deal, slot) for slot in slots]
            stamps += [(_stamp(stamp), deal, slot) for slot, stamp in slot_stamps.items()]
        self._db.executemany("INSERT INTO expected VALUES (?, ?)", expected)
        self._db.executemany("INSERT INTO slot_stamps VALUES (?, ?, ?)", stamps)

    def add_unreadable_deals(self, ids: Iterable[str]) -> None:
        """Deals the mapping could not read: they exist, but are neither won nor compared."""
        self._db.executemany(
            "INSERT OR REPLACE INTO deals (id, name, won, linked, in_window, readable)"
            " VALUES (?, ?, 0, 0, 0, 0)",
            [(i, i) for i in ids],
        )

    def deals_done(self) -> None:
        """Every deal is in: mark the linked won ones, and index the deals by stamp.

        Days to project run from the close date (midnight UTC) to when the
        deal's first link was made, never negative; kept for the window's deals.
        """
        self._db.executescript(_DEAL_INDEXES + _LINKED_DEALS)

    def deals(self, ids: Iterable[str]) -> dict[str, DealRow]:
        """The indexed deals among ``ids``."""
        query = (
            "SELECT id, name, won, linked, in_window, record, readable FROM deals"
            " WHERE id IN ({marks})"
        )
        return {
            row[0]: DealRow(
                row[0], row[1], bool(row[2]), bool(row[3]), bool(row[4]), row[5], bool(row[6])
            )
            for row in self._rows_in(query, list(dict.fromkeys(ids)))
        }

    def deals_by_stamp(self, stamps: Iterable[str]) -> dict[str, str]:
        """Stamp -> deal id, for the indexed deals carrying these stamps."""
        wanted = [_stamp(s) for s in dict.fromkeys(stamps)]
        return dict(self._rows_in("SELECT stamp, id FROM deals WHERE stamp IN ({marks})", wanted))

    def slots_by_stamp(
        self, stamps: Iterable[str], *, value_mark: str | None = None
    ) -> dict[str, tuple[str, str]]:
        """Stamp -> ``(deal id, slot)``: a deal's own stamp (slot ""), or one of its slots'.

        ``value_mark`` is what a per-value slot's stamp adds to its deal's stamp
        (``#value:``; Jira's label: ``-value-``): a stamp no slot of its deal's
        current values has (a value removed since) is found by the deal's stamp
        before it, its slot being the rest (as the product keeps it).
        """
        wanted = [_stamp(s) for s in dict.fromkeys(stamps)]
        found = {stamp: (deal, "") for stamp, deal in self.deals_by_stamp(wanted).items()}
        query = "SELECT stamp, deal, slot FROM slot_stamps WHERE stamp IN ({marks})"
        for stamp, deal, slot in self._rows_in(query, wanted):
            found.setdefault(stamp, (deal, slot))
        if value_mark:
            found |= self._value_stamps([s for s in wanted if s not in found], _stamp(value_mark))
        return found

    def _value_stamps(self, stamps: list[str], mark: str) -> dict[str, tuple[str, str]]:
        heads: dict[str, list[tuple[str, str]]] = {}
        for stamp in stamps:
            at = stamp.find(mark)
            while at > 0:
                heads.setdefault(stamp[:at], []).append((stamp, stamp[at + len(mark) :]))
                at = stamp.find(mark, at + 1)
        found: dict[str, tuple[str, str]] = {}
        for head, deal in self.deals_by_stamp(heads).items():
            for stamp, rest in heads[head]:
                found.setdefault(stamp, (deal, f"{VALUE_SLOT}{rest}"))
        return found

    def _rows_in(self, query: str, values: list[str], *, times: int = 1) -> Iterator[Any]:
        """Rows of ``query``, whose ``{marks}`` (``times`` of them) take the values, in chunks.

        A chunk is at most 900 parameters (SQLite's oldest limit is 999).
        """
        size = 900 // times
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(query.format(marks=marks), chunk * times)

    def won_without_project(self) -> Iterator[tuple[str, str]]:
        """``(id, name)`` of won deals with neither a link nor a stamped project."""
        yield from self._db.execute(
            "SELECT d.id, d.name FROM deals d WHERE d.won = 1 AND d.linked = 0"
            " AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.deal = d.id)"
            " ORDER BY d.id"
        )

    # projects ------------------------------------------------------------------------

    def add_projects(
        self, rows: Iterable[tuple[str, str, str, str | None, str | None, str | None]]
    ) -> None:
        """``(id, key, name, stamp, deal, slot)``: ``deal`` (if known) and the slot it holds."""
        self._db.executemany(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
            [(i, k, n, _stamp(s) if s else None, d, sl) for i, k, n, s, d, sl in rows],
        )

    def add_progress(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """(project id, project key, deal id) of projects whose percent complete is compared."""
        self._db.executemany("INSERT INTO progress VALUES (?, ?, ?)", rows)

    def progress(self, batch: int) -> Iterator[list[tuple[str, str, str]]]:
        """What :meth:`add_progress` recorded, ``batch`` rows at a time, in order."""
        after = 0
        while rows := self._db.execute(
            "SELECT rowid, project, key, deal FROM progress WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, batch),
        ).fetchall():
            after = rows[-1][0]
            yield [(r[1], r[2], r[3]) for r in rows]

    def add_unread_deals(self, rows: Iterable[tuple[str, str, str, bool]]) -> None:
        """(deal id, project key, project name, via link) of projects whose deal was not read."""
        self._db.executemany("INSERT INTO unread_deals VALUES (?, ?, ?, ?)", rows)

    def unread_deals(self, batch: int) -> Iterator[list[tuple[str, str, str, bool]]]:
        """What :meth:`add_unread_deals` recorded, ``batch`` rows at a time, in order."""
        after = 0
        while rows := self._db.execute(
            "SELECT rowid, deal, project, name, via_link FROM unread_deals WHERE rowid > ? "
            "ORDER BY rowid LIMIT ?",
            (after, batch),
        ).fetchall():
            after = rows[-1][0]
            yield [(r[1], r[2], r[3], bool(r[4])) for r in rows]

    def projects_done(self) -> None:
        """Every project is in: index them for the whole-index questions."""
        self._db.executescript(_PROJECT_INDEXES)

    def add_links_seen(self, source_ids: Iterable[str]) -> None:
        """Links (by source id) whose project the scan saw."""
        self._db.executemany(
            "INSERT OR IGNORE INTO links_seen VALUES (?)", [(i,) for i in source_ids]
        )

    # links -----------------------------------------------------------------------------

    def load_links(self, batches: Iterable[list[LinkEnds]]) -> None:
        """Every link of the pair, read once before the scan (then indexed)."""
        for batch in batches:
            self._db.executemany(
                "INSERT INTO links VALUES (?, ?, ?, ?, ?)",
                [(s, t, k, c.timestamp() if c else None, sl) for s, t, k, c, sl in batch],
            )
        self._db.executescript(_LINK_INDEXES)

    def links_to(self, keys: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
        """Project id or key -> ``(deal id, project id, slot)`` of each link to it, in order."""
        wanted = list(dict.fromkeys(keys))
        query = (
            "SELECT rowid, source_id, target_id, target_key, slot FROM links"
            " WHERE target_id IN ({marks}) OR target_key IN ({marks})"
        )
        rows = sorted({row[0]: row for row in self._rows_in(query, wanted, times=2)}.values())
        keys_wanted = set(wanted)
        found: dict[str, list[tuple[str, str, str]]] = {}
        for _, source_id, target_id, target_key, slot in rows:
            if target_id in keys_wanted:
                found.setdefault(target_id, []).append((source_id, target_id, slot))
            if target_key != target_id and target_key in keys_wanted:
                found.setdefault(target_key, []).append((source_id, target_id, slot))
        return found

    def unseen_links(self) -> Iterator[tuple[str, str, str | None]]:
        """``(deal id, project id, project key)`` of links whose project the scan did not see.

        A link is seen when the projects pass matched it, or saw a project with
        its target id or key.
        """
        yield from self._db.execute(
            "SELECT l.source_id, l.target_id, l.target_key FROM links l"
            " WHERE NOT EXISTS (SELECT 1 FROM links_seen s WHERE s.source_id = l.source_id)"
            " AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = l.target_id"
            " OR p.key = l.target_id OR p.id = l.target_key OR p.key = l.target_key)"
            " ORDER BY l.rowid"
        )

    def extra_projects(self) -> Iterator[tuple[str, str, list[tuple[str, str, bool]]]]:
        """``(deal id, deal name, [(project key, slot, unexpected)])`` of deals with too many.

        Too many: two projects in one slot, or (for a won deal the rules were asked
        about) a project in a slot its rules do not give.
        """
        deal, name, rows = None, "", []
        for row in self._db.execute(_EXTRA_PROJECTS):
            if row[0] != deal and deal is not None:
                yield deal, name, rows
                rows = []
            deal, name = str(row[0]), str(row[1])
            rows.append((str(row[2]), str(row[3] or ""), bool(row[4])))
        if deal is not None:
            yield deal, name, rows

    def missing_slots(self) -> Iterator[tuple[str, str, list[str]]]:
        """``(deal id, deal name, slots)`` of won deals with some projects but not every one.

        A slot counts as held when a project in it was seen or a link names it
        (a linked project that is gone is a link to a deleted record instead).
        """
        deal, name, slots = None, "", []
        for row in self._db.execute(_MISSING_SLOTS):
            if row[0] != deal and deal is not None:
                yield deal, name, slots
                slots = []
            deal, name = str(row[0]), str(row[1])
            slots.append(str(row[2]))
        if deal is not None:
            yield deal, name, slots

    # KPIs ------------------------------------------------------------------------------

    def window_counts(self) -> tuple[int, int]:
        """(won deals in the window, those of them with a project)."""
        won, with_project = self._db.execute(
            "SELECT count(*), coalesce(sum(CASE WHEN d.linked = 1 OR EXISTS"
            " (SELECT 1 FROM projects p WHERE p.deal = d.id) THEN 1 ELSE 0 END), 0)"
            " FROM deals d WHERE d.won = 1 AND d.in_window = 1"
        ).fetchone()
        return int(won), int(with_project)

    def window_complete(self) -> int:
        """Won deals of the window holding every slot their rules give (a project or a link)."""
        return int(self._db.execute(_WINDOW_COMPLETE).fetchone()[0])

    def days_to_project(self) -> list[float]:
        """Days from won to project created, of the window's deals (sorted)."""
        return [
            float(r[0])
            for r in self._db.execute(
                "SELECT days_to_project FROM deals WHERE in_window = 1"
                " AND days_to_project IS NOT NULL ORDER BY days_to_project"
            )
        ]
