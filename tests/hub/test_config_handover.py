"""hub run loads the config once: the flow takes what the CLI loaded, unless a file changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.handover import hand_over, load_once
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.runtime import Runtime, hand_over_runtime, open_runtime, open_runtime_once
from handoff_hub.sandboxes.kit.server import make_sandbox


def _config(folder: Path) -> Path:
    targets = {
        name: ("http://127.0.0.1:9", make_sandbox(name, seed=1, records=2))
        for name in ("salesforce", "jira")
    }
    path = write_sandbox_config(
        example_for("salesforce", "jira"), folder, targets, env_prefix="HUB_HANDOVER"
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        own = folder / Path(system["mapping"]).name
        shutil.copy(system["mapping"], own)
        system["mapping"] = own.name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_flow_takes_the_config_the_cli_loaded(tmp_path: Path) -> None:
    path = _config(tmp_path)
    loaded = load_config(path)
    hand_over(loaded)
    assert load_once(path) is loaded
    again = load_once(path)  # handed over once: the next run loads afresh
    assert again is not loaded and again.config == loaded.config


def test_a_changed_mapping_is_read_again(tmp_path: Path) -> None:
    path = _config(tmp_path)
    loaded = load_config(path)
    hand_over(loaded)
    mapping = tmp_path / Path(loaded.config.systems["pm"].mapping).name
    stat = mapping.stat()
    os.utime(mapping, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_once(path) is not loaded


def test_another_file_is_not_the_handed_one(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _config(tmp_path / "a"), _config(tmp_path / "b")
    hand_over(load_config(first))
    assert load_once(second).path == second.resolve()


def test_the_flow_takes_the_runtime_the_check_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path)
    loaded = load_config(path)
    checked = open_runtime(loaded)
    closed: list[Runtime] = []
    monkeypatch.setattr(Runtime, "close", lambda self: closed.append(self))

    hand_over_runtime(checked)
    assert open_runtime_once(loaded) is checked
    fresh = open_runtime_once(loaded)  # handed over once

    hand_over_runtime(checked)
    other = open_runtime_once(load_config(path))  # another load: the check's is closed
    assert fresh is not checked and other is not checked and closed == [checked]
    for runtime in (checked, fresh, other):
        runtime.store.close()
