"""``hub deadletters`` and ``hub history`` against served sandboxes: output and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from handoff_hub.hub.cli import deadletters as cli_deadletters
from handoff_hub.hub.cli import history as cli_history
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@dataclass
class Hub:
    config: Path
    store: StateStore
    sf: Any
    served: dict[str, RunningSandbox]

    def invoke(self, *args: str) -> Any:
        result = runner.invoke(app, [*args, "-c", str(self.config)], env=WIDE)
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        for run in self.served.values():
            for secret in run.sandbox.credentials.values():
                if len(secret) >= 8:
                    assert secret not in result.output
        return result

    def broken_deal(self, name: str) -> str:
        """A won deal the mapping cannot read (Amount as text, set behind the API's back)."""
        deal: str = self.sf.state.add_opportunity(name, stage="Closed Won")
        self.fix(deal, Amount="n/a")
        return deal

    def fix(self, deal: str, **fields: Any) -> None:
        with self.sf.store.lock:
            self.sf.store.lookup(deal)[1].update(fields)

    def run_won_to_project(self) -> dict[str, int]:
        loaded = load_config(self.config, known_connectors=known_connectors())
        runtime = open_runtime(loaded)
        try:
            settings = loaded.config.handoffs.won_to_project
            assert settings is not None
            return run_handoff(WON, WonToProject(runtime, settings), runtime.store).counts
        finally:
            runtime.close()

    def letter(self, deal: str) -> int:
        [row] = [r for r in self.store.dead_letters(status=None) if r.record_id == deal]
        return row.id


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    # The shared console takes its width once, from COLUMNS at import (80 under xdist).
    wide = Console(width=250, highlight=False)
    monkeypatch.setattr(cli_deadletters, "console", wide)
    monkeypatch.setattr(cli_history, "console", wide)
    served = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=3, records=12)),
        "jira": serve_in_thread(make_sandbox("jira", seed=3, records=5)),
    }
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_CLIDL"
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield Hub(config, store, served["salesforce"].sandbox, served)
    store.close()
    for run in served.values():
        run.stop()


def test_list_show_replay_then_history(hub: Hub) -> None:
    bad = hub.broken_deal("Broken deal")
    assert hub.run_won_to_project()["failed"] == 1
    letter = hub.letter(bad)

    listed = hub.invoke("deadletters", "list")
    assert listed.exit_code == 0, listed.output
    assert bad in listed.output and "won-to-project" in listed.output
    assert "expected a number" in listed.output and "open" in listed.output
    [row] = json.loads(hub.invoke("deadletters", "list", "--json").stdout)
    assert (row["id"], row["record_id"], row["status"], row["attempts"]) == (letter, bad, "open", 1)

    shown = hub.invoke("deadletters", "show", str(letter))
    assert shown.exit_code == 0, shown.output
    assert '"Amount": "n/a"' in shown.output and bad in shown.output
    full = json.loads(hub.invoke("deadletters", "show", str(letter), "--json").stdout)
    assert full["payload"]["Amount"] == "n/a" and full["object"] == "Opportunity"

    hub.fix(bad, Amount=1500.0)
    replayed = hub.invoke("deadletters", "replay", str(letter))
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1" in replayed.output and "won-to-project: created 1" in replayed.output
    assert "still failing" not in replayed.output
    assert hub.invoke("deadletters", "list").output.strip() == "no open dead letters"
    done = json.loads(hub.invoke("deadletters", "list", "--status", "replayed", "--json").stdout)
    assert [d["record_id"] for d in done] == [bad]
    assert [lk.source_id for lk in hub.store.links(WON)].count(bad) == 1

    again = hub.invoke("deadletters", "replay", str(letter))
    assert again.exit_code == 2 and "none of these letters is open" in again.output
    nothing = hub.invoke("deadletters", "replay", "--all")
    assert nothing.exit_code == 0 and "nothing to replay" in nothing.output

    [replay_run] = hub.store.runs("replay")
    history = hub.invoke("history")
    assert history.exit_code == 0, history.output
    assert "Latest runs" in history.output and replay_run.id[:8] in history.output
    assert "create_project" in history.output and "write_back" in history.output

    one_run = hub.invoke("history", "--run", replay_run.id[:8])
    assert one_run.exit_code == 0, one_run.output
    assert f"Run {replay_run.id}" in one_run.output and "succeeded" in one_run.output
    assert "replayed 1" in one_run.output and "create_project" in one_run.output
    as_json = json.loads(hub.invoke("history", "--run", replay_run.id, "--json").stdout)
    assert as_json["run"]["handoff"] == "replay"
    assert {e["run_id"] for e in as_json["events"]} == {replay_run.id}
    assert "runs" not in as_json

    record = json.loads(hub.invoke("history", "--record", f"crm:{bad}", "--json").stdout)
    actions = {e["action"] for e in record["events"]}
    assert {"create_project", "write_back"} <= actions, actions
    assert {e["source_ref"] for e in record["events"]} == {f"crm:{bad}"}
    by_id = json.loads(hub.invoke("history", "--record", bad, "--json").stdout)
    assert [e["action"] for e in by_id["events"]] == ["write_back"]

    unknown = hub.invoke("history", "--run", "no-such-run")
    assert unknown.exit_code == 2 and "no run 'no-such-run'" in unknown.output


