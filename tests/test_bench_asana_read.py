"""Figure 5 (Asana): both sides' reads against a served sandbox read the same tasks."""

from __future__ import annotations

import pytest

from bench.asana_read import _hub_read, _sdk_read
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.kit.server import serve_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_hub_and_the_sdk_read_the_same_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BENCH_ASANA_TOKEN", "")
    running = serve_in_thread(AsanaSandbox(seed=7, records=40))
    try:
        sandbox = running.sandbox
        manifest = {"settings": sandbox.settings, "credentials": sandbox.credentials}
        hub, hub_first = _hub_read(running.url, manifest)
        sdk, sdk_first = _sdk_read(running.url, manifest)
    finally:
        running.stop()
    assert sorted(hub) == sorted(sdk) and len(set(hub)) == len(hub) > 10
    assert hub_first > 0 and sdk_first > 0
