"""Find connectors through the ``handoff_hub.connectors`` entry-point group.

A third party adds a product by shipping a package that registers its
connector class under this group; the hub never imports connectors directly.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from handoff_hub.hub.connector import Connector
from handoff_hub.hub.errors import RegistryError

__all__ = ["GROUP", "connector_class", "known_connectors"]

GROUP = "handoff_hub.connectors"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_connectors() -> list[str]:
    """Names of every registered connector, sorted."""
    return sorted(_entry_points())


def connector_class(name: str) -> type[Connector]:
    """Load the connector registered as ``name``; the error lists the known names."""
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join(known_connectors()) or "none installed"
        raise RegistryError(f"unknown connector {name!r}; known connectors: {known}")
    return cast("type[Connector]", ep.load())
