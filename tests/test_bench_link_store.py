"""The link-store bench runs its steps and reports a rate per step (tiny sizes, SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import link_store


def test_each_step_reports_writes_and_look_ups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link_store, "STEP", 1000)
    monkeypatch.setattr(link_store, "LOOKUPS", 500)
    figures = link_store.measure_backend("sqlite", f"sqlite:///{tmp_path / 's.db'}", 2000)
    assert [(f.figure.split()[1], f.size) for f in figures] == [
        ("writes/s", 1000),
        ("look-ups/s", 1000),
        ("writes/s", 2000),
        ("look-ups/s", 2000),
    ]
    assert all(f.value > 0 for f in figures)
    assert figures[-1].details["rows_after"] == 2000


def test_as_before_runs_on_the_old_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_store, "STEP", 1000)
    monkeypatch.setattr(link_store, "LOOKUPS", 500)
    url = f"sqlite:///{tmp_path / 's.db'}"
    figures = link_store.measure_backend("sqlite", url, 1000, as_before=True)
    assert figures[0].product == "sqlite (as before)"
    assert figures[0].details["analyzed_so_far"] == 0
