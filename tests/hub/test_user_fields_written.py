"""Custom ``user`` fields are written as the product's user id, found by e-mail (issue 20)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.config.handoffs import SyncFieldConfig
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.sync import HANDOFF as SYNC
from handoff_hub.hub.handoffs.sync import Sync
from handoff_hub.hub.handoffs.user_fields import KnownUsers, UserIds
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import from_unified, map_records
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Opportunity, Project
from handoff_hub.hub.runtime import Runtime

TODAY = dt.date(2026, 11, 22)
NOBODY = "integration@handoff-hub.example"


def _spec() -> MappingSpec:
    return MappingSpec.model_validate(
        {
            "system": "pm",
            "entities": {
                "Project": {
                    "object": "issue",
                    "fields": {
                        "name": {"path": "summary"},
                        "custom.lead": {
                            "path": "lead.emailAddress",
                            "write_to": "lead.accountId",
                            "type": "user",
                        },
                    },
                }
            },
        }
    )


def test_the_engine_writes_the_id_of_a_known_address_and_leaves_an_unknown_one_out() -> None:
    project = Project(name="P", custom={"lead": "Ada@Acme.example"})
    assert from_unified(_spec(), "Project", project, people={"ada@acme.example": "u-1"}) == {
        "summary": "P",
        "lead": {"accountId": "u-1"},
    }
    assert from_unified(_spec(), "Project", project, people={}) == {"summary": "P"}
    assert from_unified(_spec(), "Project", project) == {"summary": "P"}  # never the address


class _Users:
    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def find_users(self, emails: list[str]) -> dict[str, str]:
        self.asked.append(list(emails))
        return {e: f"id-{e}" for e in emails if e.startswith("ada")}


def test_each_address_is_asked_once_and_an_unmatched_one_is_reported() -> None:
    users = _Users()
    ids = UserIds(users, _spec(), "Project")  # type: ignore[arg-type]
    one = Project(name="A", custom={"lead": "ada@acme.example"})
    two = Project(name="B", custom={"lead": "nobody@acme.example"})
    assert ids.people([one, two]) == {"ada@acme.example": "id-ada@acme.example"}
    assert ids.people([one, two]) == {"ada@acme.example": "id-ada@acme.example"}
    assert users.asked == [["ada@acme.example", "nobody@acme.example"]]
    [unset] = ids.unmatched(two, ids.people([two]))
    assert (unset.field, unset.email) == ("custom.lead", "nobody@acme.example")
    assert ids.unmatched(one, ids.people([one])) == []


def test_known_users_ask_each_address_once_whatever_its_case() -> None:
    users = _Users()
    known = KnownUsers(users)  # type: ignore[arg-type]
    found = known.ids(["ada@acme.example", "ADA@acme.example ", None, " ", "nobody@acme.example"])
    assert found == {"ada@acme.example": "id-ada@acme.example"}
    assert known.ids(["Ada@Acme.example", "nobody@acme.example"]) == found
    assert users.asked == [["ada@acme.example", "nobody@acme.example"]]  # not found: kept too


# end to end ----------------------------------------------------------------------------------


@pytest.fixture
def sf_jira(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _won(rt: Runtime) -> dict[str, Opportunity]:
    spec = rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    pages = rt.connector("crm").read_changes(
        entity.object, since=None, fields=entity.source_fields()
    )
    opps, _ = map_records(spec, "Opportunity", [r for p in pages for r in p.records])
    return {o.refs["crm"]: o for o in opps if isinstance(o, Opportunity) and o.stage.value == "won"}


def _run(rt: Runtime) -> Counter[str]:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return Counter(run_handoff(HANDOFF, WonToProject(rt, settings, today=TODAY), rt.store).counts)


def _warnings(rt: Runtime) -> list[str]:
    events = rt.store.audit_events(handoff=HANDOFF)
    return [str(e.detail) for e in events if e.action == "user_unmatched"]


def _sf_user(rt: Runtime, email: str) -> str:
    found = rt.connector("crm").find_users([email])
    return found[email]


def test_salesforce_to_jira_writes_the_accountid_and_warns_of_an_unmatched_address(
    sf_jira: Runtime,
) -> None:
    known, unknown = list(_won(sf_jira))[:2]
    ada = "ada.lovelace@acme-sales.example"
    state = sf_jira.sandboxes["crm"].state  # type: ignore[attr-defined]
    state.modify_record("Opportunity", known, Delivery_Lead__c=_sf_user(sf_jira, ada))
    state.modify_record("Opportunity", unknown, Delivery_Lead__c=_sf_user(sf_jira, NOBODY))
    counts = _run(sf_jira)
    assert counts["user_unmatched"] == 1 and not counts["failed"]
    [warning] = _warnings(sf_jira)
    assert NOBODY in warning and "custom.delivery_lead" in warning and "left unset" in warning
    links = {lk.source_id: lk.target_key for lk in sf_jira.store.links(HANDOFF)}
    jira = sf_jira.sandboxes["pm"].state  # type: ignore[attr-defined]
    fields = {d: jira.get(str(links[d]))["fields"] for d in (known, unknown)}
    assert fields[known]["customfield_10062"]["accountId"] == jira.user_ids()[ada]
    assert fields[known]["customfield_10062"]["emailAddress"] == ada
    assert fields[unknown].get("customfield_10062") is None
    assert not _run(sf_jira)["user_unmatched"]  # done deals are not written again


def test_sync_writes_a_project_user_onto_the_deal_as_the_salesforce_user_id(
    sf_jira: Runtime,
) -> None:
    _run(sf_jira)
    link = sf_jira.store.links(HANDOFF)[0]
    grace = "grace.liskov@acme-sales.example"
    jira = sf_jira.sandboxes["pm"].state  # type: ignore[attr-defined]
    jira.modify(str(link.target_key), customfield_10062=jira.user_ids()[grace])
    settings = sf_jira.loaded.config.handoffs.sync
    assert settings is not None
    lead = SyncFieldConfig(crm="custom.delivery_lead", pm="custom.delivery_lead")
    sync = Sync(sf_jira, settings.model_copy(update={"fields": [lead], "conflict": "pm-wins"}))
    counts = run_handoff(SYNC, sync, sf_jira.store).counts
    assert counts.get("user_unmatched", 0) == 0 and counts.get("failed", 0) == 0
    deal = sf_jira.sandboxes["crm"].state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Lead__c"] == _sf_user(sf_jira, grace)


@pytest.fixture
def hs_asana(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("hubspot", "asana", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def test_hubspot_to_asana_writes_the_user_gid_and_warns_of_an_unmatched_address(
    hs_asana: Runtime,
) -> None:
    stranger = "nobody@elsewhere.example"
    hubspot = hs_asana.sandboxes["crm"].state  # type: ignore[attr-defined]
    owner = hubspot.add_owner(stranger, "No", "Body")  # a sales rep with no Asana user
    owners = {o["email"]: o["id"] for o in hubspot.owners()}
    grace = "grace.liskov@acme-sales.example"
    known, unknown = list(_won(hs_asana))[:2]
    hubspot.modify_record("deals", known, delivery_lead=owners[grace])
    hubspot.modify_record("deals", unknown, delivery_lead=owner)
    counts = _run(hs_asana)
    assert counts["user_unmatched"] == 1 and not counts["failed"]
    [warning] = _warnings(hs_asana)
    assert stranger in warning and "custom.delivery_lead" in warning
    asana = hs_asana.sandboxes["pm"].state  # type: ignore[attr-defined]
    links = {lk.source_id: lk.target_id for lk in hs_asana.store.links(HANDOFF)}

    def people(deal: str) -> list[str]:
        values = asana.project(links[deal])["custom_fields"]
        leads = [v.get("people_value") or [] for v in values if v["name"] == "Delivery lead"]
        return [p["gid"] for lead in leads for p in lead]

    assert people(known) == [asana.users()[grace]]
    assert people(unknown) == []
    assert _won(hs_asana)[known].custom["delivery_lead"] == grace  # read back by e-mail


def test_sync_writes_a_jira_user_onto_a_hubspot_owner_property_as_the_owner_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = open_pair_runtime("hubspot", "jira", tmp_path, monkeypatch)
    try:
        _run(rt)
        first, second = rt.store.links(HANDOFF)[:2]
        jira = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
        alan = "alan.obrien@acme-sales.example"
        jira.modify(str(first.target_key), customfield_10062=jira.user_ids()[alan])
        robot = "hub-integration@acme-delivery.example"  # a Jira user, no HubSpot owner
        jira.modify(str(second.target_key), customfield_10062=jira.user_ids()[robot])
        settings = rt.loaded.config.handoffs.sync
        assert settings is not None
        rule = SyncFieldConfig(
            crm="custom.delivery_lead", pm="custom.delivery_lead", direction="pm_to_crm"
        )
        sync = Sync(rt, settings.model_copy(update={"fields": [rule]}))
        counts = run_handoff(SYNC, sync, rt.store).counts
        assert counts.get("user_unmatched") == 1 and counts.get("failed", 0) == 0
        hubspot = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
        owners = {o["email"]: o["id"] for o in hubspot.owners()}
        assert hubspot.get("deals", first.source_id)["delivery_lead"] == owners[alan]
        assert not hubspot.get("deals", second.source_id).get("delivery_lead")
    finally:
        rt.close()


def test_a_batch_asks_for_its_user_fields_addresses_in_one_look_up(
    sf_jira: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = list(_won(sf_jira))[:2]
    state = sf_jira.sandboxes["crm"].state  # type: ignore[attr-defined]
    leads = ("ada.lovelace@acme-sales.example", NOBODY)
    for deal, email in zip((first, second), leads, strict=True):
        state.modify_record("Opportunity", deal, Delivery_Lead__c=_sf_user(sf_jira, email))
    asked = _user_lookups(sf_jira, monkeypatch)
    _run(sf_jira)
    # the managers' look-up (deal owners) comes first; the user fields' is one call for the
    # addresses it has not asked (a lead who owns a deal was found by the managers' look-up)
    [user_fields] = [a for a in asked if NOBODY in a]
    assert set(leads) <= set(_each_asked_once(asked))
    assert set(user_fields) <= set(leads)


def _user_lookups(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The addresses of each of the project tool's user look-ups from now on."""
    pm = rt.connector("pm")
    asked: list[list[str]] = []
    real = pm.find_users

    def counting(emails: list[str]) -> dict[str, str]:
        asked.append(list(emails))
        return real(emails)

    monkeypatch.setattr(pm, "find_users", counting)
    return asked


def _each_asked_once(asked: list[list[str]]) -> list[str]:
    everyone = [email.lower() for a in asked for email in a]
    assert len(everyone) == len(set(everyone))  # each address asked once in the run
    return everyone


def test_a_run_asks_for_each_manager_once_however_many_batches(
    hs_asana: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deal owners recur batch after batch: a backfill of 100k deals asked Jira 16 a batch."""
    settings = hs_asana.loaded.config.handoffs.won_to_project
    assert settings is not None
    owners = {o.owner.email for o in _won(hs_asana).values() if o.owner and o.owner.email}
    asked = _user_lookups(hs_asana, monkeypatch)
    small = settings.model_copy(update={"batch_size": 2})
    summary = run_handoff(HANDOFF, WonToProject(hs_asana, small, today=TODAY), hs_asana.store)
    assert summary.counts["created"] == len(_won(hs_asana)) > len(owners) > 1
    assert len(asked) > 1  # several batches asked
    assert {e.lower() for e in owners} <= set(_each_asked_once(asked))