def test_a_letter_still_failing_exits_1_and_stays_open(hub: Hub) -> None:
    bad = hub.broken_deal("Still broken")
    hub.run_won_to_project()

    result = hub.invoke("deadletters", "replay", "--handoff", WON)

    assert result.exit_code == 1, result.output
    assert "still failing (left open) 1" in result.output
    assert "expected a number" in result.output
    [row] = json.loads(hub.invoke("deadletters", "list", "--json").stdout)
    assert row["record_id"] == bad and row["attempts"] == 2 and row["status"] == "open"


def test_discard_keeps_the_reason_and_bad_input_exits_2(hub: Hub) -> None:
    first, second = hub.broken_deal("Test deal one"), hub.broken_deal("Test deal two")
    hub.run_won_to_project()
    one, two = hub.letter(first), hub.letter(second)

    missing = hub.invoke("deadletters", "discard", str(one), "999")
    assert missing.exit_code == 2, missing.output
    unknown = hub.invoke("deadletters", "discard", str(one), "999", "--reason", "x")
    assert unknown.exit_code == 2 and "no dead letter 999" in unknown.output
    assert len(hub.store.dead_letters()) == 2, "nothing is discarded when an id is unknown"

    done = hub.invoke(
        "deadletters", "discard", str(one), "--reason", "test data, password=hunter2222"
    )
    assert done.exit_code == 0 and "discarded 1" in done.output, done.output
    [gone] = json.loads(hub.invoke("deadletters", "list", "--status", "discarded", "--json").stdout)
    assert gone["id"] == one and gone["reason"].endswith("| discarded: test data, password=***")
    assert "hunter2222" not in hub.invoke("deadletters", "show", str(one)).output
    every = json.loads(hub.invoke("deadletters", "list", "--status", "all", "--json").stdout)
    assert {(d["id"], d["status"]) for d in every} == {(one, "discarded"), (two, "open")}
    twice = hub.invoke("deadletters", "discard", str(one), "--reason", "again")
    assert twice.exit_code == 2 and "is discarded, not open" in twice.output
    replay_discarded = hub.invoke("deadletters", "replay", str(one))
    assert replay_discarded.exit_code == 2, replay_discarded.output

    for args, message in [
        (("deadletters", "list", "--status", "closed"), "'closed' is not one of 'open'"),
        (("deadletters", "list", "--handoff", "lost-to-nowhere"), "'lost-to-nowhere' is not one"),
        (("deadletters", "show", "999"), "no dead letter 999"),
        (("deadletters", "replay", "999"), "no dead letter 999"),
        (("deadletters", "replay"), "or use --all"),
        (("deadletters", "replay", str(two), "--all"), "not both"),
    ]:
        result = hub.invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_a_letter_of_a_handoff_that_cannot_replay_is_a_message(hub: Hub) -> None:
    hub.store.dead_letter(
        None,
        handoff="sync",
        system="crm",
        object_name="Opportunity",
        record_id="006000000000001AAA",
        reason="conflict",
        payload={"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz"},
    )
    [letter] = hub.store.dead_letters()

    result = hub.invoke("deadletters", "replay", str(letter.id))

    assert result.exit_code == 2, result.output
    assert "'sync', which cannot be replayed" in result.output
    assert hub.store.runs("replay") == []
    shown = hub.invoke("deadletters", "show", str(letter.id))
    assert "abcdefghijklmnopqrstuvwxyz" not in shown.output and "***" in shown.output


def test_history_of_an_empty_store_and_a_broken_config(hub: Hub, tmp_path: Path) -> None:
    empty = hub.invoke("history")
    assert empty.exit_code == 0 and "nothing written" in empty.output
    assert hub.invoke("deadletters", "list").output.strip() == "no open dead letters"
    missing = runner.invoke(app, ["history", "-c", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "nope.yaml" in missing.output
    assert "Traceback" not in missing.output


def test_only_replay_needs_the_credentials(hub: Hub) -> None:
    bad = hub.broken_deal("Broken deal")
    hub.run_won_to_project()
    letter = str(hub.letter(bad))
    unset = {**WIDE, "HUB_CLIDL_CRM_CLIENT_SECRET": None}

    def invoke(*args: str) -> Any:
        return runner.invoke(app, [*args, "-c", str(hub.config)], env=unset)

    assert invoke("deadletters", "list").exit_code == 0
    assert invoke("deadletters", "show", letter).exit_code == 0
    assert invoke("history").exit_code == 0
    replay = invoke("deadletters", "replay", letter)
    assert replay.exit_code == 2, replay.output
    assert "HUB_CLIDL_CRM_CLIENT_SECRET" in replay.output and "Traceback" not in replay.output
    assert [r.status for r in hub.store.dead_letters(status=None)] == ["open"]
