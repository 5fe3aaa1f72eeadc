"""More records than the search window sharing one modified date (a bulk import) are all read."""

from __future__ import annotations

from hubspot_support import RecordingTransport

from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

DEALS = "deals"
WINDOW = 50


def imported(records: int = 130) -> HubSpotSandbox:
    return HubSpotSandbox(
        seed=9,
        records=records,
        rate_limit=RateLimits.generous(),
        search_window=WINDOW,
        profile={"shared_modified_times": True},
    )


def ids_of(pages) -> list[str]:
    return [r.id for p in pages for r in p.records]


def test_the_portal_plays_a_bulk_import():
    sandbox = imported()
    stamps = {d["hs_lastmodifieddate"] for d in sandbox.state.find(DEALS)}
    assert len(stamps) == 1 and sandbox.state.count(DEALS) > WINDOW


def test_every_record_of_a_tie_larger_than_the_window_is_read_once(connect, sandbox_transport):
    sandbox = imported()
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    pages = list(connector.read_changes(DEALS, since=None, fields=["dealname"], page_size=20))
    read = ids_of(pages)
    assert sorted(read) == sorted(sandbox.state.ids(DEALS)) and len(read) == len(set(read))
    statuses = [c.status for c in sandbox.journal.calls if c.path.endswith("/search")]
    assert set(statuses) == {200}
    bodies = recording.bodies("/deals/search")
    tie = [
        b
        for b in bodies
        if b["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    ]
    assert len(tie) >= len(read) // 20
    assert all("after" not in b for b in bodies)
    assert {p.cursor for p in pages} == {pages[0].cursor}  # one date: the cursor stays on it


def test_a_read_stopped_inside_the_tie_resumes_from_its_cursor_and_seen_ids(connect):
    sandbox = imported()
    connector = connect(sandbox)
    pages = connector.read_changes(DEALS, since=None, page_size=20)
    first = [next(pages) for _ in range(3)]
    handled = ids_of(first)
    cursor = first[-1].cursor
    rest = ids_of(connector.read_changes(DEALS, since=cursor, seen=handled, page_size=20))
    assert not set(rest) & set(handled)
    assert sorted(handled + rest) == sorted(sandbox.state.ids(DEALS))


def test_a_record_of_the_tie_modified_during_the_read_is_not_lost(connect):
    sandbox = imported()
    connector = connect(sandbox)
    unread = sorted(sandbox.state.ids(DEALS), key=int)[-1]  # the tie is read by id: last
    seen: list[str] = []
    for page in connector.read_changes(DEALS, since=None, fields=["description"], page_size=20):
        seen += [r.id for r in page.records]
        if len(seen) == 40:
            sandbox.state.modify_record(DEALS, unread, description="changed mid-read")
    assert set(seen) == set(sandbox.state.ids(DEALS))
    assert unread in seen


def test_filters_keep_working_inside_a_tie(connect):
    sandbox = imported()
    connector = connect(sandbox)
    eur = set(
        ids_of(
            connector.read_changes(
                DEALS, since=None, where={"deal_currency_code": "EUR"}, page_size=10
            )
        )
    )
    assert eur == {d["id"] for d in sandbox.state.find(DEALS, deal_currency_code="EUR")}
