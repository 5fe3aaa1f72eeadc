"""Sites that differ from the demo's: an API user without Administer Jira, any time zone."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from jira_support import BASE_URL, basic, new_project

from handoff_hub.hub.errors import AuthError, ConfigError
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.jira.profile import JiraSiteProfile

PROJECT = {
    "key": "NEWP",
    "name": "New project",
    "projectTypeKey": "software",
    "leadAccountId": "712020:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
}
NOT_ADMIN = {
    "errorMessages": ["You must have global administrator rights in order to modify projects."],
    "errors": {},
}


def client_for(sandbox: JiraSandbox, sandbox_transport) -> httpx.Client:
    return httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": basic(sandbox)},
    )


def test_default_site_is_the_demo_and_hard_turns_every_switch_on():
    assert JiraSiteProfile() == JiraSiteProfile.preset("default")
    assert JiraSiteProfile().user_time_zone == "Europe/Berlin"
    hard = JiraSiteProfile.preset("hard")
    assert hard.no_admin_permission
    assert hard.switched_on() == {
        "no_admin_permission": True,
        "bulk_results_reordered": True,
        "user_time_zone": "America/St_Johns",
    }
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        JiraSandbox(profile={"user_time_zone": "Mars/Olympus"})


# no Administer Jira -------------------------------------------------------------


@pytest.mark.parametrize("body", [PROJECT, {"key": "bad key"}])
def test_project_create_without_administer_jira_is_refused_first(sandbox_transport, body):
    sandbox = JiraSandbox(seed=3, records=10, profile={"no_admin_permission": True})
    with client_for(sandbox, sandbox_transport) as client:
        refused = client.post("/rest/api/3/project", json=body)
    assert refused.status_code == 403 and refused.json() == NOT_ADMIN
    assert sandbox.state.projects() == ["DEL"]


def test_project_create_with_administer_jira(sandbox_transport):
    sandbox = JiraSandbox(seed=3, records=10)
    with client_for(sandbox, sandbox_transport) as client:
        assert client.post("/rest/api/3/project", json=PROJECT).status_code == 201
    assert "NEWP" in sandbox.state.projects()


def test_project_mode_without_administer_jira_tells_the_admin_what_to_change(connect):
    sandbox = JiraSandbox(seed=3, records=10, profile="hard")
    connector = connect(sandbox, settings={"mode": "project"})
    before = sandbox.state.count()
    with pytest.raises(AuthError) as refused:
        connector.create_project(new_project(source_id="hubspot:4242"))
    text = str(refused.value)
    assert "You must have global administrator rights" in text
    assert "'Administer Jira' global permission" in text
    assert "systems.pm.settings.mode: epic" in text and "project DEL" in text
    assert "credentials" not in text  # the credentials are fine; a setting is not
    assert refused.value.status == 403
    assert sandbox.state.projects() == ["DEL"] and sandbox.state.count() == before


def test_epic_mode_needs_no_administer_jira(connect):
    sandbox = JiraSandbox(seed=3, records=10, profile="hard")
    handle = connect(sandbox).create_project(new_project(source_id="hubspot:4243"))
    assert handle.created and handle.key.startswith("DEL-")


# the API user's time zone ---------------------------------------------------------

DST_END = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)
"""St. John's turns 02:00 NDT (04:30Z) back to 01:00 NST: 01:00-02:00 happens twice."""
INSIDE = [
    DST_END - dt.timedelta(hours=2, minutes=50),  # 00:40 NDT
    DST_END - dt.timedelta(hours=2, minutes=20),  # 01:10 NDT, first reading
    DST_END - dt.timedelta(hours=1, minutes=50, seconds=30),  # 01:39:30 NDT
    DST_END - dt.timedelta(hours=1, minutes=20),  # 01:10 NST, second reading
    DST_END - dt.timedelta(minutes=50, seconds=1),  # 01:39:59 NST
    DST_END - dt.timedelta(minutes=20),  # 02:10 NST
]


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def newfoundland() -> tuple[JiraSandbox, Clock, list[str]]:
    """A hard site at the end of daylight saving time; issues changed across the hour."""
    clock = Clock(DST_END - dt.timedelta(hours=4))
    sandbox = JiraSandbox(seed=9, records=24, clock=clock, profile="hard")
    keys = sandbox.state.keys(project="DEL")[: len(INSIDE)]
    for key, when in zip(keys, INSIDE, strict=True):
        clock.now = when
        sandbox.state.modify(key, summary=f"Changed at {when:%H:%M:%S}Z")
    clock.now = DST_END
    return sandbox, clock, keys


def test_myself_and_timestamps_are_in_the_users_half_hour_zone(newfoundland, sandbox_transport):
    sandbox, _, keys = newfoundland
    with client_for(sandbox, sandbox_transport) as client:
        me = client.get("/rest/api/3/myself").json()
        first = client.get(f"/rest/api/3/issue/{keys[1]}", params={"fields": "updated"}).json()
        fourth = client.get(f"/rest/api/3/issue/{keys[3]}", params={"fields": "updated"}).json()
    assert me["timeZone"] == "America/St_Johns"
    assert first["fields"]["updated"] == "2026-11-01T01:10:00.000-0230"
    assert fourth["fields"]["updated"] == "2026-11-01T01:10:00.000-0330"


@pytest.mark.parametrize("cursor", INSIDE)
def test_reads_from_a_cursor_in_the_repeated_hour_skip_nothing(newfoundland, connect, cursor):
    sandbox, clock, _ = newfoundland
    connector = connect(sandbox)
    connector.clock = clock
    since = cursor.isoformat(timespec="milliseconds")
    read = {r.id for p in connector.read_changes("issue", since=since) for r in p.records}
    due = {
        i.key for i in sandbox.store.issues.values() if i.project == "DEL" and i.updated >= cursor
    }
    assert due <= read
