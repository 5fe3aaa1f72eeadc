"""A failed ``hub run`` ends with one ``error:`` line and exit 1, never Prefect's traceback.

``hub run`` runs in a subprocess, as an admin starts it (its console script sets up
logging; Prefect's engine logs the exception that ended the flow run, with its
traceback, through ``prefect.flow_runs``), against sandboxes served on localhost.
Both runs share one Prefect home, so only the first creates Prefect's database.
They run with ``--flow``: without it the failure comes from ``hub run``'s check for
work, before Prefect starts (``tests/test_cli_quick_run.py``).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.logs import brief_flow_logs
from handoff_hub.hub.errors import AuthError
from handoff_hub.sandboxes.kit.server import (
    RunningSandbox,
    free_port,
    make_sandbox,
    serve_in_thread,
)

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "HUB_RUNERR"


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=4, records=6)),
        "jira": serve_in_thread(make_sandbox("jira", seed=4, records=3)),
    }
    yield running
    for item in running.values():
        item.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run-errors")


def _config(folder: Path, served: dict[str, RunningSandbox], name: str, **changes: str) -> Path:
    targets = {n: (run.url, run.sandbox) for n, run in served.items()}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), folder, targets, env_prefix=PREFIX
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system["max_retries"] = 0
    data["systems"]["crm"].update(changes)
    data["store"] = {"url": f"sqlite:///{folder / (name + '.db')}"}
    config = folder / f"{name}.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config


def _hub_run(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``hub run won-to-project`` as a console script, with its own Prefect home."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    clean.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(config.parent / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        **env,
    )
    code = "from hub.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "run", "won-to-project", "-c", str(config), "--flow"],
        cwd=config.parent,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_one_clean_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    assert 'File "' not in output, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], output
    assert "Encountered exception during execution" not in output, output


@pytest.mark.prefect
@pytest.mark.reliability  # a cold Prefect start (~25 s); make test checks the log filter
def test_a_rejected_credential_ends_with_one_error_line(
    folder: Path, served: dict[str, RunningSandbox]
) -> None:
    config = _config(folder, served, "wrong-secret")

    done = _hub_run(config, **{f"{PREFIX}_CRM_CLIENT_SECRET": "not-the-client-secret"})

    _assert_one_clean_error(done, "crm: token request refused")
    assert "not-the-client-secret" not in done.stdout + done.stderr


@pytest.mark.prefect
@pytest.mark.reliability  # the same path as a rejected credential
def test_an_unreachable_host_ends_with_one_error_line(
    folder: Path, served: dict[str, RunningSandbox]
) -> None:
    config = _config(folder, served, "unreachable", base_url=f"http://127.0.0.1:{free_port()}")

    done = _hub_run(config)

    _assert_one_clean_error(done, "could not connect")


class _Keep(logging.Handler):
    """Stands for Prefect's API log handler on ``prefect.flow_runs``."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _log_failures() -> None:
    try:
        raise AuthError("token request refused", system="crm")
    except AuthError:
        names = {"flow_run_name": "test-flow-run", "task_run_name": "test-task-run"}
        logging.getLogger("prefect.flow_runs").exception(
            "Encountered exception during execution", extra=names
        )
        logging.getLogger("prefect.task_runs").error(
            "Task run failed: retry 1/2", exc_info=True, extra=names
        )
        logging.getLogger("hub.handoffs.engine").error("a hub error", exc_info=True)


@pytest.mark.parametrize("debug", [False, True], ids=["default", "debug"])
def test_flow_logs_reach_the_terminal_without_tracebacks_unless_debug(
    monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    handler = logging.StreamHandler(sys.stderr)
    api = _Keep()
    root = logging.getLogger()
    # Prefect's own handlers on these loggers need a flow run to send records to.
    monkeypatch.setattr(logging.getLogger("prefect.flow_runs"), "handlers", [api])
    monkeypatch.setattr(logging.getLogger("prefect.task_runs"), "handlers", [])
    root.addHandler(handler)
    try:
        with brief_flow_logs(debug=debug):
            _log_failures()
            assert (handler in root.handlers) is debug
        assert handler in root.handlers
        during = terminal.getvalue()
        terminal.truncate(0)
        terminal.seek(0)
        _log_failures()
        after = terminal.getvalue()
    finally:
        root.removeHandler(handler)

    assert ("Encountered exception" in during) is debug
    assert "Task run failed: retry 1/2" in during and "a hub error" in during
    assert during.count("Traceback") == (3 if debug else 1)
    assert after.count("Traceback") == 3 and "Encountered exception" in after
    assert len(api.records) == 2 and all(r.exc_info for r in api.records)
