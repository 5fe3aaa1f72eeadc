"""Incremental reads, filters, lookups by id / external id / e-mail."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.hub.errors import ConnectorError, RecordError
from handoff_hub.hub.http.query import soql_literal
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

HOSTILE = "O'Brien\\' OR Name != '"


@pytest.fixture
def big(connect):
    sandbox = SalesforceSandbox(seed=11, records=450)
    return sandbox, connect(sandbox)


def stamp(record) -> dt.datetime:
    return record.modified_at


def test_incremental_read_pages_and_cursor(big):
    sandbox, connector = big
    pages = list(connector.read_changes("Opportunity", since=None, fields=["Name"], page_size=200))
    assert [len(p.records) for p in pages] == [200, 200, 50]
    records = [r for p in pages for r in p.records]
    assert len({r.id for r in records}) == 450 == sandbox.state.count("Opportunity")
    assert [(stamp(r), r.id) for r in records] == sorted((stamp(r), r.id) for r in records)
    for number, page in enumerate(pages):
        seen = [r for p in pages[: number + 1] for r in p.records]
        assert page.cursor == max(stamp(r) for r in seen).isoformat(timespec="milliseconds")
    assert all(r.system == "crm" and r.object == "Opportunity" for r in records)
    assert records[0].raw["attributes"]["type"] == "Opportunity"


def test_read_from_cursor_never_skips_and_sees_new_changes(big):
    sandbox, connector = big
    *_, last = connector.read_changes("Opportunity", since=None, fields=["Name"])
    again = [r for p in connector.read_changes("Opportunity", since=last.cursor) for r in p.records]
    assert again and all(stamp(r).isoformat(timespec="milliseconds") >= last.cursor for r in again)
    changed = sandbox.state.ids("Opportunity")[3]
    sandbox.state.mark_won(changed)
    pages = list(connector.read_changes("Opportunity", since=last.cursor, fields=["IsWon"]))
    ids = [r.id for p in pages for r in p.records]
    assert changed in ids
    assert pages[-1].cursor is not None and pages[-1].cursor > last.cursor
    assert next(r for p in pages for r in p.records if r.id == changed).raw["IsWon"] is True


def test_cursor_without_new_records_stays(connector):
    future = "2999-01-01T00:00:00.000+00:00"
    pages = list(connector.read_changes("Opportunity", since=future))
    assert [p.records for p in pages] == [[]]
    assert pages[0].cursor == future


def test_page_size_is_clamped_to_salesforce_bounds(big):
    sandbox, connector = big
    sandbox.journal.clear()
    pages = list(connector.read_changes("Opportunity", since=None, fields=["Name"], page_size=10))
    assert [len(p.records) for p in pages] == [200, 200, 50]


def test_where_filters(sandbox, connector):
    won = [
        r
        for p in connector.read_changes("Opportunity", since=None, where={"IsWon": True})
        for r in p.records
    ]
    assert len(won) == sandbox.state.count("Opportunity", IsWon=True) > 0
    assert all(r.raw["StageName"] == "Closed Won" for r in won)
    eur = list(
        connector.read_changes(
            "Opportunity",
            since=None,
            fields=["Amount"],
            where={"IsWon": True, "CurrencyIsoCode": "EUR"},
        )
    )
    expected = sandbox.state.count("Opportunity", IsWon=True, CurrencyIsoCode="EUR")
    assert sum(len(p.records) for p in eur) == expected


def test_hostile_filter_value_matches_literally(sandbox, connector):
    sandbox.state.add_record("Account", Name="O'Brien")
    target = sandbox.state.add_record("Account", Name=HOSTILE)
    for value, expected in ((HOSTILE, [target]), ("O'Brien", None), ("' OR Name != '", [])):
        found = [
            r.id
            for p in connector.read_changes(
                "Account", since=None, fields=["Name"], where={"Name": value}
            )
            for r in p.records
        ]
        assert len(found) == (1 if expected is None else len(expected))
        if expected:
            assert found == expected


def test_relationship_fields(sandbox, connector):
    page = next(
        iter(
            connector.read_changes(
                "Opportunity", since=None, fields=["Name", "Owner.Email", "Account.Name"]
            )
        )
    )
    record = page.records[0]
    owner = sandbox.state.get("User", record.raw["Owner"]["attributes"]["url"].rsplit("/", 1)[1])
    assert owner is not None and record.raw["Owner"]["Email"] == owner["Email"]
    assert record.raw["Account"]["Name"]


def test_default_fields_come_from_describe(connector):
    record = next(iter(connector.read_changes("Opportunity", since=None))).records[0]
    assert {"Id", "Name", "StageName", "Handoff_Hub_Id__c", "Delivery_Project__c"} <= set(
        record.raw
    )


def test_read_by_ids_skips_missing_and_splits_at_2000(sandbox, connector):
    real = sandbox.state.ids("Opportunity")[:5]
    fake = [f"006Zz0000{n:06d}AAA" for n in range(2100)]
    sandbox.journal.clear()
    found = connector.read_by_ids("Opportunity", [*real, *fake, real[0]], fields=["Name"])
    assert [r.id for r in found] == real
    assert all(r.modified_at is not None for r in found)
    retrieves = [c for c in sandbox.journal.calls if "/composite/sobjects/Opportunity" in c.path]
    assert len(retrieves) == 2
    assert connector.read_by_ids("Opportunity", []) == []


def test_find_by_external_id_is_chunked_and_case_insensitive(sandbox, connector):
    made = {
        f"hub-{n}": sandbox.state.add_opportunity(f"Ext {n}", Handoff_Hub_Id__c=f"hub-{n}")
        for n in range(5)
    }
    wanted = ["HUB-0", "hub-3", "hub-404", HOSTILE, *[f"other-{n}" for n in range(400)]]
    sandbox.journal.clear()
    found = connector.find_by_external_id("Opportunity", "Handoff_Hub_Id__c", wanted)
    assert found == {"HUB-0": made["hub-0"], "hub-3": made["hub-3"]}
    queries = [c for c in sandbox.journal.calls if c.path.endswith("/query")]
    assert len(queries) == 3


def test_find_users_matches_active_users_by_email(sandbox, connector):
    users = sandbox.state.find("User")
    active = next(u for u in users if u["IsActive"] and u["Department"] == "Sales")
    inactive = next(u for u in users if not u["IsActive"])
    found = connector.find_users([active["Email"].upper(), inactive["Email"], "nobody@x.example"])
    assert found == {active["Email"].upper(): active["Id"]}


def test_query_errors_surface_salesforce_text(connector):
    pointer = r"INVALID_FIELD: \n.*Nope__c = 'x'.*\n *\^\nERROR at Row:1:Column:\d+\n"
    with pytest.raises(RecordError, match=pointer + "No such column 'Nope__c'"):
        list(connector.read_changes("Opportunity", since=None, where={"Nope__c": "x"}))


def canned(records: list[dict]) -> httpx.MockTransport:
    """A product answering with records the sandbox never produces (malformed)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(
                200, json={"access_token": "tok", "instance_url": "https://acme.my.salesforce.com"}
            )
        if request.url.path.endswith("/describe"):
            names = ("Id", "SystemModstamp", "Name", "IsWon")
            return httpx.Response(200, json={"fields": [{"name": n} for n in names]})
        body = {"totalSize": len(records), "done": True, "records": records}
        return httpx.Response(200, content=json.dumps(body).encode())

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"Name": "no id"},
            r"Opportunity page 1, record 2 has no Id \(fields present: \['Name'\]\)",
        ),
        (
            {"Id": "006B", "SystemModstamp": "yesterday"},
            "Opportunity 006B SystemModstamp is not a datetime: 'yesterday'",
        ),
        ({"Id": "006C"}, "Opportunity 006C SystemModstamp is not a datetime: None"),
    ],
)
def test_malformed_records_stop_the_read_with_a_named_error(sandbox, connect, record, message):
    good = {"Id": "006A", "SystemModstamp": "2026-11-20T10:15:00.000+0000"}
    connector: SalesforceConnector = connect(sandbox, transport=canned([good, record]))
    with pytest.raises(ConnectorError, match=message):
        list(connector.read_changes("Opportunity", since=None, fields=["Name"]))


