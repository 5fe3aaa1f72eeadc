"""State store: links, cursors, runs, audit events and dead letters (SQLAlchemy 2)."""

from handoff_hub.hub.store.repo import AuditEvent, Link, StateStore
from handoff_hub.hub.store.tables import AuditEventRow, CursorRow, DeadLetterRow, LinkRow, RunRow

__all__ = [
    "AuditEvent",
    "AuditEventRow",
    "CursorRow",
    "DeadLetterRow",
    "Link",
    "LinkRow",
    "RunRow",
    "StateStore",
]
