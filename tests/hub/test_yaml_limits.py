"""Size limits of YAML loading: alias bombs, huge files, deep nesting; anchors still work."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.config.yamlio import MAX_FILE_BYTES, MAX_NODES, load_yaml, parse_yaml
from handoff_hub.hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ("salesforce", "jira")


def _alias_bomb() -> str:
    """The classic "billion laughs": ten levels of nine aliases each, under 1 KB."""
    lines = ["version: 1", "a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines.append("systems: {crm: *a9}")
    return "\n".join(lines) + "\n"


def _limit_memory() -> None:
    # 1 GiB of address space and a minute of CPU: a loader that expands the bomb
    # dies of MemoryError long before; the hub itself needs about a tenth of it.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def _validate_with_limits(config: Path) -> tuple[int, str]:
    """``hub validate -c config`` in a process with bounded memory and CPU."""
    done = subprocess.run(
        [sys.executable, "-m", "handoff_hub.hub.cli.main", "validate", "-c", str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_an_alias_bomb_is_refused_by_validate_without_growing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb(), encoding="utf-8")
    assert bomb.stat().st_size < 1024

    code, output = _validate_with_limits(bomb)

    assert code == 2, output
    assert "Traceback" not in output
    assert f"{bomb}:6: a4[0]: aliases (*name) and merge keys (<<) expand to more than" in output
    assert "alias bomb" in output


def test_a_merge_key_bomb_is_refused() -> None:
    lines = ["m0: &m0 {x: 1, y: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}" for i in range(1, 12)]
    with pytest.raises(ConfigError) as caught:
        parse_yaml("\n".join(lines) + "\n", file="merge.yaml")
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field) == ("merge.yaml", 5, "m4")
    assert "expand to more than" in issue.message


def test_a_file_over_the_size_cap_is_refused_at_the_line_it_crosses(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    padding = "# " + "x" * 97 + "\n"  # 100 bytes a line
    big.write_text("version: 1\n" + padding * (MAX_FILE_BYTES // 100 + 10), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_yaml(big)

    (issue,) = caught.value.issues
    assert (issue.file, issue.field) == (str(big), "(file)")
    assert issue.line == 1 + MAX_FILE_BYTES // 100 + 1
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in issue.message
    assert str(issue).startswith(f"{big}:{issue.line}: (file): ")


def test_a_stream_without_end_is_read_only_up_to_the_cap() -> None:
    code, output = _validate_with_limits(Path("/dev/zero"))
    assert code == 2, output
    assert "Traceback" not in output
    assert f"/dev/zero:1: (file): the file is larger than {MAX_FILE_BYTES:,} bytes" in output


def test_too_many_values_are_refused() -> None:
    text = "tasks: [" + "1, " * (MAX_NODES + 1) + "]\n"
    assert len(text) < MAX_FILE_BYTES
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, file="many.yaml")
    (issue,) = caught.value.issues
    assert (issue.line, issue.field) == (1, f"tasks[{MAX_NODES - 2}]")
    assert f"more than {MAX_NODES:,} values" in issue.message


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 999 + "]" * 999 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(999)) + "  " * 999 + "x\n",
        "m0: &m0 {x: 1}\n"
        + "".join(f"m{i}: &m{i} {{<<: *m{i - 1}, y{i}: 1}}\n" for i in range(1, 1200)),
    ],
    ids=["flow", "block", "merge-chain"],
)
def test_deep_nesting_is_an_issue_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, file="deep.yaml")
    (issue,) = caught.value.issues
    assert issue.line is not None
    assert "nested deeper than 100 levels" in issue.message


ANCHORED = """\
version: 1
systems:
  crm:
    connector: salesforce
    base_url: https://acme.my.salesforce.com
    mapping: ../mappings/salesforce.yaml
    credentials: {client_id: {env: SF_CLIENT_ID}, client_secret: {env: SF_CLIENT_SECRET}}
    settings: {api_version: "61.0", auth_flow: client_credentials}
  pm:
    connector: jira
    base_url: https://acme.atlassian.net
    mapping: ../mappings/jira.yaml
    credentials: {email: {env: JIRA_EMAIL}, api_token: {env: JIRA_API_TOKEN}}
    settings: {project_key: DEL, mode: epic}
templates:
  standard:
    name: "{{ opportunity.name }}"
    tasks:
      - &kickoff {name: Kick-off, description: Meet the customer, due_offset_days: 5}
      - {name: Build, due_offset_days: 30}
  short:
    name: "Short: {{ opportunity.name }}"
    tasks:
      - *kickoff
      - <<: *kickoff
        name: Wrap-up
        due_offset_days: 10
handoffs:
  won_to_project: &won
    <<: &pair {crm: crm, pm: pm}
    template: standard
    schedule: &often "*/15 * * * *"
    notify: &quiet {urls: []}
  risk_to_account_manager:
    <<: *pair
    schedule: *often
    notify: *quiet
  feedback_to_lead:
    <<: *pair
"""


def test_anchors_aliases_and_merge_keys_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.setenv(name, "set")
    (tmp_path / "mappings").symlink_to(ROOT / "mappings")
    (tmp_path / "examples").mkdir()
    path = tmp_path / "examples" / "hub.yaml"
    path.write_text(ANCHORED, encoding="utf-8")

    config = load_config(path, known_connectors=CONNECTORS).config

    short = config.templates["short"].tasks
    assert [t.name for t in short] == ["Kick-off", "Wrap-up"]
    assert short[1].description == "Meet the customer" and short[1].due_offset_days == 10
    risk = config.handoffs.risk_to_account_manager
    assert risk is not None and risk.schedule == "*/15 * * * *"
    feedback = config.handoffs.feedback_to_lead
    assert feedback is not None and (feedback.crm, feedback.pm) == ("crm", "pm")


def test_a_merged_key_the_target_does_not_allow_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.setenv(name, "set")
    (tmp_path / "mappings").symlink_to(ROOT / "mappings")
    (tmp_path / "examples").mkdir()
    path = tmp_path / "examples" / "hub.yaml"
    path.write_text(ANCHORED.replace("<<: *pair\n", "<<: *won\n"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(path, known_connectors=CONNECTORS)

    where = [(i.line, i.field, i.message) for i in caught.value.issues]
    assert where == [
        (34, "handoffs.risk_to_account_manager.template", "unknown field 'template'"),
        (38, "handoffs.feedback_to_lead.template", "unknown field 'template'"),
    ]


def test_many_uses_of_a_small_anchor_are_fine() -> None:
    block = "defaults: &d {a: 1, b: [1, 2, 3], c: {d: 4}}\n"
    text = block + "".join(f"k{i}: *d\n" for i in range(500))
    doc = parse_yaml(text)
    assert doc.data["k499"] == {"a": 1, "b": [1, 2, 3], "c": {"d": 4}}
