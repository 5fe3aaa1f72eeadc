"""The sandbox's indexed search answers as a plain filter-and-sort of every record does.

The sandbox answers searches from sorted views kept up to date on every write
(:func:`search_view`); :func:`run_search` is the plain scan. Both must give the
same page, total and next ``after`` for any filters and sort, also after
writes between searches. The list endpoint bisects ids and reads ``properties``
given comma-separated or repeated.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import httpx
import pytest
from hubspot_support import BASE_URL, ManualClock

from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.hubspot.schema import OBJECTS
from handoff_hub.sandboxes.hubspot.search import SearchViews, run_search, search_view
from handoff_hub.sandboxes.hubspot.values import moment_ms

DEALS = OBJECTS["deals"]
MODIFIED = DEALS.modified


def _answer(finder: Any) -> Any:
    try:
        page, total, following = finder()
    except ApiError as exc:
        return ("refused", exc.status, exc.message)
    return [r.id for r in page], total, following


def _same(sandbox: HubSpotSandbox, views: SearchViews, body: dict[str, Any]) -> Any:
    store = sandbox.store
    plain = _answer(lambda: run_search(DEALS, store.records(DEALS), body, window=500))
    indexed = _answer(lambda: search_view(DEALS, views, body, window=500))
    assert indexed == plain, body
    return indexed


def _stamps(sandbox: HubSpotSandbox) -> list[int]:
    return sorted(moment_ms(str(r.props[MODIFIED])) for r in sandbox.store.records(DEALS))


def _bodies(rng: random.Random, stamps: list[int]) -> list[dict[str, Any]]:
    """Searches as the connector and people make them: modified ranges, stages, sorts."""
    pick = stamps[rng.randrange(len(stamps))]
    other = stamps[rng.randrange(len(stamps))]
    ranges = [
        {"propertyName": MODIFIED, "operator": "GTE", "value": str(pick)},
        {"propertyName": MODIFIED, "operator": "GT", "value": str(pick)},
        {"propertyName": MODIFIED, "operator": "LT", "value": str(pick)},
        {"propertyName": MODIFIED, "operator": "LTE", "value": str(pick)},
        {"propertyName": MODIFIED, "operator": "EQ", "value": str(pick)},
        {
            "propertyName": MODIFIED,
            "operator": "BETWEEN",
            "value": str(min(pick, other)),
            "highValue": str(max(pick, other)),
        },
        {"propertyName": MODIFIED, "operator": "BETWEEN", "value": str(pick + 5), "highValue": "1"},
        {"propertyName": MODIFIED, "operator": "NEQ", "value": str(pick)},
        {"propertyName": MODIFIED, "operator": "HAS_PROPERTY"},
    ]
    others = [
        {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "contractsent"]},
        {"propertyName": "amount", "operator": "GT", "value": "200000"},
        {"propertyName": "pipeline", "operator": "EQ", "value": "default"},
        {"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "a"},
        {"propertyName": "hs_is_closed", "operator": "NEQ", "value": "true"},
    ]
    sorts: list[list[Any]] = [
        [],
        [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
        [{"propertyName": MODIFIED, "direction": "DESCENDING"}],
        [{"propertyName": "amount", "direction": "DESCENDING"}],
        [{"propertyName": "closedate"}],
        ["-dealname"],
    ]
    bodies = []
    for _ in range(12):
        chosen = rng.sample(ranges, rng.randrange(0, 3)) + rng.sample(others, rng.randrange(0, 3))
        groups = [{"filters": chosen}] if chosen else []
        if rng.random() < 0.2:
            groups.append({"filters": [rng.choice(ranges), rng.choice(others)]})
        bodies.append(
            {
                "filterGroups": groups,
                "sorts": rng.choice(sorts),
                "limit": rng.choice((1, 7, 50, 200)),
                "after": str(rng.choice((0, 0, 3, 40, 300))),
            }
        )
    return bodies


def _write(sandbox: HubSpotSandbox, rng: random.Random) -> None:
    """A change a user or the hub makes: create, update, restamp (ties), archive, win."""
    state = sandbox.state
    ids = state.ids("deals")
    chosen = rng.choice(("add", "modify", "tie", "archive", "won"))
    if chosen == "add":
        for n in range(rng.randrange(1, 4)):
            state.add_deal(f"Added {n}", amount=rng.randrange(1, 900) * 1000)
    elif chosen == "modify":
        for deal in rng.sample(ids, 3):
            state.modify_record("deals", deal, amount=rng.randrange(1, 900) * 1000)
    elif chosen == "tie":
        when = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)
        state.set_modified("deals", rng.sample(ids, 4), when)
    elif chosen == "archive":
        state.archive("deals", rng.choice(ids))
    else:
        state.mark_won(rng.choice(ids))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_search_answers_as_a_plain_scan(seed: int) -> None:
    sandbox = HubSpotSandbox(seed=seed, records=240, clock=ManualClock())
    views = SearchViews(sandbox.store, size=4)  # small: views are dropped and rebuilt too
    rng = random.Random(seed)
    for _ in range(15):
        for body in _bodies(rng, _stamps(sandbox)):
            _same(sandbox, views, body)
        _write(sandbox, rng)


def test_keyset_paging_with_writes_between_pages() -> None:
    """The connector's read: restart from the newest date seen; the hub writes meanwhile."""
    sandbox = HubSpotSandbox(seed=5, records=300, clock=ManualClock())
    views = SearchViews(sandbox.store)
    stage = {"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedlost"]}
    since = _stamps(sandbox)[0]
    seen = 0
    for turn in range(100):
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": MODIFIED, "operator": "GTE", "value": str(since)},
                        stage,
                    ]
                }
            ],
            "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            "limit": 20,
        }
        ids, _total, following = _same(sandbox, views, body)
        if following is None:
            break
        seen += len(ids)
        since = moment_ms(str(sandbox.state.get("deals", ids[-1])[MODIFIED]))
        if turn % 3 == 0:  # a write-back: the record moves to the end of the result
            sandbox.state.modify_record("deals", ids[0], description=f"linked {turn}")
    assert seen > 200


