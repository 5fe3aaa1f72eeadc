from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff_hub.hub.http.redact import register_secret
from handoff_hub.hub.store import AuditEvent, AuditEventRow, Link, LinkRow, StateStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = StateStore(url)
    yield opened
    opened.close()


def _link(source_id: str = "006A", key: str = "DEL-1", state: str = "created") -> Link:
    return Link(
        "won-to-project",
        "crm",
        "Opportunity",
        source_id,
        "pm",
        "issue",
        "10001",
        key,
        "https://x/browse/" + key,
        state,
    )


def test_record_link_is_idempotent_and_updates(store: StateStore) -> None:
    store.record_link(_link())
    store.record_link(_link(state="complete"))
    links = store.links("won-to-project")
    assert len(links) == 1
    assert links[0].state == "complete"


def test_links_for_batches_and_filters_by_target(store: StateStore) -> None:
    store.record_links([_link(source_id=f"006{i:04d}", key=f"DEL-{i}") for i in range(1200)])
    ids = [f"006{i:04d}" for i in range(0, 1200, 2)] + ["missing"]
    found = store.links_for("won-to-project", "crm", ids, target_system="pm")
    assert len(found) == 600
    assert found["0060010"].target_key == "DEL-10"
    assert store.links_for("won-to-project", "crm", ids, target_system="other") == {}


