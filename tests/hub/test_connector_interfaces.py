"""Optional connector abilities are declared protocols, not attributes guessed at."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from handoff_hub.hub.connector import Connector, KnowsOrgSchema, record_filter, settings_model
from handoff_hub.hub.registry import connector_class

FILTERS = {"jira": True, "asana": True, "salesforce": False, "hubspot": False}
# Jira and Asana tell which custom fields the site has (GET /field, the workspace's fields).
ORG_SCHEMA = {"jira": True, "asana": True, "salesforce": True, "hubspot": True}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_shipped_connector_declares_what_it_can(name: str) -> None:
    cls = connector_class(name)
    assert (record_filter(cls) is not None) is FILTERS[name]
    assert issubclass(cls, KnowsOrgSchema) is ORG_SCHEMA[name]
    model = settings_model(cls)
    assert model is not None and issubclass(model, BaseModel)


def test_a_class_without_the_abilities_has_none() -> None:
    class Bare:
        name = "bare"

    bare: type[Connector] = Bare  # type: ignore[assignment]
    assert record_filter(bare) is None
    assert settings_model(bare) is None
