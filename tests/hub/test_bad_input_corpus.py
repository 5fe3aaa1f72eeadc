"""Every broken file in tests/data/bad-configs, through ``hub validate``: one clear message.

Each corpus file says on its first line what ``hub validate`` must report::

    # expect: line 12, field systems.crm.connectr, message "unknown field", hint "..."

``hint`` is optional; ``file`` names the file the problem is reported in when it
is not the corpus file itself (a mapping that extends a broken one), relative
to the corpus file; ``absent`` is text that must not appear in the output (a
secret pasted into the YAML). Anything after `` -- `` is a description.

Files named ``mapping-*`` are mapping files: the test points a one-system hub
config at each. Environment variables named ``HUB_BADCFG_UNSET_*`` are unset
and ``HUB_BADCFG_SET_*`` set before each run. The folders group the corpus by
kind; the files at the top are the original corpus, also checked file by file
in ``test_config_bad_files.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.main import app

BAD = Path(__file__).resolve().parents[1] / "data" / "bad-configs"
CORPUS = sorted(BAD.rglob("*.yaml"))
KINDS = {
    "syntax",
    "unknown-keys",
    "typos",
    "wrong-types",
    "credentials",
    "connectors",
    "references",
    "templates",
    "schedules",
    "paths",
    "duplicates",
}
# What a pydantic error dumped as it is looks like; an admin must never see one.
PYDANTIC_DUMP = ("validation error for", "errors.pydantic.dev", "input_value=", "input_type=")

_FIRST_LINE = re.compile(r"# expect: (?P<pairs>.+?)(?: -- .+)?")
_PAIR = re.compile(r'(line|field|message|hint|file|absent) ("[^"]*"|[^,"\s]+)(?:, |$)')

runner = CliRunner()


@dataclass(frozen=True)
class Expectation:
    """What ``hub validate`` must say about one corpus file."""

    file: Path
    line: int
    field: str
    message: str
    hint: str | None = None
    absent: str | None = None


def expectation(path: Path) -> Expectation:
    """The ``# expect:`` line of a corpus file, parsed strictly (a typo in it fails)."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = _FIRST_LINE.fullmatch(first)
    assert match is not None, f"{path.name}: the first line must be '# expect: ...'"
    text, pos, found = match.group("pairs"), 0, {}
    while pos < len(text):
        pair = _PAIR.match(text, pos)
        assert pair is not None, f"{path.name}: cannot read {text[pos:]!r}"
        key, value = pair.group(1), pair.group(2)
        assert key not in found, f"{path.name}: {key} given twice"
        found[key] = value[1:-1] if value.startswith('"') else value
        pos = pair.end()
    missing = {"line", "field", "message"} - set(found)
    assert not missing, f"{path.name}: no {', '.join(sorted(missing))}"
    return Expectation(
        file=(path.parent / found["file"]).resolve() if "file" in found else path,
        line=int(found["line"]),
        field=found["field"],
        message=found["message"],
        hint=found.get("hint"),
        absent=found.get("absent"),
    )


def hub_config_for(mapping: Path, folder: Path) -> Path:
    """A one-system hub config using ``mapping``, with the connector its ``system:`` names."""
    named = re.search(r"^system:\s*([a-z_]+)", mapping.read_text(encoding="utf-8"), re.M)
    connector = named.group(1) if named else "salesforce"
    config = folder / "hub.yaml"
    settings = REQUIRED_SETTINGS.get(connector)
    config.write_text(
        f"version: 1\nsystems:\n  {connector}:\n    connector: {connector}\n"
        f"    base_url: https://{connector}.example.com\n    mapping: {json.dumps(str(mapping))}\n"
        + (f"    settings: {json.dumps(settings)}\n" if settings else ""),
        encoding="utf-8",
    )
    return config


REQUIRED_SETTINGS = {"jira": {"project_key": "DEL"}}
"""The settings a connector cannot do without, so that the mapping's problem is the only one."""


def _set_environment(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    for name in set(re.findall(r"HUB_BADCFG_UNSET_\w+", text)):
        monkeypatch.delenv(name, raising=False)
    for name in set(re.findall(r"HUB_BADCFG_SET_\w+", text)):
        monkeypatch.setenv(name, "set-by-the-test")


def test_the_corpus_covers_every_kind_of_bad_input() -> None:
    folders = {p.parent.name for p in CORPUS if p.parent != BAD}
    assert folders == KINDS
    assert len(CORPUS) >= 60
    assert any(p.name.startswith("mapping-") for p in BAD.rglob("references/*.yaml"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(BAD).as_posix())
def test_validate_reports_the_one_problem_of_a_bad_file(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expect = expectation(path)
    _set_environment(path, monkeypatch)
    config = hub_config_for(path, tmp_path) if path.name.startswith("mapping-") else path

    result = runner.invoke(app, ["validate", "--strict", "-c", str(config)])

    output = result.output
    assert result.exit_code == 2, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert not [marker for marker in PYDANTIC_DUMP if marker in output], output
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), f"a line is repeated:\n{output}"
    assert lines[0] == "1 problem(s) found:", output
    (issue,) = lines[1:]
    where = f"{expect.file}:{expect.line}: {expect.field}: "
    assert issue.startswith(where), f"expected {where!r}...\ngot {issue!r}"
    assert expect.message in issue[len(where) :], issue
    if expect.hint is not None:
        assert issue.endswith(f"({expect.hint})"), issue
    if expect.absent is not None:
        assert expect.absent not in output


def test_expectations_are_read_strictly(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text('# expect: line 3, field a.b, message "x, y" -- about\nversion: 1\n')
    assert expectation(good) == Expectation(good, 3, "a.b", "x, y")
    for first in ("# A description only", '# expect: line 3, field a.b, mesage "x"'):
        bad = tmp_path / "bad.yaml"
        bad.write_text(first + "\n")
        with pytest.raises(AssertionError):
            expectation(bad)
