"""The connector learns its org: it reads only fields the org has, and knows its currency."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.mapping.org_fit import fit_to_org
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "salesforce.yaml"


@pytest.fixture(scope="module")
def opportunity_fields() -> list[str]:
    return load_mapping(MAPPING).entity("Opportunity").source_fields()


def data_paths(sandbox: SalesforceSandbox) -> list[str]:
    return [c.path.rsplit("/v61.0", 1)[-1] for c in sandbox.journal.calls if "/data/" in c.path]


@pytest.mark.parametrize("profile", ["single-currency", "hard"])
def test_the_shipped_mapping_reads_in_orgs_without_its_optional_fields(
    connect, opportunity_fields, profile
):
    sandbox = SalesforceSandbox(seed=4, records=30, profile=profile)
    connector = connect(sandbox)
    pages = list(connector.read_changes("Opportunity", since=None, fields=opportunity_fields))
    records = [r for p in pages for r in p.records]
    assert len(records) == sandbox.state.count("Opportunity") > 0
    assert all("CurrencyIsoCode" not in r.raw for r in records)
    assert all(r.raw["Name"] and "Amount" in r.raw for r in records)
    by_id = connector.read_by_ids(
        "Opportunity", [r.id for r in records[:5]], fields=opportunity_fields
    )
    assert len(by_id) == 5
    if profile == "hard":
        assert all("Delivery_Project__c" not in r.raw for r in records)


def test_fields_the_org_has_are_all_read(connect, opportunity_fields):
    sandbox = SalesforceSandbox(seed=4, records=10)
    connector = connect(sandbox)
    record = next(
        iter(connector.read_changes("Opportunity", since=None, fields=opportunity_fields))
    )
    raw = record.records[0].raw
    assert raw["CurrencyIsoCode"] in {"USD", "EUR", "GBP"}
    assert "Delivery_Project__c" in raw and raw["Owner"]["Email"]


def test_each_object_is_described_once(connect, opportunity_fields):
    sandbox = SalesforceSandbox(seed=4, records=10, profile="single-currency")
    connector = connect(sandbox)
    sandbox.journal.clear()
    for _ in range(2):
        list(connector.read_changes("Opportunity", since=None, fields=opportunity_fields))
    ids = sandbox.state.ids("Opportunity")[:2]
    connector.read_by_ids("Opportunity", ids, fields=opportunity_fields)
    describes = [p for p in data_paths(sandbox) if p.endswith("/describe")]
    assert sorted(describes) == [
        "/sobjects/Account/describe",
        "/sobjects/Opportunity/describe",
        "/sobjects/User/describe",
    ]
    assert data_paths(sandbox).count("/query") == 3


def test_no_describe_when_no_field_needs_checking(connect):
    sandbox = SalesforceSandbox(seed=4, records=10)
    connector = connect(sandbox)
    sandbox.journal.clear()
    assert connector.read_by_ids("Opportunity", [], fields=["Name", "CurrencyIsoCode"]) == []
    assert data_paths(sandbox) == []


@pytest.mark.parametrize(
    ("profile", "currency"),
    [
        ("single-currency", "EUR"),
        ("hard", "EUR"),
        (None, "USD"),
        ({"corporate_currency": "GBP"}, "GBP"),
        ({"single_currency": True, "corporate_currency": "JPY"}, "JPY"),
    ],
)
def test_default_currency_is_the_orgs(connect, profile, currency):
    sandbox = SalesforceSandbox(seed=4, records=5, profile=profile)
    connector = connect(sandbox)
    assert connector.default_currency() == currency
    calls = len(sandbox.journal.calls)
    assert connector.default_currency() == currency
    assert len(sandbox.journal.calls) == calls


def test_default_currency_asks_soap_only_in_a_single_currency_org(connect):
    multi = SalesforceSandbox(seed=4, records=5)
    connect(multi).default_currency()
    assert not [c for c in multi.journal.calls if "/Soap/" in c.path]
    single = SalesforceSandbox(seed=4, records=5, profile="single-currency")
    connect(single).default_currency()
    assert [c.path for c in single.journal.calls if "/Soap/" in c.path] == ["/services/Soap/u/61.0"]


def test_default_currency_is_none_when_the_org_will_not_say(connect, monkeypatch):
    sandbox = SalesforceSandbox(seed=4, records=5, profile="single-currency")
    connector = connect(sandbox)
    ask = connector.client.user_info

    def session_expired_meanwhile(session: str) -> dict[str, str]:
        sandbox.state.expire_tokens()
        return ask(session)

    monkeypatch.setattr(connector.client, "user_info", session_expired_meanwhile)
    assert connector.default_currency() is None


class _DescribesInFlight(httpx.BaseTransport):
    """The sandbox's transport, each describe slowed as a real org's, counting those at once."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/describe"):
            return self.inner.handle_request(request)
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)
            return self.inner.handle_request(request)
        finally:
            with self._lock:
                self.running -= 1


def test_fitting_the_mapping_describes_the_mapped_objects_together(
    connect, sandbox_transport, monkeypatch
):
    """One round trip's wait per few objects, not one per object; the fit is the same."""
    spec = load_mapping(MAPPING)
    fits = []
    for ahead in (True, False):
        sandbox = SalesforceSandbox(seed=4, records=5, profile="hard")
        watch = _DescribesInFlight(sandbox_transport(sandbox))
        connector = connect(sandbox, transport=watch)
        if not ahead:
            monkeypatch.setattr(connector, "describe_ahead", lambda *_a, **_k: None)
        fits.append(fit_to_org(spec, connector, file=str(MAPPING)))
        describes = [p for p in data_paths(sandbox) if p.endswith("/describe")]
        objects = {e.object for e in spec.entities.values()} | {"Organization"}
        assert sorted(describes) == sorted(f"/sobjects/{o}/describe" for o in objects)
        assert (watch.most > 1) is ahead
        connector.close()
    assert fits[0].spec == fits[1].spec and fits[0].left_out == fits[1].left_out
    assert fits[0].left_out["Opportunity"]  # this org lacks fields the mapping names


def test_a_describe_that_failed_ahead_is_met_where_it_is_needed(connect, caplog):
    """Not asked a second time: the fit warns about that object and goes on, as before."""
    spec = load_mapping(MAPPING)
    note = spec.entities["Note"].model_copy(update={"object": "Delivery_Note__c"})
    spec = spec.model_copy(update={"entities": {**spec.entities, "Note": note}})
    sandbox = SalesforceSandbox(seed=4, records=5)
    connector = connect(sandbox)
    fit = fit_to_org(spec, connector, file=str(MAPPING))
    assert data_paths(sandbox).count("/sobjects/Delivery_Note__c/describe") == 1
    assert "Delivery_Note__c" in caplog.text
    assert fit.spec.entities["Opportunity"] is not None and not fit.issues
