"""Who manages a new project: a deal field, rules, a round-robin pool in the store, a fallback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.handoffs import ManagerConfig, ManagerRule
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.managers import ManagerChoice, ManagerChooser, resolve
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.model import Account, Money, Opportunity, Project, User
from handoff_hub.hub.runtime import Runtime

PM_TOOLS = ["jira", "asana"]


def _deal(**values: Any) -> Opportunity:
    return Opportunity(name="Deal", owner=User(email="owner@acme.example"), **values)


def _chooser(config: ManagerConfig, turns: list[str] | None = None) -> ManagerChooser:
    taken: Counter[str] = Counter()

    def take(name: str, size: int) -> int:
        taken[name] += 1
        if turns is not None:
            turns.append(name)
        return (taken[name] - 1) % size

    return ManagerChooser(config, pool_prefix="t", take_turn=take)


def test_the_steps_go_field_rules_template_pool_owner() -> None:
    config = ManagerConfig(
        field="account.owner.email",
        rules=[
            ManagerRule(when={"account.industry": "Energy"}, email="energy@acme.example"),
            ManagerRule(when={"amount": {">=": 100000}}, pool=["a@acme.example", "b@acme.example"]),
        ],
    )
    chooser = _chooser(config)
    with_field = _deal(account=Account(owner=User(email="am@acme.example"), industry="Energy"))
    by_field = ManagerChoice("am@acme.example", "field account.owner.email")
    assert chooser.choose(with_field) == by_field
    energy = _deal(account=Account(industry="energy "), amount=Money(amount=5, currency="EUR"))
    assert chooser.choose(energy).email == "energy@acme.example"
    big = _deal(amount=Money(amount=250000, currency="EUR"))
    assert [chooser.choose(big).email for _ in range(3)] == [
        "a@acme.example",
        "b@acme.example",
        "a@acme.example",
    ]
    small = _deal(amount=Money(amount=5, currency="USD"))
    assert chooser.choose(small, template_email="tpl@acme.example").step == "template"
    assert chooser.choose(small) == ManagerChoice("owner@acme.example", "deal owner")
    pooled = _chooser(ManagerConfig(pool=["p@acme.example"]))
    assert pooled.choose(small).step == "pool, turn 1 of 1"


def test_a_plan_names_the_pool_without_taking_a_turn() -> None:
    turns: list[str] = []
    chooser = _chooser(ManagerConfig(pool=["a@acme.example", "b@acme.example"]), turns)
    assert chooser.choose(_deal(), turns=False) == ManagerChoice(None, "pool (next in turn)")
    assert turns == []


def test_resolving_warns_and_falls_back() -> None:
    users = {"pm@acme.example": "U1", "pmo@acme.example": "U9"}
    known = resolve(ManagerChoice("PM@acme.example", "pool"), users, fallback=None, tool="jira")
    assert known.user_id == "U1" and known.warning is None
    gone = ManagerChoice("gone@acme.example", "deal owner")
    fell = resolve(gone, users, fallback="pmo@acme.example", tool="jira")
    assert (fell.email, fell.user_id) == ("pmo@acme.example", "U9")
    assert fell.warning is not None and "gone@acme.example" in fell.warning
    assert "fallback pmo@acme.example" in fell.warning
    none = resolve(gone, users, fallback="nobody@acme.example", tool="asana")
    assert none.user_id is None and none.warning is not None
    assert "nor the fallback" in none.warning and "has no manager" in none.warning
    empty = resolve(ManagerChoice(None, "deal owner"), users, fallback=None, tool="jira")
    assert empty.warning == "no manager address (deal owner gives none): the project has no manager"


# end to end, on both project tools -----------------------------------------------------


@pytest.fixture(params=PM_TOOLS)
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _pm_users(rt: Runtime) -> list[str]:
    state: Any = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    users = state.user_ids() if hasattr(state, "user_ids") else state.users()
    return sorted(e for e in users if e)[:3]


def _run(rt: Runtime, manager: dict[str, Any]) -> dict[str, int]:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    config = settings.model_copy(update={"manager": ManagerConfig.model_validate(manager)})
    return dict(run_handoff(HANDOFF, WonToProject(rt, config), rt.store).counts)


def _managers(rt: Runtime) -> dict[str, str | None]:
    """Source deal -> the manager (PM user id) of its project, read back from the PM tool."""
    pm, spec = rt.pm("pm"), rt.mapping("pm")
    entity = spec.entities["Project"]
    links = rt.store.links(HANDOFF)
    ids = [lk.target_id for lk in links]
    raws = pm.read_by_ids(entity.object, ids, fields=entity.source_fields())
    projects, failures = to_unified_many(spec, "Project", [r.raw for r in raws])
    assert not failures
    by_id = {p.refs["pm"]: p for p in projects if isinstance(p, Project)}
    owners: dict[str, str | None] = {}
    for lk in links:
        manager = (by_id.get(lk.target_id) or by_id[lk.target_key or ""]).manager
        owners[lk.source_id] = manager.refs.get("pm") if manager else None
    return owners


def test_a_pool_goes_round_across_runs_and_restarts(rt: Runtime) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    plan = run_handoff(HANDOFF, WonToProject(rt, settings), rt.store, dry_run=True)
    won = sum(1 for d in plan.decisions if d.verdict.value == "create")
    size = 2 if won % 2 else 3  # so that the restart's turn is not the pool's first member
    pool = _pm_users(rt)[:size]
    assert len(pool) == size and won % size
    ids = rt.pm("pm").find_users(pool)
    first = _run(rt, {"pool": pool})
    assert first["created"] == won >= 3 and not first.get("manager_unmatched")
    counts = Counter(_managers(rt).values())
    assert set(counts) == {ids[e] for e in pool}
    assert max(counts.values()) - min(counts.values()) <= 1
    crm_state: Any = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    deal = crm_state.add_opportunity("Won after a restart", stage="Closed Won")
    assert _run(rt, {"pool": pool})["created"] == 1  # a new handoff object: a restart
    assert _managers(rt)[deal] == ids[pool[won % size]] != ids[pool[0]]


def test_a_manager_the_tool_lacks_goes_to_the_fallback_with_a_warning(rt: Runtime) -> None:
    users = _pm_users(rt)
    fallback_id = rt.pm("pm").find_users([users[0]])[users[0]]
    rule = {"when": {"amount": {">=": 0}}, "email": "nobody.here@acme.example"}
    counts = _run(rt, {"rules": [rule], "fallback": users[0]})
    assert counts["created"] >= 3 and counts["manager_unmatched"] == counts["created"]
    assert set(_managers(rt).values()) == {fallback_id}
    warnings = [e for e in rt.store.audit_events() if e.action == "manager_unmatched"]
    assert len(warnings) == counts["created"] and warnings[0].outcome == "warning"
    assert "nobody.here@acme.example (rule 1)" in str(warnings[0].detail)
    assert f"goes to the fallback {users[0]}" in str(warnings[0].detail)


def test_no_user_and_no_fallback_is_a_warning_not_a_silent_empty_owner(rt: Runtime) -> None:
    counts = _run(rt, {"rules": [{"when": {}, "email": "nobody.here@acme.example"}]})
    assert counts["manager_unmatched"] == counts["created"] >= 3
    warnings = [e for e in rt.store.audit_events() if e.action == "manager_unmatched"]
    assert all("the project has no manager" in str(w.detail) for w in warnings)
    notes = [e for e in rt.store.audit_events() if e.action == "notify"]
    assert len(notes) == counts["created"]


@pytest.mark.parametrize(
    ("manager", "message"),
    [
        ({"field": "pm_email"}, "pm_email"),
        ({"rules": [{"when": {"region": "EMEA"}, "email": "a@b.example"}]}, "region"),
        ({"rules": [{"when": {"amount": {"gte": 1}}, "email": "a@b.example"}]}, "gte"),
        ({"rules": [{"when": {}, "email": "a@b.example", "pool": ["c@d.example"]}]}, "either"),
        ({"pool": ["not an address"]}, "pattern"),
    ],
)
def test_validate_names_the_line_of_a_bad_manager_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manager: dict[str, Any], message: str
) -> None:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    path = runtime.loaded.path
    runtime.close()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["handoffs"]["won_to_project"]["manager"] = manager
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = [i for i in caught.value.issues if ".manager" in i.field]
    assert issue.line is not None and message in f"{issue.message} {issue.hint}"


def test_a_rule_on_the_parent_company_gives_every_department_one_manager(rt: Runtime) -> None:
    users = _pm_users(rt)
    ids = rt.pm("pm").find_users(users[:2])
    crm_state: Any = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    group, finance = (a["Id"] for a in crm_state.find("Account")[:2])
    deal = crm_state.add_opportunity("Finance rollout", stage="Closed Won", AccountId=finance)
    rule = {"when": {"account.parent": group}, "email": users[1]}
    assert _run(rt, {"rules": [rule], "fallback": users[0]})["created"] >= 1
    managers = _managers(rt)
    assert managers[deal] == ids[users[1]]
    parents = {a["Id"]: a.get("ParentId") for a in crm_state.find("Account")}
    for source, manager in managers.items():
        account = crm_state.get("Opportunity", source)["AccountId"]
        assert (manager == ids[users[1]]) is (parents.get(account) == group), source