def test_since_is_sent_as_a_soql_datetime(sandbox, connect):
    seen: list[str] = []
    inner = canned([])

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get("q", ""))
        return inner.handle_request(request)

    connector = connect(sandbox, transport=httpx.MockTransport(spy))
    list(
        connector.read_changes(
            "Opportunity",
            since="2026-11-20T10:15:00.500+00:00",
            fields=["Name"],
            where={"IsWon": True},
        )
    )
    since = soql_literal(dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC))
    assert seen[-1] == (
        f"SELECT Id, SystemModstamp, Name FROM Opportunity WHERE SystemModstamp >= {since}"
        " AND IsWon = TRUE ORDER BY SystemModstamp ASC, Id ASC"
    )


def test_bad_cursor_is_a_clear_error(connector):
    with pytest.raises(ConnectorError, match="cursor 'last tuesday' is not an ISO 8601"):
        list(connector.read_changes("Opportunity", since="last tuesday"))


def test_read_by_ids_with_relationship_fields_uses_soql(sandbox, connector):
    wanted = sandbox.state.ids("Opportunity")[:3]
    sandbox.journal.clear()
    found = connector.read_by_ids("Opportunity", wanted, fields=["Name", "Account.Name"])
    assert sorted(r.id for r in found) == sorted(wanted)
    assert all(r.raw["Account"]["Name"] for r in found)
    connector.read_by_ids("Opportunity", wanted, fields=["Name", "Account.Name"])
    assert [c.path for c in sandbox.journal.calls if "/data/" in c.path] == [
        "/services/data/v61.0/sobjects/Opportunity/describe",
        "/services/data/v61.0/sobjects/Account/describe",
        "/services/data/v61.0/query",
        "/services/data/v61.0/query",
    ]