def test_link_ends_pages_every_link_of_one_pair_in_order(store: StateStore) -> None:
    store.record_links([_link(source_id=f"006{i:04d}", key=f"DEL-{i}") for i in range(25)])
    other = Link("won-to-project", "hubspot", "deal", "9", "pm", "issue", "1", "DEL-X")
    store.record_link(other)
    batches = list(store.link_ends("won-to-project", "crm", "pm", batch=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    ends = [end for batch in batches for end in batch]
    assert [e[0] for e in ends] == [f"006{i:04d}" for i in range(25)]
    source_id, target_id, target_key, created_at, slot = ends[3]
    assert slot == ""
    assert (source_id, target_id, target_key) == ("0060003", "10001", "DEL-3")
    assert created_at is not None and created_at.utcoffset() is not None
    assert list(store.link_ends("won-to-project", "crm", "other")) == []
    assert list(store.link_ends("risk-to-account-manager", "crm", "pm")) == []


def test_record_links_inserts_and_updates_a_batch_in_one_go(store: StateStore) -> None:
    store.record_links([_link(source_id=f"006{i:04d}", key=f"DEL-{i}") for i in range(0, 1200, 3)])
    created_at = {link.source_id: link.created_at for link in store.links("won-to-project")}
    batch = [_link(source_id=f"006{i:04d}", key=f"DEL-{i}", state="complete") for i in range(1200)]
    batch.append(_link(source_id="0060001", key="DEL-LAST", state="complete"))
    store.record_links(batch)
    links = {link.source_id: link for link in store.links("won-to-project")}
    assert len(links) == 1200
    assert {link.state for link in links.values()} == {"complete"}
    assert links["0060001"].target_key == "DEL-LAST"
    assert links["0060003"].created_at == created_at["0060003"]
    store.record_links([])
    assert store.count(LinkRow) == 1200


def test_cursor_round_trip(store: StateStore) -> None:
    assert store.get_cursor("c") is None
    store.set_cursor("c", "2026-11-20T10:00:00Z")
    store.set_cursor("c", "2026-11-21T10:00:00Z")
    assert store.get_cursor("c") == "2026-11-21T10:00:00Z"


def test_state_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'state.db'}"
    first = StateStore(url)
    first.record_link(_link())
    first.set_cursor("c", "v")
    first.close()
    second = StateStore(url)
    assert second.get_cursor("c") == "v"
    assert len(second.links()) == 1


def test_runs_record_counts_and_redacted_errors(store: StateStore) -> None:
    register_secret("sk-run-secret-123")
    run_id = store.start_run("won-to-project")
    store.finish_run(
        run_id, status="failed", counts={"created": 2}, error="boom with sk-run-secret-123"
    )
    [run] = store.runs("won-to-project")
    assert run.status == "failed"
    assert run.counts == {"created": 2}
    assert run.error is not None and "sk-run-secret-123" not in run.error
    assert run.finished_at is not None


def test_audit_events_filter_by_run_and_record(store: StateStore) -> None:
    store.audit(
        "r1",
        [AuditEvent("h", "create_project", "pm", "Project", "DEL-1", "ok", source_ref="crm:006A")],
    )
    store.audit("r2", [AuditEvent("h", "write_back", "crm", "Opportunity", "006A", "ok")])
    assert store.count(AuditEventRow) == 2
    assert [e.action for e in store.audit_events(run_id="r1")] == ["create_project"]
    assert {e.action for e in store.audit_events(record_id="crm:006A")} == {"create_project"}
    assert {e.action for e in store.audit_events(record_id="006A")} == {"write_back"}


def test_dead_letters_repeat_and_resolve(store: StateStore) -> None:
    for reason in ("bad amount", "bad amount again"):
        store.dead_letter(
            "r",
            handoff="h",
            system="crm",
            object_name="Opportunity",
            record_id="006X",
            reason=reason,
            payload={"Amount": "abc"},
        )
    [letter] = store.dead_letters()
    assert (letter.reason, letter.attempts, letter.payload) == (
        "bad amount again",
        2,
        {"Amount": "abc"},
    )
    assert store.resolve_dead_letters("h", "crm", ["006X"]) == 1
    assert store.dead_letters() == []
    assert len(store.dead_letters(status="replayed")) == 1


def test_a_record_holding_text_no_product_can_hold_is_kept_as_it_came(store: StateStore) -> None:
    """The raw record keeps its unpaired surrogate (JSON carries it escaped); nothing is lost."""
    from handoff_hub.hub.mapping.engine import RecordMappingError, to_unified
    from handoff_hub.hub.mapping.spec import MappingSpec

    spec = MappingSpec.model_validate(
        {
            "system": "crm",
            "entities": {"Account": {"object": "A", "fields": {"name": {"path": "N"}}}},
        }
    )
    raw = {"Id": "001X", "N": "cut \ud83d here"}
    with pytest.raises(RecordMappingError) as caught:
        to_unified(spec, "Account", raw)
    store.dead_letter(
        "r",
        handoff="h",
        system="crm",
        object_name="Account",
        record_id=caught.value.record_id,
        reason=str(caught.value),
        payload=raw,
    )
    [letter] = store.dead_letters()
    assert letter.record_id == "001X" and "unpaired surrogate (U+D83D)" in letter.reason
    assert letter.payload == raw


def test_a_source_has_one_link_per_slot(store: StateStore) -> None:
    from dataclasses import replace

    only = _link("006B", "DEL-5")
    training = replace(_link("006A", "DEL-2"), slot="training", target_id="10002")
    implementation = replace(_link("006A", "DEL-1"), slot="implementation")
    store.record_links([training, implementation, only])
    store.record_link(replace(training, state="complete"))  # the same slot: an update
    sets = store.link_sets("won-to-project", "crm", ["006A", "006B"], target_system="pm")
    assert [(lk.slot, lk.target_key, lk.state) for lk in sets["006A"]] == [
        ("implementation", "DEL-1", "created"),
        ("training", "DEL-2", "complete"),
    ]
    assert [lk.slot for lk in sets["006B"]] == [""]
    first = store.links_for("won-to-project", "crm", ["006A"], target_system="pm")
    assert first["006A"].slot == "implementation"
    assert store.drop_link(training)
    assert [lk.slot for lk in store.links("won-to-project")] == ["implementation", ""]
    ends = [e for batch in store.link_ends("won-to-project", "crm", "pm") for e in batch]
    assert [(e[0], e[4]) for e in ends] == [("006A", "implementation"), ("006B", "")]
