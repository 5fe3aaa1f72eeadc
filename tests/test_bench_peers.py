"""Figure 5 (peers) runs end to end at a small size: both sides read the same records."""

from __future__ import annotations

import pytest

pytest.importorskip("hubspot", reason="hubspot-api-client is in the bench extra")
pytest.importorskip("simple_salesforce", reason="simple-salesforce is in the bench extra")

from bench.peers import measure


def test_peers_smoke() -> None:
    figures = measure(200, modes=("lifted",))
    names = {(f.figure, f.product) for f in figures}
    for product in ("hubspot", "salesforce"):
        assert ("peers: hub speed / sdk speed (limits lifted)", product) in names
        assert ("peers: hub calls / sdk calls (limits lifted)", product) in names
    for figure in figures:
        details = figure.details
        assert details["same_records"] is True
        assert details["hub"]["records"] == details["sdk"]["records"] == 200
        assert details["hub"]["calls"] >= 1 and details["sdk"]["calls"] >= 1
        assert figure.value > 0
    search = next(f for f in figures if f.product == "hubspot").details["sdk_search"]
    assert search["records"] == 200 and search["same_records"] is True


def test_peers_published_limits_hubspot() -> None:
    figures = measure(200, modes=("published",), products=("hubspot",))
    assert [f.figure for f in figures] == [
        "peers: hub speed / sdk speed",
        "peers: hub calls / sdk calls",
    ]
    assert figures[0].details["same_records"] is True
