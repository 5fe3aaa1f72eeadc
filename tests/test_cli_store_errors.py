"""A store the hub cannot use ends every command with one line naming it, never a traceback.

The line names the store URL with its password masked and says what to do; a URL
the hub cannot use at all is a config problem (exit 2), a store that fails is an
error (exit 1), as the README's exit codes say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import make_sandbox

runner = CliRunner()
PASSWORD = "pw-never-shown"
COMMANDS = [
    ["history"],
    ["deadletters", "list"],
    ["db", "current"],
    ["db", "upgrade"],
    ["plan"],
    ["reconcile"],
    ["account", "Acme"],
]


@dataclass(frozen=True)
class Case:
    """A store URL (made in a folder), the exit code and the words the error must hold."""

    url: Callable[[Path, pytest.FixtureRequest], str]
    code: int
    shown: str
    says: tuple[str, ...]


def _empty_read_only(folder: Path, _request: pytest.FixtureRequest) -> str:
    path = folder / "read-only.db"
    path.touch()
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def _not_a_database(folder: Path, _request: pytest.FixtureRequest) -> str:
    path = folder / "notes.db"
    path.write_text("these are notes, not a database\n" * 50, encoding="utf-8")
    return f"sqlite:///{path}"


def _unknown_role(_folder: Path, request: pytest.FixtureRequest) -> str:
    """The test server's URL with a role it does not have (skipped where no server answers)."""
    server = make_url(request.getfixturevalue("postgres_url"))
    return server.set(username="nobody_here", password=PASSWORD).render_as_string(False)


CASES = {
    "read-only-sqlite": Case(
        _empty_read_only, 1, "state store sqlite:///file:", ("readonly", "writable")
    ),
    "not-a-database": Case(
        _not_a_database,
        1,
        "state store sqlite:///",
        ("file is not a database", "point store.url at"),
    ),
    "postgres-unknown-role": Case(
        _unknown_role,
        1,
        "state store postgresql+psycopg://nobody_here:***@",
        ('role "nobody_here" does not exist', "check the user and password"),
    ),
}


def _config(folder: Path, store_url: str) -> Path:
    sandboxes = {"salesforce": make_sandbox("salesforce"), "jira": make_sandbox("jira")}
    targets = {name: ("http://127.0.0.1:9", box) for name, box in sandboxes.items()}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), folder, targets, env_prefix="HUB_STOREERR"
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["store"] = {"url": store_url}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _assert_one_line(result: object, code: int, *words: str) -> None:
    output: str = result.output  # type: ignore[attr-defined]
    assert result.exit_code == code, output  # type: ignore[attr-defined]
    assert "Traceback" not in output and "sqlalche.me" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output  # type: ignore[attr-defined]
    [line] = [line for line in output.splitlines() if line.strip()]
    assert line.startswith("error: "), output
    for word in words:
        assert word in line, output
    assert PASSWORD not in output


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_store_command_names_a_store_it_cannot_use(
    case: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    chosen = CASES[case]
    config = _config(tmp_path, chosen.url(tmp_path, request))
    for command in COMMANDS:
        result = runner.invoke(app, [*command, "-c", str(config)])
        _assert_one_line(result, chosen.code, chosen.shown, *chosen.says)


def test_a_store_that_fails_while_in_use_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = StateStore(f"sqlite:///{path}")
    store.dead_letter(
        None,
        handoff="won-to-project",
        system="crm",
        object_name="Opportunity",
        record_id="006A",
        reason="bad amount",
        payload={},
    )
    [letter] = store.dead_letters()
    store.close()
    config = _config(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true")

    listed = runner.invoke(app, ["deadletters", "list", "-c", str(config)])
    assert listed.exit_code == 0 and "006A" in listed.output, listed.output
    discard = ["deadletters", "discard", str(letter.id), "--reason", "test", "-c", str(config)]
    _assert_one_line(
        runner.invoke(app, discard), 1, f"state store sqlite:///file:{path}", "readonly"
    )


def test_a_store_url_the_hub_cannot_use_is_a_config_problem_with_its_line(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, f"mongodb://hub:{PASSWORD}@127.0.0.1:27017/hub")
    for command in COMMANDS:
        result = runner.invoke(app, [*command, "-c", str(config)])
        output = result.output
        assert result.exit_code == 2, output
        assert "Traceback" not in output and PASSWORD not in output, output
        assert "store.url" in output and "supported: sqlite, postgresql" in output, output
