"""Incremental reads through search, the 10,000-result window, won deals, enrichment."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from hubspot_support import ManualClock, RecordingTransport, calls

from handoff_hub.connectors.hubspot.records import epoch_ms
from handoff_hub.hub.errors import ConnectorError, QueryBuildError, RecordError
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

DEALS = "deals"


def records_of(pages) -> list:
    return [r for page in pages for r in page.records]


def test_search_pages_oldest_first_with_a_growing_cursor(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    pages = list(connector.read_changes(DEALS, since=None, fields=["dealname"], page_size=25))
    # Each next search starts at the newest date seen; the record at that date
    # comes back and is left out, so the later pages give one record fewer.
    assert [len(p.records) for p in pages] == [25, 24, 11]
    assert {p.total for p in pages} == {60}
    records = records_of(pages)
    assert len({r.id for r in records}) == 60 == sandbox.state.count(DEALS)
    stamps = [(r.modified_at, int(r.id)) for r in records]
    assert stamps == sorted(stamps)
    for number, page in enumerate(pages):
        seen = records_of(pages[: number + 1])
        newest = max(r.modified_at for r in seen)
        assert page.cursor == newest.isoformat(timespec="milliseconds")
    assert all(r.system == "crm" and r.object == DEALS for r in records)
    first, second, third = recording.bodies("/deals/search")
    assert first == {
        "filterGroups": [],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": [
            "dealname",
            "hs_lastmodifieddate",
            "dealstage",
            "pipeline",
            "hubspot_owner_id",
        ],
        "limit": 25,
    }
    for body, before in ((second, pages[0]), (third, pages[1])):
        newest = max(r.modified_at for r in before.records)
        gte = {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": epoch_ms(newest)}
        assert body == {**first, "filterGroups": [{"filters": [gte]}]}


def test_a_record_modified_during_the_read_pushes_no_other_out_of_sight(sandbox, connect):
    connector = connect(sandbox)
    ids, seen = [], set()
    for page in connector.read_changes(DEALS, since=None, fields=["dealname"], page_size=10):
        for record in page.records:
            ids.append(record.id)
            seen.add(record.id)
        if len(ids) == 10:  # as the hub's write-back does, mid-read
            for record_id in ids[:5]:
                sandbox.state.modify_record(DEALS, record_id, description="written back")
    assert seen == set(sandbox.state.ids(DEALS))


def test_read_from_a_cursor_may_repeat_but_never_skips(sandbox, connector):
    *_, last = connector.read_changes(DEALS, since=None, fields=["dealname"])
    again = records_of(connector.read_changes(DEALS, since=last.cursor))
    assert again and all(
        r.modified_at.isoformat(timespec="milliseconds") >= last.cursor for r in again
    )
    changed = sandbox.state.ids(DEALS)[3]
    sandbox.state.modify_record(DEALS, changed, description="Scope confirmed")
    pages = list(connector.read_changes(DEALS, since=last.cursor, fields=["description"]))
    found = [r for r in records_of(pages) if r.id == changed]
    assert found and found[0].raw["properties"]["description"] == "Scope confirmed"
    assert pages[-1].cursor is not None and pages[-1].cursor > last.cursor


def test_since_is_sent_as_an_epoch_millisecond_gte_filter(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    since = "2026-11-20T10:15:00.500+00:00"
    list(connector.read_changes("contacts", since=since, where={"lifecyclestage": "customer"}))
    body = recording.bodies("/contacts/search")[0]
    moment = dt.datetime(2026, 11, 20, 10, 15, 0, 500000, tzinfo=dt.UTC)
    assert body["filterGroups"] == [
        {
            "filters": [
                {"propertyName": "lastmodifieddate", "operator": "GTE", "value": epoch_ms(moment)},
                {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
            ]
        }
    ]
    assert epoch_ms(moment) == str(int(moment.timestamp() * 1000))
    assert body["sorts"][0]["propertyName"] == "lastmodifieddate"


def test_cursor_stays_behind_the_search_index_lag(connect):
    clock = ManualClock()
    sandbox = HubSpotSandbox(seed=3, records=10, rate_limit=RateLimits.generous(), clock=clock)
    newest = max(
        dt.datetime.fromisoformat(d["hs_lastmodifieddate"]) for d in sandbox.state.find(DEALS)
    )
    connector = connect(
        sandbox,
        settings={"search_lag_seconds": 60},
        clock=lambda: newest + dt.timedelta(seconds=15),
    )
    pages = list(connector.read_changes(DEALS, since=None))
    held = newest - dt.timedelta(seconds=45)
    assert pages[-1].cursor == held.isoformat(timespec="milliseconds")
    since = (newest - dt.timedelta(seconds=10)).isoformat(timespec="milliseconds")
    later = list(connector.read_changes(DEALS, since=since))
    assert later[-1].cursor == since  # a cursor never moves back


def test_cursor_without_new_records_stays(connector):
    future = "2999-01-01T00:00:00.000+00:00"
    pages = list(connector.read_changes(DEALS, since=future))
    assert [p.records for p in pages] == [[]]
    assert pages[0].cursor == future


def window_sandbox(records: int, window: int) -> HubSpotSandbox:
    return HubSpotSandbox(
        seed=5, records=records, rate_limit=RateLimits.generous(), search_window=window
    )


def test_keyset_paging_stays_inside_the_window(connect, sandbox_transport):
    sandbox = window_sandbox(120, 50)
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    assert connector.config.search_window == 50
    records = records_of(connector.read_changes(DEALS, since=None, page_size=20))
    assert {r.id for r in records} == set(sandbox.state.ids(DEALS))
    assert len(records) == len({r.id for r in records})
    bodies = recording.bodies("/deals/search")
    assert all(int(b.get("after", 0)) + b["limit"] <= 50 for b in bodies)
    assert [c.status for c in sandbox.journal.calls if c.path.endswith("/search")] == [200] * len(
        bodies
    )
    assert all("after" not in b for b in bodies)  # distinct dates: keyset alone
    stamps = [r.modified_at for r in records]
    assert stamps == sorted(stamps)


def test_records_sharing_a_date_across_pages_are_read_once_each(connect, sandbox_transport):
    sandbox = window_sandbox(100, 50)
    ids = [
        r["id"] for r in sorted(sandbox.state.find(DEALS), key=lambda d: d["hs_lastmodifieddate"])
    ]
    tie = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    later = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    sandbox.state.set_modified(DEALS, ids[30:55], tie)  # across the first window's end
    sandbox.state.set_modified(DEALS, ids[55:], later)
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    records = records_of(connector.read_changes(DEALS, since=None, page_size=20))
    assert sorted(r.id for r in records) == sorted(ids)
    bodies = recording.bodies("/deals/search")
    by_id = [b for b in bodies if b["sorts"][0]["propertyName"] == "hs_object_id"]
    assert by_id  # the tie is read by record id
    assert all("after" not in b for b in bodies)


def test_the_real_ten_thousand_window(connect):
    sandbox = HubSpotSandbox(seed=1, records=5, rate_limit=RateLimits.generous())
    sandbox.state.add_records("companies", ({"name": f"Bulk {n}"} for n in range(10_050)))
    connector = connect(sandbox)
    assert connector.config.search_window == 10_000
    ids = {
        r.id
        for p in connector.read_changes("companies", since=None, page_size=200)
        for r in p.records
    }
    assert len(ids) == sandbox.state.count("companies") > 10_000
    statuses = [c.status for c in sandbox.journal.calls if c.path.endswith("/search")]
    assert set(statuses) == {200} and len(statuses) == 51


def test_won_filter_reads_won_stages_of_every_pipeline(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    won = records_of(connector.read_changes(DEALS, since=None, where={"won": True}))
    assert len(won) == sandbox.state.count(DEALS, hs_is_closed_won=True) > 0
    assert {r.raw["_stage"]["outcome"] for r in won} == {"won"}
    assert {r.raw["properties"]["dealstage"] for r in won} == {"closedwon", "1982542"}
    dealstage = recording.bodies("/deals/search")[0]["filterGroups"][0]["filters"][0]
    assert dealstage == {
        "propertyName": "dealstage",
        "operator": "IN",
        "values": ["1982542", "closedwon"],
    }
    open_or_lost = records_of(connector.read_changes(DEALS, since=None, where={"won": False}))
    assert len(open_or_lost) + len(won) == sandbox.state.count(DEALS)
    assert calls(sandbox, "/crm/v3/pipelines/deals") == 1  # cached per connector


def test_a_deal_won_in_the_custom_pipeline_is_found(sandbox, connector):
    *_, last = connector.read_changes(DEALS, since=None)
    deal = sandbox.state.add_deal("Renewal 2027", pipeline="1467431", stage="1982540")
    sandbox.state.mark_won(deal)
    assert sandbox.state.get(DEALS, deal)["dealstage"] == "1982542" != "closedwon"
    won = records_of(connector.read_changes(DEALS, since=last.cursor, where={"won": True}))
    assert [r.id for r in won] == [deal]
    assert won[0].raw["_stage"] == {
        "id": "1982542",
        "label": "Renewed",
        "pipeline": "1467431",
        "pipeline_label": "Renewals",
        "outcome": "won",
    }


def test_enrichment_costs_calls_per_batch_not_per_record(sandbox, connector):
    sandbox.journal.clear()
    pages = list(connector.read_changes(DEALS, since=None, fields=["dealname"], page_size=25))
    assert len(pages) == 3
    assert calls(sandbox, "/deals/search") == 3
    assert calls(sandbox, "/crm/v4/associations/deals/companies/batch/read") == 1
    assert calls(sandbox, "/crm/v3/objects/companies/batch/read") == 1
    assert calls(sandbox, "/crm/v3/owners") == 1
    assert calls(sandbox, "/crm/v3/pipelines/deals") == 1
    assert len(sandbox.journal.calls) == 7
    owners = {o["id"]: o for o in sandbox.state.owners()}
    for record in records_of(pages):
        properties = record.raw["properties"]
        owner = owners[properties["hubspot_owner_id"]]
        assert record.raw["_owner"] == {
            "id": owner["id"],
            "email": owner["email"],
            "firstName": owner["firstName"],
            "lastName": owner["lastName"],
            "name": f"{owner['firstName']} {owner['lastName']}",
            "archived": False,
        }
        company_id = sandbox.state.associations(DEALS, record.id, "companies")[0]
        company = sandbox.state.get("companies", company_id)
        assert record.raw["_company"] == {
            "id": company_id,
            "name": company["name"],
            "domain": company["domain"],
            "parent": company.get("hs_parent_company_id") or None,
        }
        stage = record.raw["_stage"]
        assert stage["id"] == properties["dealstage"]
        assert stage["pipeline"] == properties["pipeline"]
        closed = sandbox.state.get(DEALS, record.id)["hs_is_closed"] == "true"
        assert (stage["outcome"] != "open") == closed


def test_companies_are_read_once_per_read_and_associations_per_thousand(sandbox, connector):
    for n in range(1100):
        sandbox.state.add_deal(f"Bulk deal {n}")
    sandbox.journal.clear()
    pages = list(connector.read_changes(DEALS, since=None, fields=["dealname"], page_size=200))
    records = records_of(pages)
    assert len(records) == len({r.id for r in records}) > 1000
    assert calls(sandbox, "/crm/v4/associations/deals/companies/batch/read") == 2
    companies = {r.raw["_company"]["id"] for r in records if r.raw.get("_company")}
    assert calls(sandbox, "/crm/v3/objects/companies/batch/read") == -(-len(companies) // 100)
    company = next(iter(companies))
    sandbox.state.modify_record("companies", company, name="Renamed Inc")
    again = records_of(connector.read_changes(DEALS, since=None, fields=["dealname"]))
    assert {r.raw["_company"]["name"] for r in again if r.raw["_company"]["id"] == company} == {
        "Renamed Inc"
    }


def test_companies_come_in_full_batches_across_association_groups(sandbox, connector):
    for n in range(945):  # with the seed's: a first group of ~1000 deals, a second of a few
        company = sandbox.state.add_record("companies", name=f"Customer {n}", domain="c.example")
        sandbox.state.add_deal(f"Deal of customer {n}", company_id=company)
    sandbox.journal.clear()
    records = records_of(connector.read_changes(DEALS, since=None, fields=["dealname"]))
    assert calls(sandbox, "/crm/v4/associations/deals/companies/batch/read") == 2
    companies = {r.raw["_company"]["id"] for r in records if r.raw.get("_company")}
    assert len(companies) > 945
    # each group's last, partial batch is filled from the next group's companies
    assert calls(sandbox, "/crm/v3/objects/companies/batch/read") == -(-len(companies) // 100)
    named = {
        r.raw["properties"]["dealname"]: r.raw["_company"]["name"]
        for r in records
        if r.raw.get("_company")
    }
    assert named["Deal of customer 944"] == "Customer 944"


def test_seen_ids_at_the_cursor_are_left_out_and_not_enriched(sandbox, connector):
    *_, last = connector.read_changes(DEALS, since=None)
    newest = last.records[-1].modified_at
    at_cursor = [r.id for r in last.records if r.modified_at == newest]
    sandbox.journal.clear()
    again = records_of(connector.read_changes(DEALS, since=last.cursor, seen=at_cursor))
    assert again == []
    assert len(sandbox.journal.calls) == 1
    plain = records_of(connector.read_changes(DEALS, since=last.cursor))
    assert {r.id for r in plain} >= set(at_cursor)


def test_primary_company_wins_over_other_associations(sandbox, connector):
    companies = sandbox.state.ids("companies")
    deal = sandbox.state.add_deal("Two companies", company_id=companies[2])
    sandbox.state.associate(DEALS, deal, "companies", companies[1])
    [found] = connector.read_by_ids(DEALS, [deal])
    assert found.raw["_company"]["id"] == companies[2]
    linked = connector.associated_ids(DEALS, [deal], "companies")
    assert sorted(linked[deal]) == sorted(companies[1:3])


def test_companies_get_their_owner(sandbox, connector):
    records = records_of(connector.read_changes("companies", since=None, fields=["name"]))
    owners = {o["id"]: o["email"] for o in sandbox.state.owners()}
    assert all(
        r.raw["_owner"]["email"] == owners[r.raw["properties"]["hubspot_owner_id"]] for r in records
    )
    assert "_stage" not in records[0].raw and "_company" not in records[0].raw


def test_leads_get_their_company(sandbox, connector):
    leads = records_of(connector.read_changes("leads", since=None))
    assert leads
    for lead in leads:
        company = sandbox.state.associations("leads", lead.id, "companies")[0]
        assert lead.raw["_company"]["id"] == company


def test_where_filters_eq_in_and_missing(sandbox, connector):
    eur = records_of(connector.read_changes(DEALS, since=None, where={"deal_currency_code": "EUR"}))
    assert len(eur) == sandbox.state.count(DEALS, deal_currency_code="EUR") > 0
    listed = records_of(
        connector.read_changes(
            DEALS, since=None, where={"properties.deal_currency_code": ["EUR", "GBP"]}
        )
    )
    expected = sandbox.state.count(DEALS, deal_currency_code="GBP") + len(eur)
    assert len(listed) == expected
    sandbox.state.modify_record(DEALS, sandbox.state.ids(DEALS)[0], description="Has one")
    empty = records_of(connector.read_changes(DEALS, since=None, where={"description": None}))
    assert len(empty) == sandbox.state.count(DEALS) - 1


def test_unknown_filter_property_is_refused_with_hubspots_reason(connector):
    with pytest.raises(RecordError, match="Property 'nope' does not exist on DEAL"):
        list(connector.read_changes(DEALS, since=None, where={"nope": 1}))


def test_too_many_filters(connector):
    where = {f"p{n}": n for n in range(10)}
    with pytest.raises(QueryBuildError, match="10 filters on deals"):
        list(connector.read_changes(DEALS, since=None, where=where))


def test_read_by_ids_batches_of_100_leave_out_missing(sandbox, connector):
    real = sandbox.state.ids("contacts")[:5]
    fake = [str(99_000_000_000 + n) for n in range(150)]
    sandbox.journal.clear()
    found = connector.read_by_ids("contacts", [*real, *fake, real[0]], fields=["email"])
    assert [r.id for r in found] == real
    assert all(r.modified_at is not None and r.raw["properties"]["email"] for r in found)
    assert calls(sandbox, "/contacts/batch/read") == 2
    assert connector.read_by_ids("contacts", []) == []


def canned(body: dict) -> httpx.MockTransport:
    """A product answering with records the sandbox never produces (malformed)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body).encode())

    return httpx.MockTransport(answer)


def test_records_without_an_id_stop_the_read(sandbox, connect):
    body = {"total": 1, "results": [{"properties": {"name": "x"}}]}
    connector = connect(sandbox, transport=canned(body))
    with pytest.raises(
        ConnectorError, match=r"a companies record has no id \(keys present: \['properties'\]\)"
    ):
        list(connector.read_changes("companies", since=None))


def test_unreadable_modified_dates_stop_the_read(sandbox, connect):
    body = {
        "total": 1,
        "results": [{"id": "7", "properties": {"hs_lastmodifieddate": "yesterday"}}],
    }
    connector = connect(sandbox, transport=canned(body))
    with pytest.raises(ConnectorError, match="companies 7 hs_lastmodifieddate is not a datetime"):
        list(connector.read_changes("companies", since=None))


def test_bad_cursor_is_a_clear_error(connector):
    with pytest.raises(ConnectorError, match="cursor 'last tuesday' is not an ISO 8601"):
        list(connector.read_changes(DEALS, since="last tuesday"))
