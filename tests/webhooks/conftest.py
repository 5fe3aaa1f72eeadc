"""The webhook tests reuse tests/hub's pairing runtime (pair_support)."""

from __future__ import annotations

import sys
from pathlib import Path

_HUB_TESTS = str(Path(__file__).resolve().parents[1] / "hub")
if _HUB_TESTS not in sys.path:
    sys.path.append(_HUB_TESTS)
