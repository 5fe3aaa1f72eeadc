"""``hub run`` with nothing to do records the run without importing Prefect.

The runs with work here use ``--local`` (no Prefect either); that a run with
work goes through the flow is checked with the Prefect harness in
``tests/flows/test_run_json.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

PREFIX = "HUB_QUICKRUN"
_MAIN = """
import atexit, sys
def _modules():
    found = sorted(m for m in sys.modules if m.split(".")[0] in ("prefect", "alembic"))
    packages = [m.split(".") for m in sys.modules if m.startswith("handoff_hub.connectors.")]
    found += sorted({parts[2] for parts in packages})
    print("MODULES " + " ".join(found), file=sys.stderr)
atexit.register(_modules)
sys.argv = ["hub", *sys.argv[1:]]
from handoff_hub.hub.cli.main import main
main()
"""


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=5, records=6)),
        "jira": serve_in_thread(make_sandbox("jira", seed=5, records=3)),
    }
    yield running
    for item in running.values():
        item.stop()


def _config(folder: Path, served: dict[str, RunningSandbox]) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    return write_sandbox_config(
        example_for("salesforce", "jira"), folder, targets, env_prefix=PREFIX
    )


def _hub(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(config.parent / "prefect")
    return subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _modules(done: subprocess.CompletedProcess[str]) -> list[str]:
    [line] = [x for x in done.stderr.splitlines() if x.startswith("MODULES")]
    return line.split()[1:]


def test_a_run_with_nothing_to_do_is_recorded_without_prefect(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    config = _config(tmp_path, served)
    runner = CliRunner()
    for _ in range(2):  # the won deals, then the ids written back onto them
        work = runner.invoke(app, ["run", "won-to-project", "-c", str(config), "--local"])
        assert work.exit_code == 0, work.output

    done = _hub(config, "run", "won-to-project", "-c", str(config), "--json")

    assert done.returncode == 0, done.stderr
    # Neither Prefect nor, the store being current, Alembic; no connector the config does not name.
    assert _modules(done) == ["jira", "salesforce"]
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["counts"] == {}
    history = runner.invoke(
        app, ["history", "-c", str(config), "--run", result["run_id"], "--json"]
    )
    assert history.exit_code == 0, history.output
    run = json.loads(history.stdout)["run"]
    assert run["status"] == "succeeded" and run["flow_run_id"] is None
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert len(store.runs("won-to-project")) == 3
        assert store.audit_events(run_id=result["run_id"]) == []  # it wrote nothing
    finally:
        store.close()


def test_a_refused_credential_ends_with_one_error_line(
    tmp_path: Path, served: dict[str, RunningSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, served)
    monkeypatch.setenv(f"{PREFIX}_CRM_CLIENT_SECRET", "not-the-client-secret")

    result = CliRunner().invoke(app, ["run", "won-to-project", "-c", str(config)])

    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "token request refused" in errors[0], result.output
    assert "Traceback" not in result.output and "not-the-client-secret" not in result.output


def test_local_and_flow_exclude_each_other(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "won-to-project", "-c", str(tmp_path / "hub.yaml"), "--local", "--flow"]
    )
    assert result.exit_code == 2
    assert "--local and --flow exclude each other" in result.output
