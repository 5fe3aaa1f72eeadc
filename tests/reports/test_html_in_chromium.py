"""The HTML report as a real browser renders it: counts, rows, chart, and no hostile script.

Needs Chromium (.ci/ensure-chromium installs Debian's package). Skipped without it,
except under CI=true (.ci/run), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import ReconcileResult
from handoff_hub.hub.reports import write_report

ParsePage = Callable[[str], Any]  # conftest.parse_page

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no chromium on PATH or at /usr/bin/chromium (bash .ci/ensure-chromium)")
        pytest.skip("no chromium on PATH or at /usr/bin/chromium")
    return found


def _dump_dom(chromium: str, page: Path, tmp_path: Path) -> str:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "</html>" in done.stdout, done.stderr[-2000:]
    return done.stdout


def test_rendered_report_matches_the_result(
    result: ReconcileResult, kpis: KpiReport, parse_page: ParsePage, tmp_path: Path
) -> None:
    chromium = _chromium()
    page = tmp_path / "report.html"
    with page.open("w", encoding="utf-8") as out:
        write_report(result, "html", out, kpis=kpis)

    dom = parse_page(_dump_dom(chromium, page, tmp_path))

    assert dom.body.get("data-ready") == "1", "the inline script did not run"
    assert "data-pwned" not in dom.body
    assert dom.total == result.total == 6
    assert dom.counts == result.counts
    assert len(dom.rows) == result.total
    assert Counter(dom.rows) == Counter({k: n for k, n in result.counts.items() if n})
    assert [kind for kind, _width in dom.rects] == [k for k, n in result.counts.items() if n]
    assert set(dom.kpis) == set(kpis.as_dict())

    tags = [tag for tag, _attrs in dom.tags]
    assert tags.count("script") == 1
    assert "img" not in tags
    text = "".join(dom.text)
    assert "<script>alert(1)</script>" in text
    assert '<img src=x onerror="document.body.dataset.pwned = 1">' in text
