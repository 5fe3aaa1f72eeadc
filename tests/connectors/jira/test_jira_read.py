"""Reading issues: incremental search with paging, overlap, ids and external ids."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from jira_support import RecordingTransport

from handoff_hub.connectors.jira.records import jql_minute
from handoff_hub.hub.errors import ConnectorError
from handoff_hub.sandboxes.jira.app import JiraSandbox

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def updated_of(sandbox: JiraSandbox) -> dict[str, dt.datetime]:
    return {i.key: i.updated for i in sandbox.store.issues.values() if i.project == "DEL"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(clock: Clock) -> JiraSandbox:
    return JiraSandbox(seed=11, records=60, clock=clock)


def test_full_read_pages_in_update_order(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    pages = list(connector.read_changes("issue", since=None, page_size=10))
    assert len(pages) >= 6 and all(len(p.records) <= 10 for p in pages)
    keys = [r.id for p in pages for r in p.records]
    assert sorted(keys) == sorted(timed.state.keys(project="DEL"))
    stamps = [r.modified_at for p in pages for r in p.records]
    assert stamps == sorted(stamps)
    cursors = [dt.datetime.fromisoformat(p.cursor) for p in pages]
    assert cursors == sorted(cursors)
    assert cursors[-1] == max(updated_of(timed).values())
    assert pages[0].records[0].raw["fields"]["updated"].endswith(("+0100", "+0200"))


def test_reread_from_a_cursor_overlaps_its_minute_and_skips_nothing(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    pages = list(connector.read_changes("issue", since=None, page_size=10))
    cursor = pages[2].cursor
    at = dt.datetime.fromisoformat(cursor)
    again = [
        r.id
        for p in connector.read_changes("issue", since=cursor, page_size=100)
        for r in p.records
    ]
    minute = at.replace(second=0, microsecond=0)
    expected = {k for k, u in updated_of(timed).items() if u >= minute}
    assert set(again) == expected
    assert {k for k, u in updated_of(timed).items() if u == at} <= set(again)  # overlap


def test_changes_after_the_last_cursor_are_read_next_time(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    last = list(connector.read_changes("issue", since=None))[-1].cursor
    clock.now = NOW + dt.timedelta(minutes=5)
    victim = timed.state.keys(project="DEL")[3]
    timed.state.modify(victim, summary="Changed by a person")
    clock.now = NOW + dt.timedelta(minutes=10)
    pages = list(connector.read_changes("issue", since=last))
    keys = [r.id for p in pages for r in p.records]
    assert victim in keys
    assert dt.datetime.fromisoformat(pages[-1].cursor) == NOW + dt.timedelta(minutes=5)


def test_cursor_is_held_back_for_changes_still_being_indexed(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    victim = timed.state.keys(project="DEL")[0]
    timed.state.modify(victim, summary="Just now")  # updated == NOW
    pages = list(connector.read_changes("issue", since=None))
    assert dt.datetime.fromisoformat(pages[-1].cursor) == NOW - dt.timedelta(seconds=60)


def test_cursor_minute_is_written_in_the_users_time_zone(connect, sandbox_transport, clock):
    sandbox = JiraSandbox(
        seed=3, records=30, clock=clock, profile={"user_time_zone": "America/Los_Angeles"}
    )
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    since = "2026-11-19T10:30:45.000+00:00"
    keys = [r.id for p in connector.read_changes("issue", since=since) for r in p.records]
    search = [
        json.loads(r.content) for r, _ in recorder.exchanges if r.url.path.endswith("/search/jql")
    ]
    assert 'updated >= "2026/11/19 02:30"' in search[0]["jql"]
    assert search[0]["jql"].endswith("ORDER BY updated ASC, key ASC")
    cut = dt.datetime(2026, 11, 19, 10, 30, tzinfo=dt.UTC)
    assert set(keys) == {k for k, u in updated_of(sandbox).items() if u >= cut}


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-10-25T01:30:10+00:00", "2026/10/25 02:30"),  # 02:30 CET, the second 02:30
        ("2026-10-25T00:30:10+00:00", "2026/10/25 01:30"),  # 02:30 CEST is ambiguous: back off
        ("2026-03-29T01:15:00+00:00", "2026/03/29 03:15"),  # after the spring gap
        ("2026-11-20T10:30:59.999+00:00", "2026/11/20 11:30"),
    ],
)
def test_jql_minute_never_lands_after_the_instant(instant, expected):
    assert jql_minute(dt.datetime.fromisoformat(instant), "Europe/Berlin") == expected


def test_where_filters_and_fields(connector, sandbox):
    epics = [
        r
        for p in connector.read_changes(
            "issue", since=None, where={"issuetype": "Epic"}, fields=["summary", "fields.labels"]
        )
        for r in p.records
    ]
    assert {r.id for r in epics} == set(sandbox.state.epics())
    assert set(epics[0].raw["fields"]) == {"summary", "labels", "updated"}
    unassigned = [
        r.raw
        for p in connector.read_changes(
            "issue", since=None, where={"assignee": None}, fields=["assignee"]
        )
        for r in p.records
    ]
    assert unassigned and all(raw["fields"]["assignee"] is None for raw in unassigned)


def test_unknown_object_is_refused(connector):
    with pytest.raises(ConnectorError, match="unknown object 'Opportunity'"):
        list(connector.read_changes("Opportunity", since=None))


def test_read_by_ids_leaves_out_missing_issues(connector, sandbox):
    keys = sandbox.state.keys(project="DEL")[:3]
    found = connector.read_by_ids("issue", [*keys, "DEL-9999", keys[0]], fields=["summary"])
    assert [r.id for r in found] == keys
    by_id = connector.read_by_ids("issue", [found[0].raw["id"]])
    assert [r.id for r in by_id] == keys[:1]
    assert connector.read_by_ids("issue", []) == []


def test_find_by_stamp_label(connector, sandbox):
    key = sandbox.state.keys(project="DEL")[5]
    sandbox.state.modify(key, labels=["delivery", "hh-src-salesforce-006xyz"])
    found = connector.find_by_external_id("issue", "label", ["salesforce:006XYZ", "hubspot:1"])
    assert found == {"salesforce:006XYZ": key}


def test_find_by_custom_fields(connector, sandbox):
    key = sandbox.state.keys(project="DEL")[7]
    sandbox.state.modify(key, customfield_10051="Zeta Widgets (EMEA)", customfield_10050=4242.0)
    assert connector.find_by_external_id(
        "issue", "customfield_10051", ["Zeta Widgets (EMEA)", "Nobody"]
    ) == {"Zeta Widgets (EMEA)": key}
    assert connector.find_by_external_id("issue", "customfield_10050", ["4242"]) == {"4242": key}


def test_hostile_values_stay_literal(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    hostile = 'Acme" OR project = DEL OR summary ~ "x'
    key = sandbox.state.keys(project="DEL")[2]
    sandbox.state.modify(key, customfield_10051=hostile)
    assert connector.find_by_external_id("issue", "customfield_10051", [hostile]) == {hostile: key}
    injected = 'x" OR labels IS NOT EMPTY OR labels = "y'
    assert connector.find_by_external_id("issue", "label", [injected]) == {}
    answers = [
        len(resp.json()["issues"])
        for req, resp in recorder.exchanges
        if req.url.path.endswith("/search/jql")
    ]
    assert answers == [1, 0]


def test_the_time_zone_is_read_once_per_run_and_kept_for_the_next(
    timed, connect, clock, sandbox_transport
):
    recorder = RecordingTransport(sandbox_transport(timed))
    since = (NOW - dt.timedelta(hours=1)).isoformat()

    def myself_calls(connector) -> int:
        recorder.exchanges.clear()
        list(connector.read_changes("issue", since=since))
        list(connector.read_changes("issue", since=since))
        return recorder.paths().count("/rest/api/3/myself")

    first_run = connect(timed, transport=recorder)
    first_run.clock = clock
    assert myself_calls(first_run) == 1  # two reads, one lookup
    kept = first_run.facts()
    assert kept["time_zone"] == first_run.time_zone()
    next_run = connect(timed, transport=recorder)
    next_run.clock = clock
    next_run.recall(kept)
    assert myself_calls(next_run) == 0
    clock.now = NOW + dt.timedelta(days=2)  # too old to trust: read again
    stale = connect(timed, transport=recorder)
    stale.clock = clock
    stale.recall(kept)
    assert myself_calls(stale) == 1
    configured = connect(timed, transport=recorder, settings={"time_zone": "Europe/Paris"})
    assert myself_calls(configured) == 0 and configured.facts() == {}


def test_a_read_may_ask_for_5000_a_page_and_takes_the_pages_jira_gives(sandbox_transport, connect):
    sandbox = JiraSandbox(seed=7, records=150)
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    fields = ["fields.status.name", "fields.parent.key"]
    pages = list(connector.read_changes("issue", since=None, fields=fields, page_size=5000))
    bodies = [json.loads(r.content) for r, _ in recorder.exchanges if r.url.path.endswith("/jql")]
    assert {b["maxResults"] for b in bodies} == {5000}
    assert bodies[0]["fields"] == ["status", "parent", "updated"]
    # fields asked: Jira gives fewer than 5000 a page (the sandbox 100), pages follow the token
    assert len(pages) == len(bodies) >= 2 and all(len(p.records) <= 100 for p in pages)
    keys = sorted(r.id for p in pages for r in p.records)
    assert keys == sorted(sandbox.state.keys(project="DEL"))