def test_refusals_are_the_same() -> None:
    sandbox = HubSpotSandbox(seed=1, records=20, clock=ManualClock())
    views = SearchViews(sandbox.store)
    for body in (
        {"limit": 0},
        {"limit": 200, "after": "400"},
        {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": 1}]}]},
        {"filterGroups": [{"filters": [{"propertyName": MODIFIED, "operator": "GTE"}]}]},
        {
            "filterGroups": [
                {"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": "x"}]}
            ]
        },
        {"sorts": [{"propertyName": "nope"}]},
        {"sorts": ["amount", "dealname"]},
    ):
        assert _same(sandbox, views, body)[0] == "refused"


def _client(sandbox: HubSpotSandbox) -> httpx.Client:
    token = sandbox.credentials["access_token"]
    return httpx.Client(
        transport=sandbox.transport(),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_list_pages_skip_archived_records_and_take_repeated_properties() -> None:
    sandbox = HubSpotSandbox(
        seed=2, records=30, clock=ManualClock(), rate_limit=RateLimits.generous()
    )
    ids = sandbox.state.ids("deals")
    for gone in ids[3:6]:
        sandbox.state.archive("deals", gone)
    live = [i for i in ids if i not in ids[3:6]]
    listed: list[str] = []
    after: str | None = None
    with _client(sandbox) as client:
        while True:
            params: dict[str, Any] = {"limit": 4, **({"after": after} if after else {})}
            page = client.get("/crm/v3/objects/deals", params=params).json()
            listed += [r["id"] for r in page["results"]]
            if "paging" not in page:
                break
            after = page["paging"]["next"]["after"]
        assert listed == live
        repeated = client.get(
            "/crm/v3/objects/deals?limit=2&properties=dealname&properties=amount,dealstage"
        ).json()
        one = client.get(f"/crm/v3/objects/deals/{live[0]}?properties=amount&properties=pipeline")
    expected = {"dealname", "amount", "dealstage", "createdate", MODIFIED, "hs_object_id"}
    assert all(set(r["properties"]) == expected for r in repeated["results"])
    shown = set(one.json()["properties"])
    assert shown == {"amount", "pipeline", "createdate", MODIFIED, "hs_object_id"}


def test_archived_records_leave_search_results() -> None:
    sandbox = HubSpotSandbox(seed=4, records=12, clock=ManualClock())
    views = SearchViews(sandbox.store)
    body = {"sorts": [{"propertyName": MODIFIED}], "limit": 100}
    before = _same(sandbox, views, body)
    sandbox.state.archive("deals", before[0][0])
    after = _same(sandbox, views, body)
    assert after[1] == before[1] - 1 and before[0][0] not in after[0]
