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

from connectors.asana.sandbox_data import Task
from hub.sandbox_tables import IndexedTable

__all__ = ["TaskTable"]


class TaskTable(IndexedTable[str, Task]):
    """Tasks by gid, with their subtasks by parent gid."""

    def __init__(self) -> None:
        super().__init__()
        self._children: dict[str, set[str]] = {}
        self._order: dict[str, int] = {}
        self._numbers = itertools.count()

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

    def _added(self, key: str) -> None:
        self._order[key] = next(self._numbers)  # a new key goes last, as in a dict

    def _removed(self, key: str) -> None:
        self._order.pop(key, None)

    def _forget(self) -> None:
        self._children.clear()
        self._order.clear()
