"""The flows ``hub run`` imports by module are inside the installed package."""

from __future__ import annotations

import importlib

import pytest

from handoff_hub.hub.handoffs.catalogue import HANDOFFS, HandoffKind


@pytest.mark.parametrize("kind", list(HANDOFFS.values()), ids=lambda k: k.name)
def test_each_flow_is_found_in_the_installed_package(kind: HandoffKind) -> None:
    """Never a bare ``flows`` package: the wheel has none, and cwd is not on the path."""
    module, function = kind.flow_module
    assert module.startswith("handoff_hub.flows.")
    assert callable(getattr(importlib.import_module(module), function))
