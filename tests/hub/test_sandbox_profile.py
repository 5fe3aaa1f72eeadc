"""Org profiles: presets, YAML files and their errors, and every sandbox taking one."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from handoff_hub.hub.cli.demo import sandbox_profiles
from handoff_hub.hub.errors import ConfigError
from handoff_hub.sandboxes.kit.profile import OrgProfile, load_profile
from handoff_hub.sandboxes.kit.server import known_sandboxes, make_sandbox


class _Org(OrgProfile):
    product: ClassVar[str] = "example"
    presets: ClassVar = {"euro": {"single_currency": True, "currency": "EUR"}}

    single_currency: bool = False
    late_commits: bool = False
    currency: str = "USD"


def test_presets() -> None:
    assert load_profile(_Org, None) == _Org()
    assert load_profile(_Org, "default") == _Org()
    assert load_profile(_Org, "hard") == _Org(single_currency=True, late_commits=True)
    assert load_profile(_Org, "euro").currency == "EUR"
    assert load_profile(_Org, {"late_commits": True}).late_commits
    assert _Org.preset_names() == ["default", "hard", "euro"]
    assert load_profile(_Org, "euro").switched_on() == {"single_currency": True, "currency": "EUR"}


def test_unknown_preset_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError) as caught:
        load_profile(_Org, "hrad")
    assert "no example org profile 'hrad'" in str(caught.value)
    assert "did you mean 'hard'" in str(caught.value)


def test_file_extends_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("sandbox: example\nextends: hard\nlate_commits: false\ncurrency: GBP\n")
    assert load_profile(_Org, path) == _Org(single_currency=True, currency="GBP")
    assert load_profile(_Org, str(path)) == _Org(single_currency=True, currency="GBP")


def test_file_errors_all_at_once_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("sandbox: other\nextends: hardest\nlate_comits: true\nsingle_currency: maybe\n")
    with pytest.raises(ConfigError) as caught:
        load_profile(_Org, path)
    lines = {(i.line, i.field) for i in caught.value.issues}
    assert lines == {(1, "sandbox"), (2, "extends"), (3, "late_comits"), (4, "single_currency")}
    text = str(caught.value)
    assert "did you mean 'late_commits'" in text
    assert f"{path}:3" in text


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("late_commits: [true\n")
    with pytest.raises(ConfigError) as caught:
        load_profile(_Org, path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", known_sandboxes())
def test_every_sandbox_plays_default_and_hard(name: str) -> None:
    default = make_sandbox(name, records=3)
    hard = make_sandbox(name, records=3, profile="hard")
    assert default.profile.switched_on() == {}
    assert hard.profile == type(hard.profile).preset("hard")


def test_demo_profiles_one_for_all_and_one_by_name() -> None:
    names = ("salesforce", "jira")
    assert sandbox_profiles(["hard"], names) == {"salesforce": "hard", "jira": "hard"}
    assert sandbox_profiles(["salesforce=single-currency", "hard"], names) == {
        "salesforce": "single-currency",
        "jira": "hard",
    }
    with pytest.raises(ConfigError, match="did you mean 'salesforce'"):
        sandbox_profiles(["salesforc=hard"], names)
