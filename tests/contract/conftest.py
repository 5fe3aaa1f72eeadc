"""Run the connector contract suite for every registered connector."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from handoff_hub.sandboxes.kit.contract import ContractCase

_FACTORIES = {ep.name: ep for ep in entry_points(group="handoff_hub.contract")}


@pytest.fixture(params=sorted(_FACTORIES))
def contract_case(request: pytest.FixtureRequest) -> ContractCase:
    case = _FACTORIES[request.param].load()()
    assert isinstance(case, ContractCase)
    return case
