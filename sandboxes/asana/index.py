"""The Asana sandbox's lookups of subtasks by parent and tasks by project.

:class:`TaskTable` is the store's ``tasks`` dict: every way of putting a task
in or taking it out (``[]=``, ``del``, ``pop``, ``update``, ...) also files it
in or out of the lookups, and a task in the table tells it when its ``parent``
or ``projects`` are set (see ``Task.__setattr__``), however the change is made
(the API's writes, the test helpers, the seed). The table also remembers the order in
which gids entered it, which is the dict's own order, so that a task's
subtasks come out in the order a scan of the dict would give.
"""

from __future__ import annotations

import itertools

from handoff_hub.sandboxes.asana.data import Task
from handoff_hub.sandboxes.kit.tables import IndexedTable, unfile

__all__ = ["TaskTable"]


class TaskTable(IndexedTable[str, Task]):
    """Tasks by gid, with their subtasks by parent gid and their members by project gid."""

    def __init__(self) -> None:
        super().__init__()
        self._children: dict[str, set[str]] = {}
        self._members: dict[str, set[str]] = {}
        self._order: dict[str, int] = {}
        self._numbers = itertools.count()

    def children(self, parent: str) -> list[Task]:
        """Tasks whose ``parent`` is ``parent``, in the table's order."""
        keys = sorted(self._children.get(parent, ()), key=self._order.__getitem__)
        return [dict.__getitem__(self, k) for k in keys]

    def members(self, project: str) -> list[Task]:
        """Tasks whose ``projects`` hold ``project``, in the table's order."""
        keys = sorted(self._members.get(project, ()), key=self._order.__getitem__)
        return [dict.__getitem__(self, k) for k in keys]

    def child_count(self, parent: str) -> int:
        """How many tasks have ``parent`` as their parent."""
        return len(self._children.get(parent, ()))

    def _file(self, key: str, task: Task) -> None:
        if task.parent is not None:
            self._children.setdefault(task.parent, set()).add(key)
        for project in task.projects:
            self._members.setdefault(project, set()).add(key)

    def _unfile(self, key: str, task: Task) -> None:
        if task.parent is not None:
            unfile(self._children, task.parent, key)
        for project in task.projects:
            unfile(self._members, project, key)

    def _added(self, key: str) -> None:
        self._order[key] = next(self._numbers)  # a new key goes last, as in a dict

    def _removed(self, key: str) -> None:
        self._order.pop(key, None)

    def _forget(self) -> None:
        self._children.clear()
        self._members.clear()
        self._order.clear()
