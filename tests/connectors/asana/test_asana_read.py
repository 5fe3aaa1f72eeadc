"""Reading: offset paging, sorting what Asana does not, cursors, ids and stamps."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from asana_support import API, PROJECT, RecordingTransport

from handoff_hub.hub.errors import ConnectorError, RecordError
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import CRM_ID_FIELD, DELIVERY_PROJECTS, SALES_TEAM

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(clock: Clock) -> AsanaSandbox:
    return AsanaSandbox(seed=11, records=80, clock=clock)


def modified(sandbox: AsanaSandbox, project: str = PROJECT) -> dict[str, dt.datetime]:
    return {g: sandbox.store.tasks[g].modified_at for g in sandbox.state.tasks(project)}


def read(connector, since=None, **options):
    return list(connector.read_changes("tasks", since=since, **options))


def test_pages_come_as_asana_lists_them_and_only_the_last_moves_the_cursor(
    timed, connect, clock, sandbox_transport
):
    recorder = RecordingTransport(sandbox_transport(timed))
    connector = connect(timed, transport=recorder, settings={"page_size": 4})
    connector.clock = clock
    pages = read(connector, where={"project": PROJECT}, page_size=3)
    listed = [t["gid"] for _, r in recorder.exchanges for t in r.json()["data"]]
    assert [r.id for p in pages for r in p.records] == listed  # streamed, nothing held back
    assert all(len(p.records) == 3 for p in pages[:-1]) and len(pages[-1].records) <= 3
    assert [p.cursor for p in pages[:-1]] == [None] * (len(pages) - 1)
    assert dt.datetime.fromisoformat(pages[-1].cursor) == max(modified(timed).values())
    assert pages[-1].total == len(listed)


def test_a_read_from_a_cursor_keeps_it_until_its_last_page(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    since = min(modified(timed).values()).isoformat()
    pages = read(connector, since=since, where={"project": PROJECT}, page_size=2)
    assert len(pages) > 1
    assert {dt.datetime.fromisoformat(p.cursor) for p in pages[:-1]} == {
        dt.datetime.fromisoformat(since)
    }
    assert dt.datetime.fromisoformat(pages[-1].cursor) == max(modified(timed).values())


def test_offset_tokens_page_through_the_listing(timed, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(timed))
    connector = connect(timed, transport=recorder, settings={"page_size": 4})
    gids = {r.id for p in read(connector, where={"project": PROJECT}) for r in p.records}
    assert gids == set(timed.state.tasks(PROJECT))
    requests = [r for r, _ in recorder.exchanges]
    assert len(requests) == -(-len(gids) // 4)
    assert all(r.url.params["limit"] == "4" for r in requests)
    assert "offset" not in requests[0].url.params
    assert all(r.url.params["offset"].count(".") == 2 for r in requests[1:])  # opaque tokens
    last = recorder.exchanges[-1][1].json()
    assert last["next_page"] is None
    first = recorder.exchanges[0][1].json()["next_page"]
    assert first["path"].startswith("/tasks?") and first["uri"].endswith(first["path"])


@pytest.mark.parametrize("premium", [False, True], ids=["listed", "searched"])
def test_reading_from_a_cursor_sends_modified_since_and_skips_nothing(
    timed, connect, clock, sandbox_transport, premium
):
    timed.state.set_premium(premium)
    recorder = RecordingTransport(sandbox_transport(timed))
    connector = connect(timed, transport=recorder)
    connector.clock = clock
    at = sorted(modified(timed).values())[len(modified(timed)) // 2]
    cursor = at.isoformat()
    recorder.exchanges.clear()
    pages = read(connector, since=cursor, where={"project": PROJECT})
    again = [r.id for p in pages for r in p.records]
    sent = recorder.exchanges[-1][0].url.params
    bound = sent["modified_at.after" if premium else "modified_since"]
    assert dt.datetime.fromisoformat(bound) == at - dt.timedelta(seconds=1)
    assert set(again) == {g for g, m in modified(timed).items() if m >= at}
    assert len(recorder.exchanges) == (1 if premium else 2)  # 402 first when not premium


def test_changes_after_the_last_cursor_are_read_next_time(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    last = read(connector, where={"project": PROJECT})[-1].cursor
    clock.now = NOW + dt.timedelta(minutes=5)
    victim = timed.state.tasks(PROJECT)[3]
    timed.state.modify(victim, name="Changed by a person")
    clock.now = NOW + dt.timedelta(minutes=10)
    pages = read(connector, since=last, where={"project": PROJECT})
    assert victim in [r.id for p in pages for r in p.records]
    assert dt.datetime.fromisoformat(pages[-1].cursor) == NOW + dt.timedelta(minutes=5)


def test_cursor_is_held_back_for_changes_made_while_paging(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    timed.state.modify(timed.state.tasks(PROJECT)[0], name="Just now")
    pages = read(connector, where={"project": PROJECT})
    assert dt.datetime.fromisoformat(pages[-1].cursor) == NOW - dt.timedelta(seconds=30)


def test_nothing_changed_keeps_the_cursor(timed, connect, clock):
    connector = connect(timed)
    connector.clock = clock
    since = "2026-11-20T10:00:00.000+00:00"
    [page] = read(connector, since=since, where={"project": DELIVERY_PROJECTS[3]})
    assert page.records == [] and page.cursor == since and page.total == 0


def test_an_expired_offset_restarts_the_listing_once(sandbox, connect, sandbox_transport):
    inner = sandbox_transport(sandbox)
    pages_served = []

    class ExpireAfterFirstPage(httpx.BaseTransport):
        def __init__(self, times: int) -> None:
            self.times = times

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = inner.handle_request(request)
            pages_served.append(response.status_code)
            if self.times and "offset" not in request.url.params:
                self.times -= 1
                sandbox.state.expire_offsets()
            return response

    connector = connect(sandbox, transport=ExpireAfterFirstPage(1), settings={"page_size": 5})
    gids = [r.id for p in read(connector, where={"project": PROJECT}) for r in p.records]
    assert sorted(gids) == sorted(sandbox.state.tasks(PROJECT))
    assert pages_served[:3] == [200, 400, 200]
    stubborn = connect(sandbox, transport=ExpireAfterFirstPage(2), settings={"page_size": 5})
    with pytest.raises(RecordError, match="offset token refused twice"):
        read(stubborn, where={"project": PROJECT})


def test_invalid_offset_and_limit_are_refused_as_asana_does(raw_client, sandbox):
    bad = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": 5, "offset": "a.b.c"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"].startswith("offset: Your pagination token")
    first = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": 2}).json()
    other = raw_client.get(
        f"{API}/tasks",
        params={
            "project": DELIVERY_PROJECTS[1],
            "limit": 2,
            "offset": first["next_page"]["offset"],
        },
    )
    assert other.status_code == 400  # a token belongs to its own query
    huge = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": 101})
    assert huge.status_code == 400
    unpaged = raw_client.get(f"{API}/tasks", params={"project": PROJECT}).json()
    assert "next_page" not in unpaged  # without limit: everything, and no next_page at all
    assert len(unpaged["data"]) == len(sandbox.state.tasks(PROJECT))


def test_where_scopes_and_filters(connector, sandbox):
    undone = [
        r.raw
        for p in connector.read_changes(
            "tasks", since=None, where={"project": PROJECT, "completed": False}
        )
        for r in p.records
    ]
    assert undone and all(raw["completed"] is False for raw in undone)
    parent = next(t for t in sandbox.state.tasks(PROJECT) if sandbox.state.subtasks(t))
    children = [r.id for p in read(connector, where={"parent": parent}) for r in p.records]
    assert sorted(children) == sorted(sandbox.state.subtasks(parent))
    every = {r.id for p in read(connector) for r in p.records}
    members = {t for project in DELIVERY_PROJECTS for t in sandbox.state.tasks(project)}
    assert every == members  # every team project, each task once


def test_projects_of_the_team_and_of_another(connector, sandbox):
    fields = ["name", "custom_fields", "owner"]
    pages = list(connector.read_changes("projects", since=None, fields=fields))
    assert sorted(r.id for p in pages for r in p.records) == sorted(DELIVERY_PROJECTS)
    raw = pages[0].records[0].raw
    assert set(raw) == {"gid", "name", "custom_fields", "owner", "modified_at"}
    assert set(raw["owner"]) == {"gid", "resource_type", "name"}
    sales = list(connector.read_changes("projects", since=None, where={"team": SALES_TEAM}))
    assert [r.raw["name"] for p in sales for r in p.records] == ["Sales Ops - CRM hygiene"]


def test_read_by_ids_goes_through_the_batch_api(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    gids = [t for p in DELIVERY_PROJECTS for t in sandbox.state.tasks(p)][:23]
    found = connector.read_by_ids("tasks", [*gids, "1209999999999999", "DEL-1", gids[0]])
    assert [r.id for r in found] == gids
    assert recorder.paths() == [f"{API}/batch"] * 3
    assert all(r.modified_at is not None for r in found)
    assert connector.read_by_ids("tasks", []) == []
    [project] = connector.read_by_ids("projects", [PROJECT], fields=["name"])
    assert set(project.raw) == {"gid", "name", "modified_at"}


def test_find_tasks_by_stamp_with_search_and_without(sandbox, connect, sandbox_transport):
    victim = sandbox.state.tasks(PROJECT)[5]
    sandbox.state.modify(victim, fields={"CRM ID": "hubspot:4242"})
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    wanted = ["hubspot:4242", "hubspot:424", "nobody"]
    assert connector.find_by_external_id("tasks", "crm_id", wanted) == {"hubspot:4242": victim}
    assert connector.find_by_external_id("tasks", "CRM ID", ["hubspot:4242"]) == {
        "hubspot:4242": victim
    }
    assert f"{API}/workspaces/1209000000000001/tasks/search" in recorder.paths()
    sandbox.state.set_premium(False)  # search answers 402: the connector lists instead
    assert connector.find_by_external_id("tasks", CRM_ID_FIELD, wanted) == {"hubspot:4242": victim}
    assert f"{API}/tasks" in recorder.paths()
    with pytest.raises(RecordError, match="custom field 'Colour' is not in workspace"):
        connector.find_by_external_id("tasks", "Colour", ["red"])


def test_find_projects_by_stamp_in_field_or_notes(connector, sandbox):
    stamp = sandbox.state.value(PROJECT, "CRM ID")
    assert connector.find_by_external_id("projects", "crm_id", [stamp, "x"]) == {stamp: PROJECT}
    sandbox.state.modify_project(PROJECT, fields={"CRM ID": None})
    assert connector.find_by_external_id("projects", "crm_id", [stamp]) == {stamp: PROJECT}
    budget = sandbox.state.value(PROJECT, "Budget")
    assert connector.find_by_external_id("projects", "budget", [f"{budget:.0f}"]) == {
        f"{budget:.0f}": PROJECT
    }


def test_unknown_object_is_refused(connector):
    with pytest.raises(ConnectorError, match="unknown object 'issue'; known: tasks, projects"):
        list(connector.read_changes("issue", since=None))


def test_where_takes_lists_and_custom_fields(connector, sandbox):
    two = list(DELIVERY_PROJECTS[:2])
    got = {r.id for p in read(connector, where={"project": two}) for r in p.records}
    assert got == {t for p in two for t in sandbox.state.tasks(p)}
    wanted = {"High", "Medium"}
    urgent = read(connector, where={"project": two, "custom_fields.Priority": sorted(wanted)})
    expected = {
        t
        for p in two
        for t in sandbox.state.tasks(p)
        if sandbox.state.value(t, "Priority") in wanted
    }
    assert expected and {r.id for p in urgent for r in p.records} == expected
    with pytest.raises(ConnectorError, match="tasks are listed by one of project"):
        read(connector, where={"project": PROJECT, "section": "1209000000000999"})
