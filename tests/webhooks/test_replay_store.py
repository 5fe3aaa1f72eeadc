"""``hub serve`` remembers accepted deliveries in the state store: restarts and peers share it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from serve_support import jira_config, jira_delivery, post, serving
from sqlalchemy import text

from handoff_hub.hub.store import StateStore


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def stores(url: str) -> Iterator[list[StateStore]]:
    """Two opens of one store, as two processes (or one before and after a restart) have."""
    opened = [StateStore(url), StateStore(url)]
    yield opened
    for store in opened:
        store.close()


def test_a_delivery_accepted_before_a_restart_is_refused_after_it(
    stores: list[StateStore],
) -> None:
    body, headers = jira_delivery("DEL-20")
    with serving(jira_config(), stores[0]) as before:
        assert post(before.port, "/webhooks/jira", body, headers)[0] == 202
        assert before.worker.wait_idle(30)
    with serving(jira_config(), stores[1]) as after:
        status, answer = post(after.port, "/webhooks/jira", body, headers)
        assert status == 401 and "replay" in answer["error"], answer
        other_body, other_headers = jira_delivery("DEL-21")
        assert post(after.port, "/webhooks/jira", other_body, other_headers)[0] == 202
        assert after.worker.wait_idle(30)
        assert [c.record_id for c in after.handled.changes] == ["DEL-21"]


def test_two_servers_on_one_store_accept_each_delivery_once(
    stores: list[StateStore], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    deliveries = [jira_delivery(f"DEL-{n}") for n in range(30, 40)]
    with serving(jira_config(), stores[0]) as one, serving(jira_config(), stores[1]) as two:
        sends = [(server, d) for d in deliveries for server in (one, two)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda s: post(s[0].port, "/webhooks/jira", *s[1])[0], sends))
        assert one.worker.wait_idle(30) and two.worker.wait_idle(30)
        handled = one.handled.changes + two.handled.changes
    assert sorted(statuses) == [202] * len(deliveries) + [401] * len(deliveries)
    assert sorted(c.record_id for c in handled) == sorted(f"DEL-{n}" for n in range(30, 40))
    refused = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert {r.name for r in refused} == {"hub.webhooks"}, "no database driver's noise"
    assert len(refused) == len(deliveries)


def test_a_store_that_does_not_answer_gets_503_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    body, headers = jira_delivery("DEL-22")
    try:
        with serving(jira_config(), store) as served:
            with store.engine.begin() as connection:
                connection.execute(text("DROP TABLE seen_deliveries"))
            status, answer = post(served.port, "/webhooks/jira", body, headers)
            assert status == 503 and "deliver again later" in answer["error"], answer
            assert served.handled.changes == []
    finally:
        store.close()
    records = [r for r in caplog.records if r.name.startswith(("hub.webhooks", "uvicorn"))]
    assert [r for r in records if r.exc_info] == []
    [line] = [r.getMessage() for r in records if "state store" in r.getMessage()]
    assert line == (
        "webhook: jira delivery from 127.0.0.1 not accepted: "
        "the state store did not answer (OperationalError)"
    )
