"""``hub --version``, shell completion, and options that list their choices."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import handoff_hub
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.handoffs.catalogue import HANDOFFS
from handoff_hub.hub.reports import FORMATS, KPI_FORMATS

runner = CliRunner()
WIDE = {"COLUMNS": "250", "TERM": "dumb"}


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)


def _complete(words: str) -> list[str]:
    env = {"_HUB_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "2"}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    result = runner.invoke(app, [], env=env, prog_name="hub")
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_version_is_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"hub {handoff_hub.__version__}\n"


def test_shell_completion_is_offered_and_completes_choices() -> None:
    assert "--install-completion" in _help() and "--show-completion" in _help()
    script = runner.invoke(app, ["--show-completion", "bash"], prog_name="hub")
    assert script.exit_code == 0 and "_HUB_COMPLETE=complete_bash" in script.output
    assert _complete("hub run ") == list(HANDOFFS)
    assert _complete("hub kpis -f ") == list(KPI_FORMATS)


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        (("run",), HANDOFFS),
        (("reconcile",), FORMATS),
        (("kpis",), KPI_FORMATS),
        (("demo",), ("salesforce", "hubspot")),
        (("demo",), ("jira", "asana")),
        (("sandbox", "serve"), ("asana", "hubspot", "jira", "salesforce")),
        (("deadletters", "list"), ("open", "replayed", "discarded", "all")),
        (("deadletters", "list"), HANDOFFS),
        (("history",), HANDOFFS),
    ],
)
def test_help_lists_the_choices(command: tuple[str, ...], choices: tuple[str, ...]) -> None:
    assert f"<{'|'.join(choices)}>" in _help(*command)


def test_a_value_outside_the_choices_is_refused_with_them() -> None:
    result = runner.invoke(app, ["run", "lost-to-nowhere", "-c", "hub.yaml"], env=WIDE)
    assert result.exit_code == 2
    assert "'lost-to-nowhere' is not one of 'won-to-project'" in result.output


def test_help_piped_to_a_file_is_not_wrapped_at_80_columns() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "TERMINAL_WIDTH"}}
    code = "from handoff_hub.hub.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "reconcile", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) > 100, done.stdout
