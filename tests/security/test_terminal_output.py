"""Record values cannot act on the admin's terminal: every command shows them, escaped.

Anyone who can name a CRM account or deal (or write a risk, a feedback item, a
product's error message) decides text the hub prints. A name holding a
clear-screen sequence, an OSC-8 hyperlink, C1 controls, NUL or bidi overrides
must reach the terminal with every such character written as a visible escape
(``\\x1b``, ``\\u202e``), in tables, plain lines, JSON and reports printed to
stdout alike; Rich markup in a value stays literal text.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from handoff_hub.hub.cli import console as hub_console
from handoff_hub.hub.cli.console import TerminalConsole, VisibleFormatter
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.store import AuditEvent, StateStore
from handoff_hub.sandboxes.kit.server import make_sandbox, serve_in_thread

EVIL = (
    "Evil\x1b[2J\x1b[31m\x1b]8;;http://e.example\x1b\\click\x1b]8;;\x1b\\\x07\x08\x00\x9b6n\x85"
    " \u202eroF\u202c \u2066i\u2069\u200f [link=http://e.example]m[/link]"
)
SHOWN = "\\x1b[2J"
MARKUP = "[link=http://e.example]m[/link]"
# Every character that acts on a terminal or reorders text, but the line feed.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What Rich itself writes on a real terminal: colours and styles (SGR) only.
SGR = re.compile(r"\x1b\[[0-9;]*m")

runner = CliRunner()


def raw_characters(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in RAW.findall(text)})


# the console -----------------------------------------------------------------------------


def _hostile_renderables() -> list[Any]:
    table = Table(title="deals " + EVIL)
    table.add_column("as str")
    table.add_column("as Text " + EVIL)
    table.add_row(EVIL, Text(EVIL, style="bold"))
    styled = Text("ok ", style="green")
    styled.append(EVIL, style="red")
    return [table, Text(EVIL), styled, Panel(Text(EVIL))]


def test_the_console_shows_control_and_bidi_characters_as_escapes() -> None:
    out = io.StringIO()
    shown = TerminalConsole(file=out, width=400, highlight=False)
    for renderable in _hostile_renderables():
        shown.print(renderable)
    shown.print(EVIL, markup=False)

    text = out.getvalue()
    assert raw_characters(text) == []
    assert text.count(SHOWN) == 8 and text.count("\\u202e") == 8 and "\\x00" in text
    assert text.count(MARKUP) == 8  # markup in table cells and titles stays literal


def test_on_a_real_terminal_only_rich_styles_are_written() -> None:
    out = io.StringIO()
    shown = TerminalConsole(file=out, width=400, force_terminal=True, color_system="truecolor")
    for renderable in _hostile_renderables():
        shown.print(renderable)

    text = SGR.sub("", out.getvalue())
    assert raw_characters(text) == [] and "\x1b]8;" not in out.getvalue()
    assert SHOWN in text


def test_table_cells_keep_their_place_and_style() -> None:
    out = io.StringIO()
    shown = TerminalConsole(file=out, width=200, highlight=False)
    table = Table()
    table.add_column("name")
    table.add_column("next")
    table.add_row(Text("a\x1b[2Jb"), "c")
    shown.print(table)

    lines = out.getvalue().splitlines()
    assert "a\\x1b[2Jb" in lines[3] and len({len(line) for line in lines}) == 1


def test_log_lines_show_escapes() -> None:
    record = logging.LogRecord(
        "hub.handoffs.engine", logging.WARNING, __file__, 1, "deal %s", (EVIL,), None
    )
    line = VisibleFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert raw_characters(line) == [] and SHOWN in line


# through every command ---------------------------------------------------------------------


@dataclass
class World:
    config: Path
    account: str
    letter: int
    run: str


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(hub_console.console, "_width", 400)
    salesforce = make_sandbox("salesforce", seed=3, records=8)
    account = salesforce.state.add_record("Account", Name="Account " + EVIL)  # type: ignore[attr-defined]
    salesforce.state.add_opportunity("Deal " + EVIL, stage="Closed Won", AccountId=account)  # type: ignore[attr-defined]
    served = {
        "salesforce": serve_in_thread(salesforce),
        "jira": serve_in_thread(make_sandbox("jira", seed=3, records=3)),
    }
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_TERMINAL"
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield World(config, account, *_plant_history(store))
    store.close()
    for run in served.values():
        run.stop()


def _plant_history(store: StateStore) -> tuple[int, str]:
    """A failed run, an audit event and a dead letter, each holding the hostile text."""
    run = store.start_run("won-to-project")
    event = AuditEvent(
        "won-to-project", "create_project", "pm", "Epic", "DEL-1", "failed", detail=EVIL
    )
    store.audit(run, [event])
    store.dead_letter(
        run,
        handoff="won-to-project",
        system="crm",
        object_name="Opportunity",
        record_id="006Hb0000000001AAA",
        reason="cannot read " + EVIL,
        payload={"Name": EVIL},
    )
    store.finish_run(run, status="failed", counts={"failed": 1}, error=EVIL)
    [letter] = store.dead_letters()
    return letter.id, run


def _invoke(world: World, *args: str) -> str:
    result = runner.invoke(app, [*args, "-c", str(world.config)])
    assert result.exit_code == 0, result.output
    return result.stdout


TABLES = [
    ("plan",),
    ("reconcile",),
    ("account", "{account}"),
    ("history",),
    ("history", "--run", "{run}"),
    ("deadletters", "list"),
    ("deadletters", "show", "{letter}"),
]
JSON = [
    ("reconcile", "--format", "json"),
    ("account", "{account}", "--json"),
    ("history", "--run", "{run}", "--json"),
    ("deadletters", "list", "--json"),
    ("deadletters", "show", "{letter}", "--json"),
]


def _args(world: World, command: tuple[str, ...]) -> list[str]:
    return [a.format(account=world.account, run=world.run, letter=world.letter) for a in command]


def test_every_command_prints_hostile_names_as_visible_escapes(world: World) -> None:
    for command in TABLES:
        output = _invoke(world, *_args(world, command))
        assert raw_characters(output) == [], (command, output)
        assert SHOWN in output, (command, output)
    plan = _invoke(world, "plan")
    assert MARKUP in plan  # a value's markup is text, not a link


def test_json_output_escapes_them_and_reads_back_the_same(world: World) -> None:
    for command in JSON:
        output = _invoke(world, *_args(world, command))
        assert raw_characters(output) == [], (command, output)
        assert any(EVIL in text for text in _strings(json.loads(output))), command


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_reports_on_stdout_show_escapes(world: World) -> None:
    markdown = _invoke(world, "reconcile", "--format", "md")
    table = _invoke(world, "reconcile", "--format", "csv")
    for output in (markdown, table):
        assert raw_characters(output.replace("\r\n", "\n")) == [], output
        assert "x1b" in output and "u202e" in output
    names = [row[1] for row in csv.reader(io.StringIO(table, newline=""))]
    assert any(name.startswith("Deal Evil\\x1b[2J") for name in names), names


def test_output_that_is_no_terminal_is_not_wrapped_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cron mail and CI logs get tables at full width, not one-letter columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = TerminalConsole(file=io.StringIO())
    assert piped.width == 200
    monkeypatch.setenv("COLUMNS", "90")
    assert TerminalConsole(file=io.StringIO()).width == 90
    assert TerminalConsole(file=io.StringIO(), width=60).width == 60
