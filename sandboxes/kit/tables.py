"""A sandbox table (a dict of records) that keeps its lookups in step with its records.

Sandboxes look records up by parent, project and the like; scanning the whole
table per request makes them quadratic at 100k records. :class:`IndexedTable`
is the table itself: every way of putting a record in or taking it out
(``[]=``, ``del``, ``pop``, ``update``, ...) files it in or out of the
subclass's lookups, and a stored record re-files itself when a looked-up
attribute changes, however the change is made. For that the record's class
calls ``slot.changing(record, name, value)`` from its ``__setattr__`` when
``record.__dict__[WATCHED]`` holds a slot (see the Jira and Asana sandboxes).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["WATCHED", "IndexedTable", "unfile"]

WATCHED = "_index_slot"
"""The key, in a stored record's ``__dict__``, of the slot that re-files it."""

K = TypeVar("K")
V = TypeVar("V")


class _Slot(Generic[K, V]):
    """What a stored record knows of its table: the table to tell, and its key there."""

    __slots__ = ("key", "table")

    def __init__(self, table: IndexedTable[K, V], key: K) -> None:
        self.table, self.key = table, key

    def changing(self, record: V, name: str, value: Any) -> None:
        """Re-file ``record`` as its ``name`` becomes ``value``."""
        self.table._unfile(self.key, record)
        object.__setattr__(record, name, value)
        self.table._file(self.key, record)


class IndexedTable(dict[K, V]):
    """Records by key; subclasses keep lookups in :meth:`_file` and :meth:`_unfile`."""

    def _file(self, key: K, record: V) -> None:
        """Add ``record`` (stored under ``key``) to the lookups."""

    def _unfile(self, key: K, record: V) -> None:
        """Take ``record`` (stored under ``key``) out of the lookups."""

    def _added(self, key: K) -> None:
        """A key not in the table before was stored."""

    def _removed(self, key: K) -> None:
        """A key left the table."""

    def _forget(self) -> None:
        """Every record left the table: empty the lookups."""

    def _attach(self, key: K, record: V) -> None:
        record.__dict__[WATCHED] = _Slot(self, key)
        self._file(key, record)

    def _detach(self, key: K, record: V) -> None:
        slot = record.__dict__.get(WATCHED)
        if isinstance(slot, _Slot) and slot.table is self and slot.key == key:
            del record.__dict__[WATCHED]
        self._unfile(key, record)

    def __setitem__(self, key: K, record: V) -> None:
        old = super().get(key)
        if old is not None:
            self._detach(key, old)
        elif key not in self:
            self._added(key)
        super().__setitem__(key, record)
        self._attach(key, record)

    def __delitem__(self, key: K) -> None:
        record = self[key]
        super().__delitem__(key)
        self._detach(key, record)
        self._removed(key)

    def pop(self, key: K, *default: Any) -> Any:
        """Remove and return the record under ``key`` (or ``default``)."""
        if key in self:
            record = super().pop(key)
            self._detach(key, record)
            self._removed(key)
            return record
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self) -> tuple[K, V]:
        """Remove and return the last record."""
        key, record = super().popitem()
        self._detach(key, record)
        self._removed(key)
        return key, record

    def clear(self) -> None:
        """Remove every record."""
        for key, record in list(self.items()):
            self._detach(key, record)
        super().clear()
        self._forget()

    def setdefault(self, key: K, default: Any = None) -> Any:
        """The record under ``key``, storing ``default`` there first if there is none."""
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Store every pair, as ``[]=`` does."""
        for key, record in dict(*args, **kwargs).items():
            self[key] = record

    def __ior__(self, other: Any) -> IndexedTable[K, V]:  # type: ignore[override,misc]
        self.update(other)
        return self


def unfile(lookup: dict[Any, set[K]], value: Any, key: K) -> None:
    """Take ``key`` out of ``lookup[value]``, and drop the entry once it is empty."""
    keys = lookup.get(value)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del lookup[value]
