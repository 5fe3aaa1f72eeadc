"""The sequential default of a batch create, for a PM connector without one of its own."""

from __future__ import annotations

from typing import Any

import pytest

from handoff_hub.hub.connector import (
    NewProject,
    ProjectHandle,
    ProjectTemplate,
    create_projects,
)
from handoff_hub.hub.errors import AuthError, RecordError, TransientError


class _OneByOne:
    """Creates projects one at a time, refusing or losing some by name."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def create_project(self, project: NewProject) -> ProjectHandle:
        if project.name == "refused":
            raise RecordError("no such board", system="pm")
        if project.name == "lost":
            raise TransientError("connection dropped", system="pm")
        if project.name == "locked out":
            raise AuthError("token revoked", system="pm", status=401)
        self.made.append(project.source_id)
        return ProjectHandle(project.source_id, project.source_id, "", created=True)


def _project(name: str) -> NewProject:
    return NewProject(f"crm:{name}", name, {}, ProjectTemplate("t"))


def test_each_project_gets_its_own_outcome_and_the_rest_go_on() -> None:
    pm: Any = _OneByOne()
    outcomes = create_projects(pm, [_project(n) for n in ("a", "refused", "lost", "b")])
    assert [o.handle.id if o.handle else None for o in outcomes] == ["crm:a", None, None, "crm:b"]
    assert isinstance(outcomes[1].error, RecordError)
    assert isinstance(outcomes[2].error, TransientError)
    assert pm.made == ["crm:a", "crm:b"]


def test_a_failure_of_the_whole_batch_stops_it() -> None:
    pm: Any = _OneByOne()
    with pytest.raises(AuthError):
        create_projects(pm, [_project(n) for n in ("a", "locked out", "b")])
    assert pm.made == ["crm:a"]
