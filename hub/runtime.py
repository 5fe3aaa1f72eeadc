"""A loaded hub: config, mappings, state store and live connectors, built once per run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.connector import Connector, PmConnector
from hub.errors import ConfigError, Issue
from hub.registry import connector_class
from hub.store import StateStore

if TYPE_CHECKING:
    import httpx

    from hub.config import LoadedConfig
    from hub.mapping.spec import MappingSpec

__all__ = ["Runtime", "open_runtime"]


@dataclass
class Runtime:
    """Everything a handoff needs, keyed by the system names of the hub config."""

    loaded: LoadedConfig
    store: StateStore
    connectors: dict[str, Connector] = field(default_factory=dict)

    def connector(self, system: str) -> Connector:
        """The connector of one configured system."""
        try:
            return self.connectors[system]
        except KeyError:
            known = ", ".join(sorted(self.connectors))
            raise ConfigError(
                [
                    Issue(
                        str(self.loaded.path),
                        None,
                        "systems",
                        f"no system {system!r} (have: {known})",
                    )
                ]
            ) from None

    def pm(self, system: str) -> PmConnector:
        """The connector of a project tool; an error if the system is not one."""
        connector = self.connector(system)
        if not isinstance(connector, PmConnector):
            raise ConfigError(
                [
                    Issue(
                        str(self.loaded.path),
                        None,
                        f"systems.{system}",
                        f"connector {connector.name!r} is not a project tool",
                    )
                ]
            )
        return connector

    def mapping(self, system: str) -> MappingSpec:
        """The mapping of one configured system."""
        return self.loaded.mappings[system]

    def close(self) -> None:
        """Close every connector and the store."""
        for connector in self.connectors.values():
            connector.close()
        self.store.close()


def open_runtime(
    loaded: LoadedConfig,
    *,
    transports: Mapping[str, httpx.BaseTransport] | None = None,
    store: StateStore | None = None,
) -> Runtime:
    """Build connectors through the registry; ``transports`` routes systems to sandboxes."""
    transports = transports or {}
    runtime = Runtime(loaded=loaded, store=store or StateStore(loaded.config.store.url))
    for name, system in loaded.config.systems.items():
        cls = connector_class(system.connector)
        runtime.connectors[name] = cls.from_config(system, transport=transports.get(name))
    return runtime
