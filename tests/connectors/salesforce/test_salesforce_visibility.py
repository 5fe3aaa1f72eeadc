"""Records the integration user sees late (long transactions) or never (sharing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "salesforce.yaml"
START = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def ticking(step: dt.timedelta = dt.timedelta(seconds=1)) -> Callable[[], dt.datetime]:
    """A clock that moves on by ``step`` each time it is read."""
    now = [START]

    def clock() -> dt.datetime:
        now[0] += step
        return now[0]

    return clock


def read_ids(connector: SalesforceConnector, since: str | None) -> tuple[list[str], str | None]:
    pages = list(connector.read_changes("Opportunity", since=since, fields=["Name"]))
    return [r.id for p in pages for r in p.records], pages[-1].cursor


def stamp_of(sandbox: SalesforceSandbox, record_id: str) -> dt.datetime:
    record = sandbox.state.get("Opportunity", record_id)
    assert record is not None
    return dt.datetime.fromisoformat(record["SystemModstamp"].replace("+0000", "+00:00"))


def test_a_late_commit_is_invisible_then_visible_with_its_older_stamp(connect):
    sandbox = SalesforceSandbox(seed=6, records=10, clock=ticking())
    connector = connect(sandbox)
    late = sandbox.state.add_late(
        "Opportunity", Name="Long transaction", StageName="Prospecting", CloseDate="2026-12-01"
    )
    assert sandbox.state.held == [late]
    assert late not in read_ids(connector, None)[0]
    assert connector.read_by_ids("Opportunity", [late], fields=["Name"]) == []
    newer = sandbox.state.ids("Opportunity")[0]
    sandbox.state.mark_won(newer)
    assert sandbox.state.commit_late() == [late]
    assert stamp_of(sandbox, late) < stamp_of(sandbox, newer)
    assert [r.id for r in connector.read_by_ids("Opportunity", [late], fields=["Name"])] == [late]


def test_a_late_change_shows_the_old_values_until_committed(connect):
    sandbox = SalesforceSandbox(seed=6, records=10, clock=ticking())
    connector = connect(sandbox)
    record_id = sandbox.state.ids("Opportunity")[2]
    before = sandbox.state.get("Opportunity", record_id)
    sandbox.state.modify_late("Opportunity", record_id, Name="Renamed in a long transaction")
    assert (
        connector.read_by_ids("Opportunity", [record_id], fields=["Name"])[0].raw["Name"]
        == (before["Name"])
    )
    sandbox.state.commit_late(record_id)
    raw = connector.read_by_ids("Opportunity", [record_id], fields=["Name"])[0].raw
    assert raw["Name"] == "Renamed in a long transaction"


def test_a_cursor_read_misses_a_late_commit_a_look_back_window_finds_it(connect):
    """The gap a look-back window on the checkpoint closes (issue 17, point 5)."""
    sandbox = SalesforceSandbox(seed=6, records=10, clock=ticking())
    connector = connect(sandbox)
    _, first = read_ids(connector, None)
    late = sandbox.state.add_late(
        "Opportunity", Name="Committed late", StageName="Closed Won", CloseDate="2026-12-01"
    )
    newer = sandbox.state.ids("Opportunity")[1]
    sandbox.state.mark_won(newer)
    seen, cursor = read_ids(connector, first)
    assert newer in seen and late not in seen
    sandbox.state.commit_late()
    assert cursor is not None and stamp_of(sandbox, late) < dt.datetime.fromisoformat(cursor)
    again, _ = read_ids(connector, cursor)
    assert late not in again
    window = (dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=5)).isoformat()
    assert late in read_ids(connector, window)[0]


def test_the_late_commits_profile_holds_seeded_saves_until_api_writes(connect):
    sandbox = SalesforceSandbox(seed=6, records=24, profile={"late_commits": True})
    connector = connect(sandbox)
    held = sandbox.state.held
    assert len(held) >= 2
    assert any(sandbox.store.held[h][1]["IsWon"] for h in held)
    seen, cursor = read_ids(connector, None)
    assert not set(held) & set(seen)
    assert cursor is not None
    some = seen[0]
    results = connector.update("Opportunity", [(some, {"NextStep": "Call back"})])
    assert results[0].ok
    committed = [h for h in held if h not in sandbox.state.held]
    assert committed == held[:1]
    assert stamp_of(sandbox, committed[0]) < dt.datetime.fromisoformat(cursor)
    after, _ = read_ids(connector, cursor)
    assert committed[0] not in after
    window = (dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=5)).isoformat()
    assert committed[0] in read_ids(connector, window)[0]


@pytest.fixture
def hidden_org() -> SalesforceSandbox:
    return SalesforceSandbox(seed=6, records=30, profile={"hidden_accounts": True})


def test_hidden_accounts_read_as_null_relationships(hidden_org, connect):
    connector = connect(hidden_org)
    hidden = set(hidden_org.state.hidden("Account"))
    assert hidden and len(hidden) < len(hidden_org.state.ids("Account"))
    pages = connector.read_changes("Opportunity", since=None, fields=["AccountId", "Account.Name"])
    records = [r.raw for p in pages for r in p.records]
    assert len(records) == hidden_org.state.count("Opportunity")
    behind = [r for r in records if r["AccountId"] in hidden]
    assert behind and all(r["Account"] is None for r in behind)
    assert all(r["Account"]["Name"] for r in records if r["AccountId"] not in hidden)
    assert connector.read_by_ids("Account", sorted(hidden), fields=["Name"]) == []
    accounts = [r.id for p in connector.read_changes("Account", since=None) for r in p.records]
    assert not hidden & set(accounts)


def hidden_account_opportunity(sandbox: SalesforceSandbox, connector: SalesforceConnector) -> dict:
    spec = load_mapping(MAPPING)
    fields = spec.entity("Opportunity").source_fields()
    hidden = set(sandbox.state.hidden("Account"))
    records = [
        r.raw
        for p in connector.read_changes("Opportunity", since=None, fields=fields)
        for r in p.records
    ]
    return next(r for r in records if r["AccountId"] in hidden)


def test_an_opportunity_whose_account_is_hidden_maps_with_its_account_ref(hidden_org, connect):
    connector = connect(hidden_org)
    raw = hidden_account_opportunity(hidden_org, connector)
    entity = to_unified(load_mapping(MAPPING), "Opportunity", raw, system="crm")
    assert entity.account is not None and entity.account.ref("crm") == raw["AccountId"]
    assert entity.name == raw["Name"]
