"""The benchmark runs end to end at a tiny size and writes its JSON (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_bench_calls_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert main(["--sizes", "200", "--only", "calls", "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["machine"]) >= {"platform", "cpu_count", "python", "date"}
    figure = data["figures"][0]
    assert set(figure) >= {"figure", "product", "size", "value", "target", "passed", "details"}
    assert {f["product"] for f in data["figures"]} == {"salesforce", "hubspot", "jira", "asana"}
