"""An unquoted YAML date is a date to YAML and text to the schema: both accept it."""

from __future__ import annotations

from pathlib import Path

import yaml

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.registry import known_connectors

ROOT = Path(__file__).resolve().parents[2]


def test_an_unquoted_start_from_date_validates(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "salesforce-jira.yaml").read_text(encoding="utf-8")
    text = text.replace("../mappings/", f"{ROOT / 'mappings'}/")
    text = text.replace("# start_from: now", "start_from: 2026-12-01", 1)
    assert "start_from: 2026-12-01" in text
    config = tmp_path / "hub.yaml"
    config.write_text(text, encoding="utf-8")
    loaded = load_config(config, known_connectors=known_connectors(), check_env=False)
    settings = loaded.config.handoffs.won_to_project
    assert settings is not None and str(settings.start_from) == "2026-12-01"
    assert yaml.safe_load(text)["handoffs"]["won_to_project"]["start_from"].year == 2026
