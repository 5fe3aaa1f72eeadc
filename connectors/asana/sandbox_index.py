"""The Asana sandbox's lookup of subtasks by parent, kept in step with the tasks.

:class:`TaskTable` is the store's ``tasks`` dict: every way of putting a task
in or taking it out (``[]=``, ``del``, ``pop``, ``update``, ...) also files it
in or out of the lookup, and a task in the table tells it when its ``parent``
changes (see ``Task.__setattr__``), however the change is made (the API's
writes, the test helpers, the seed). The table also remembers the order in
which gids entered it, which is the dict's own order, so that a task's
subtasks come out in the order a scan of the dict would give.
"""

from __future__ import annotations

import itertools
from typing import Any

from connectors.asana.sandbox_data import WATCHED, Task

__all__ = ["TaskTable"]


class _Slot:
    """What a task in a table knows of it: the table to tell, and its gid there."""

    __slots__ = ("key", "table")

    def __init__(self, table: TaskTable, key: str) -> None:
        self.table, self.key = table, key

    def changing(self, task: Task, name: str, value: Any) -> None:
        """Re-file ``task`` as its ``name`` becomes ``value``."""
        self.table._unfile(self.key, task)
        object.__setattr__(task, name, value)
        self.table._file(self.key, task)


class TaskTable(dict[str, Task]):
    """Tasks by gid, with their subtasks by parent gid."""

    def __init__(self) -> None:
        super().__init__()
        self._children: dict[str, set[str]] = {}
        self._order: dict[str, int] = {}
        self._numbers = itertools.count()

    # the lookup ----------------------------------------------------------------

    def children(self, parent: str) -> list[Task]:
        """Tasks whose ``parent`` is ``parent``, in the table's order."""
        keys = sorted(self._children.get(parent, ()), key=self._order.__getitem__)
        return [dict.__getitem__(self, k) for k in keys]

    def child_count(self, parent: str) -> int:
        """How many tasks have ``parent`` as their parent."""
        return len(self._children.get(parent, ()))

    def _file(self, key: str, task: Task) -> None:
        if task.parent is not None:
            self._children.setdefault(task.parent, set()).add(key)

    def _unfile(self, key: str, task: Task) -> None:
        if task.parent is not None:
            keys = self._children.get(task.parent)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._children[task.parent]

    def _attach(self, key: str, task: Task) -> None:
        task.__dict__[WATCHED] = _Slot(self, key)
        self._file(key, task)

    def _detach(self, key: str, task: Task) -> None:
        slot = task.__dict__.get(WATCHED)
        if isinstance(slot, _Slot) and slot.table is self and slot.key == key:
            del task.__dict__[WATCHED]
        self._unfile(key, task)
        self._order.pop(key, None)

    # dict ----------------------------------------------------------------------

    def __setitem__(self, key: str, task: Task) -> None:
        old = super().get(key)
        if old is not None:
            self._unfile(key, old)
            slot = old.__dict__.get(WATCHED)
            if isinstance(slot, _Slot) and slot.table is self and slot.key == key:
                del old.__dict__[WATCHED]
        elif key not in self:
            self._order[key] = next(self._numbers)  # a new key goes last, as in a dict
        super().__setitem__(key, task)
        self._attach(key, task)

    def __delitem__(self, key: str) -> None:
        task = self[key]
        super().__delitem__(key)
        self._detach(key, task)

    def pop(self, key: str, *default: Any) -> Any:
        """Remove and return the task under ``key`` (or ``default``)."""
        if key in self:
            task = super().pop(key)
            self._detach(key, task)
            return task
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self) -> tuple[str, Task]:
        """Remove and return the last task."""
        key, task = super().popitem()
        self._detach(key, task)
        return key, task

    def clear(self) -> None:
        """Remove every task."""
        for key, task in list(self.items()):
            self._detach(key, task)
        super().clear()
        self._children.clear()
        self._order.clear()

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The task under ``key``, storing ``default`` there first if there is none."""
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Store every pair, as ``[]=`` does."""
        for key, task in dict(*args, **kwargs).items():
            self[key] = task

    def __ior__(self, other: Any) -> TaskTable:  # type: ignore[override,misc]
        self.update(other)
        return self
