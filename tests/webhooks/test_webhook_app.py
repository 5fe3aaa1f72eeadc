"""``hub serve``'s app on a real localhost port, with real signed deliveries.

The hub behind it runs on seeded in-process sandboxes (pair_support); the
webhook requests go over TCP to uvicorn, as the products' would.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import uvicorn
import yaml
from pair_support import open_pair_runtime
from pydantic import SecretStr
from starlette.applications import Starlette

from handoff_hub.connectors.hubspot.webhooks import HubSpotReceiver
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.webhooks.app import create_app
from handoff_hub.hub.webhooks.dispatch import LEFT_TO_SCHEDULE, WEBHOOK_RUN, DispatchResult
from handoff_hub.hub.webhooks.settings import WebhookConfig, webhook_config
from handoff_hub.hub.webhooks.worker import Worker
from handoff_hub.sandboxes.kit.server import free_port

HUBSPOT_SECRET = "hubspot-app-client-secret-0001"
JIRA_SECRET = "jira-webhook-secret-0002"
PORTAL = 4815166  # the HubSpot sandbox's portal


@dataclass
class Hub:
    rt: Runtime
    url: str
    app: Starlette
    client: httpx.Client

    @property
    def worker(self) -> Worker:
        return cast(Worker, self.app.state.worker)

    def settle(self) -> None:
        assert self.worker.wait_idle(15), "the worker did not finish in time"

    def webhook_runs(self) -> list[Any]:
        return self.rt.store.runs(WEBHOOK_RUN)


def _serve(app: Starlette) -> tuple[str, Callable[[], None]]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="hub-serve-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "hub serve did not start"
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def start_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Hub]]:
    monkeypatch.setenv("HUB_WH_HUBSPOT_SECRET", HUBSPOT_SECRET)
    monkeypatch.setenv("HUB_WH_JIRA_SECRET", JIRA_SECRET)
    stops: list[Callable[[], None]] = []
    runtimes: list[Runtime] = []

    def start(crm: str, pm: str, *, prepare: Callable[[Runtime], None] | None = None) -> Hub:
        rt = open_pair_runtime(crm, pm, tmp_path, monkeypatch)
        runtimes.append(rt)
        if prepare is not None:
            prepare(rt)
        data = yaml.safe_load(rt.loaded.path.read_text(encoding="utf-8"))
        data["webhooks"] = {
            "replay_window_seconds": 300,
            "hubspot": {"client_secret": {"env": "HUB_WH_HUBSPOT_SECRET"}},
            "jira": {"secret": {"env": "HUB_WH_JIRA_SECRET"}},
            "asana": {"names": ["delivery"]},
        }
        for product in ("hubspot", "jira", "asana"):
            if product not in (crm, pm):
                del data["webhooks"][product]
        path = rt.loaded.path.with_name("hub-webhooks.yaml")
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        settings = webhook_config(load_config(path, known_connectors=known_connectors()))
        app = create_app(lambda: rt, settings)
        url, stop = _serve(app)
        client = httpx.Client(base_url=url, timeout=10)
        stops.append(stop)
        stops.append(client.close)
        return Hub(rt, url, app, client)

    yield start
    for stop in reversed(stops):
        stop()
    for rt in runtimes:
        rt.close()


def _poll(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _won_run(rt: Runtime) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    assert run_handoff(WON, WonToProject(rt, settings), rt.store).status == "succeeded"


# signing, as each product documents it (computed here, not with the hub's own code) -------


def _now_ms() -> int:
    return int(time.time() * 1000)


def _hubspot_request(
    hub: Hub,
    events: list[dict[str, Any]],
    *,
    secret: str = HUBSPOT_SECRET,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events).encode()
    stamp = str(timestamp if timestamp is not None else _now_ms())
    uri = f"{hub.url}/webhooks/hubspot"
    mac = hmac.new(secret.encode(), b"POST" + uri.encode() + body + stamp.encode(), "sha256")
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": base64.b64encode(mac.digest()).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
    }
    return body, headers


def _deal_event(deal: str, *, portal: int = PORTAL, event_id: int = 1) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "subscriptionId": 2101,
        "portalId": portal,
        "appId": 77,
        "occurredAt": _now_ms(),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": int(deal),
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
        "changeSource": "CRM_UI",
    }


def _jira_request(
    key: str, *, secret: str = JIRA_SECRET, timestamp: int | None = None, event: str = "created"
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "timestamp": timestamp if timestamp is not None else _now_ms(),
            "webhookEvent": f"jira:issue_{event}",
            "issue_event_type_name": f"issue_{event}",
            "issue": {"id": "10999", "key": key, "fields": {"summary": "(not trusted)"}},
            "changelog": {"id": "1", "items": []},
        }
    ).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json",
        "X-Hub-Signature": signature,
        "X-Atlassian-Webhook-Identifier": f"wh-{key}-{event}",
    }


def _asana_request(events: list[dict[str, Any]], secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"events": events}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hook-Signature": signature}


def _task_event(gid: str, *, created_at: dt.datetime | None = None) -> dict[str, Any]:
    when = created_at or dt.datetime.now(dt.UTC)
    return {
        "user": {"gid": "1209000000000901", "resource_type": "user"},
        "created_at": when.isoformat().replace("+00:00", "Z"),
        "action": "changed",
        "resource": {"gid": gid, "resource_type": "task", "resource_subtype": "default_task"},
        "parent": None,
        "change": {"field": "custom_fields", "action": "changed"},
    }


# HubSpot -------------------------------------------------------------------------------


def test_a_signed_hubspot_deal_won_event_creates_its_project_and_forgeries_do_nothing(
    start_hub: Callable[..., Hub],
) -> None:
    hub = start_hub("hubspot", "jira")
    crm = hub.rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    deal = crm.add_deal("Webhook rollout")
    crm.mark_won(deal)
    body, headers = _hubspot_request(hub, [_deal_event(deal)])

    answer = hub.client.post("/webhooks/hubspot", content=body, headers=headers)

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"ok": True, "accepted": 1}
    link = _poll(
        lambda: next((lk for lk in hub.rt.store.links(WON) if lk.source_id == deal), None),
        "the project of the won deal",
    )
    hub.settle()
    project = hub.rt.pm("pm").find_project(f"crm:{deal}")
    assert project is not None and project.id == link.target_id
    assert {lk.source_id for lk in hub.rt.store.links(WON)} == {deal}, "only the changed deal"
    [run] = hub.webhook_runs()
    assert run.status == "succeeded" and run.counts["won-to-project: created"] == 1, run.counts

    # The same delivery again (a replay): refused, even with its valid signature.
    again = hub.client.post("/webhooks/hubspot", content=body, headers=headers)
    assert again.status_code == 401 and "replay" in again.json()["error"]

    other = crm.add_deal("Not through forgeries")
    crm.mark_won(other)
    events = [_deal_event(other, event_id=2)]
    stale_body, stale = _hubspot_request(hub, events, timestamp=_now_ms() - 6 * 60 * 1000)
    forged_body, forged = _hubspot_request(hub, events, secret="guessed-secret")
    signed_body, signed = _hubspot_request(hub, [_deal_event(deal, event_id=3)])
    tampered = signed_body.replace(deal.encode(), other.encode())
    for content, sent, reason in [
        (stale_body, stale, "older than 300 s"),
        (forged_body, forged, "signature does not match"),
        (tampered, signed, "signature does not match"),
        (forged_body, {"Content-Type": "application/json"}, "missing"),
    ]:
        refused = hub.client.post("/webhooks/hubspot", content=content, headers=sent)
        assert refused.status_code == 401, (reason, refused.text)
        assert reason in refused.json()["error"]
        assert HUBSPOT_SECRET not in refused.text and sent.get(
            "X-HubSpot-Signature-v3", "@"
        ) not in (refused.text)

    foreign_body, foreign = _hubspot_request(hub, [_deal_event(other, portal=999, event_id=4)])
    ignored = hub.client.post("/webhooks/hubspot", content=foreign_body, headers=foreign)
    assert ignored.status_code == 200 and ignored.json()["accepted"] == 0, "another portal's"
    hub.settle()
    assert len(hub.webhook_runs()) == 1, "nothing ran for the refused deliveries"
    assert {lk.source_id for lk in hub.rt.store.links(WON)} == {deal}

    assert hub.client.post("/webhooks/salesforce", content=b"{}").status_code == 404
    assert hub.client.post("/webhooks/asana/delivery", content=b"{}").status_code == 404
    assert hub.client.get("/webhooks/hubspot").status_code == 405
    health = hub.client.get("/healthz")
    assert health.status_code == 200 and health.json()["receivers"] == ["hubspot", "jira"]


def test_a_held_lease_leaves_the_change_to_the_scheduled_run(
    start_hub: Callable[..., Hub],
) -> None:
    hub = start_hub("hubspot", "jira")
    crm = hub.rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    deal = crm.add_deal("Busy hour deal")
    crm.mark_won(deal)
    settings = hub.rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    elsewhere = StateStore(hub.rt.store.url)  # another worker's process
    try:
        with elsewhere.holding(elsewhere.lease(WonToProject(hub.rt, settings).lease_name)):
            body, headers = _hubspot_request(hub, [_deal_event(deal)])
            answer = hub.client.post("/webhooks/hubspot", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
            hub.settle()
    finally:
        elsewhere.close()
    [run] = hub.webhook_runs()
    assert run.counts[f"won-to-project: {LEFT_TO_SCHEDULE}"] == 1, run.counts
    assert hub.rt.store.links(WON) == []
    # The scheduled run reads the deal from its cursor.
    _won_run(hub.rt)
    assert deal in {lk.source_id for lk in hub.rt.store.links(WON)}


# Jira ----------------------------------------------------------------------------------


def test_a_signed_jira_event_for_an_upsell_item_makes_one_lead(
    start_hub: Callable[..., Hub],
) -> None:
    keys: dict[str, str] = {}

    def prepare(rt: Runtime) -> None:
        _won_run(rt)
        epic = rt.store.links(WON)[0].target_key
        pm = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
        keys["epic"] = epic
        keys["upsell"] = pm.add_feedback(epic, "Customer wants the analytics add-on", "upsell")
        keys["plain"] = pm.add_issue("Fix the login page", parent=epic)
        pm.modify(keys["plain"], priority="Highest")  # urgent, but neither risk nor feedback

    hub = start_hub("salesforce", "jira", prepare=prepare)
    upsell, plain = keys["upsell"], keys["plain"]
    body, headers = _jira_request(upsell)

    answer = hub.client.post("/webhooks/jira", content=body, headers=headers)

    assert answer.status_code == 202, answer.text
    link = _poll(
        lambda: next((lk for lk in hub.rt.store.links(FEEDBACK) if lk.source_id == upsell), None),
        "the lead of the upsell",
    )
    hub.settle()
    crm = hub.rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    [lead] = crm.find("Lead", Handoff_Hub_Id__c=f"pm:{upsell}")
    assert lead["Id"] == link.target_id and "analytics add-on" in lead["Description"]

    plain_body, plain_headers = _jira_request(plain, event="updated")
    assert hub.client.post("/webhooks/jira", content=plain_body, headers=plain_headers).is_success
    hub.settle()
    assert [lk.source_id for lk in hub.rt.store.links(FEEDBACK)] == [upsell]
    assert not [lk for lk in hub.rt.store.links(RISK) if plain in lk.source_id]

    # The Epic itself turns red: its health reaches the deal's owner.
    hub.rt.sandboxes["pm"].state.set_health(keys["epic"], "red")  # type: ignore[attr-defined]
    epic_body, epic_headers = _jira_request(keys["epic"], event="updated")
    assert hub.client.post("/webhooks/jira", content=epic_body, headers=epic_headers).is_success
    _poll(
        lambda: [lk for lk in hub.rt.store.links(RISK) if lk.source_id == f"health:{keys['epic']}"],
        "the health task of the red Epic",
    )
    hub.settle()
    runs = hub.webhook_runs()
    assert len(runs) == 3 and all(r.status == "succeeded" for r in runs), [r.counts for r in runs]

    replayed = hub.client.post("/webhooks/jira", content=body, headers=headers)
    assert replayed.status_code == 401 and "replay" in replayed.json()["error"]
    renamed = {**headers, "X-Atlassian-Webhook-Identifier": "a-fresh-looking-id"}
    assert hub.client.post("/webhooks/jira", content=body, headers=renamed).status_code == 401
    stale_body, stale = _jira_request(upsell, timestamp=_now_ms() - 10 * 60 * 1000)
    assert hub.client.post("/webhooks/jira", content=stale_body, headers=stale).status_code == 401
    forged_body, forged = _jira_request(upsell, secret="not-the-secret", event="updated")
    assert hub.client.post("/webhooks/jira", content=forged_body, headers=forged).status_code == 401
    hub.settle()
    assert len(hub.webhook_runs()) == 3, "nothing ran for the refused deliveries"
    assert len(crm.find("Lead", Handoff_Hub_Id__c=f"pm:{upsell}")) == 1


# Asana ---------------------------------------------------------------------------------


def test_asana_handshake_then_a_signed_event_makes_a_lead(
    start_hub: Callable[..., Hub],
) -> None:
    gids: dict[str, str] = {}

    def prepare(rt: Runtime) -> None:
        _won_run(rt)
        project = rt.store.links(WON)[0]
        pm = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
        gids["upsell"] = pm.add_feedback(
            project.target_key or project.target_id, "Wants a second site", "upsell"
        )

    hub = start_hub("hubspot", "asana", prepare=prepare)
    upsell = gids["upsell"]
    secret = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"

    # Before the handshake nothing can be signed for this path.
    early_body, early = _asana_request([_task_event(upsell)], secret)
    assert (
        hub.client.post("/webhooks/asana/delivery", content=early_body, headers=early).status_code
        == 401
    )

    shake = hub.client.post("/webhooks/asana/delivery", headers={"X-Hook-Secret": secret})
    assert shake.status_code == 200 and shake.headers["X-Hook-Secret"] == secret
    kept = hub.rt.loaded.base_dir / ".hub" / "asana-webhook-secrets.json"
    assert json.loads(kept.read_text(encoding="utf-8"))["secrets"] == {"delivery": secret}
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    # A second handshake must not replace the secret (someone else registering a webhook).
    other = hub.client.post("/webhooks/asana/delivery", headers={"X-Hook-Secret": "intruder-1"})
    assert other.status_code == 403 and "X-Hook-Secret" not in other.headers
    assert json.loads(kept.read_text(encoding="utf-8"))["secrets"] == {"delivery": secret}
    unknown = hub.client.post("/webhooks/asana/unexpected", headers={"X-Hook-Secret": "s-1"})
    assert unknown.status_code == 404

    beat_body, beat = _asana_request([], secret)
    for _ in range(2):
        heartbeat = hub.client.post("/webhooks/asana/delivery", content=beat_body, headers=beat)
        assert heartbeat.status_code == 200 and heartbeat.json()["accepted"] == 0

    body, headers = _asana_request([_task_event(upsell)], secret)
    answer = hub.client.post("/webhooks/asana/delivery", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    link = _poll(
        lambda: next((lk for lk in hub.rt.store.links(FEEDBACK) if lk.source_id == upsell), None),
        "the lead of the Asana upsell",
    )
    hub.settle()
    link = next(lk for lk in hub.rt.store.links(FEEDBACK) if lk.source_id == link.source_id)
    assert link.state == "complete", "lead made and the task commented"

    replayed = hub.client.post("/webhooks/asana/delivery", content=body, headers=headers)
    assert replayed.status_code == 401
    forged_body, forged = _asana_request([_task_event(upsell)], "intruder-1")
    assert (
        hub.client.post("/webhooks/asana/delivery", content=forged_body, headers=forged).status_code
        == 401
    )
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    stale_body, stale = _asana_request([_task_event(upsell, created_at=old)], secret)
    assert (
        hub.client.post("/webhooks/asana/delivery", content=stale_body, headers=stale).status_code
        == 401
    )
    hub.settle()
    assert len(hub.webhook_runs()) == 1
    assert [lk.source_id for lk in hub.rt.store.links(FEEDBACK)] == [upsell]


# a full queue ---------------------------------------------------------------------------


def test_a_full_queue_answers_503_and_the_retry_is_accepted(tmp_path: Path) -> None:
    release = threading.Event()
    handled: list[int] = []

    def slow(_: Runtime, changes: Any) -> DispatchResult:
        release.wait(10)
        handled.append(len(changes))
        return DispatchResult("run", "succeeded", {})

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")  # the replay memory's
    closed = SimpleNamespace(close=lambda: None, store=store)
    worker = Worker(lambda: cast(Runtime, closed), queue_size=1, handle=slow, merge=1)
    config = WebhookConfig({"hubspot": HubSpotReceiver("crm", SecretStr(HUBSPOT_SECRET))})
    app = create_app(lambda: cast(Runtime, closed), config, worker=worker)
    url, stop = _serve(app)
    hub = Hub(cast(Runtime, None), url, app, httpx.Client(base_url=url, timeout=10))
    try:
        answers = []
        for n in range(3):
            body, headers = _hubspot_request(hub, [_deal_event(str(100 + n), event_id=n)])
            answers.append(
                (body, headers, hub.client.post("/webhooks/hubspot", content=body, headers=headers))
            )
            if n == 0:
                _poll(
                    lambda: worker.queued == 1 and worker._queue.empty(), "the worker to take one"
                )
        assert [a[2].status_code for a in answers] == [202, 202, 503]
        assert answers[2][2].headers["Retry-After"] == "60"
        release.set()
        assert worker.wait_idle(10)
        body, headers, _ = answers[2]
        retried = hub.client.post("/webhooks/hubspot", content=body, headers=headers)
        assert retried.status_code == 202, "a delivery that was not accepted is no replay"
        assert worker.wait_idle(10) and len(handled) == 3
    finally:
        release.set()
        hub.client.close()
        stop()
        store.close()
