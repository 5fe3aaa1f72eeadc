"""A loaded hub: config, mappings, state store and live connectors, built once per run."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handoff_hub.hub.connector import Connector, KeepsFacts, KnowsOrgSchema, PmConnector
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.registry import connector_class
from handoff_hub.hub.store import StateStore

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.loading import LoadedConfig
    from handoff_hub.hub.mapping.spec import MappingSpec

__all__ = ["Runtime", "hand_over_runtime", "open_runtime", "open_runtime_once"]

_log = logging.getLogger("hub.runtime")


@dataclass
class Runtime:
    """Everything a handoff needs, keyed by the system names of the hub config."""

    loaded: LoadedConfig
    store: StateStore
    connectors: dict[str, Connector] = field(default_factory=dict)
    _fitted: dict[str, MappingSpec] = field(default_factory=dict, repr=False)

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
        """The mapping of one configured system, fitted to its org once per runtime.

        Where the connector can tell which fields the org has
        (:class:`~hub.connector.KnowsOrgSchema`), optional rules on absent fields
        are left out and money takes the org's currency (:mod:`handoff_hub.hub.mapping.org_fit`).

        Raises:
            ConfigError: The org lacks a field the mapping requires or a
                configured handoff writes (every such field at once).
        """
        if system not in self._fitted:
            self._fitted[system] = self._fit(system)
        return self._fitted[system]

    def _fit(self, system: str) -> MappingSpec:
        from handoff_hub.hub.handoffs.catalogue import handoff_entities
        from handoff_hub.hub.mapping.org_fit import fit_to_org, needed_fields

        spec = self.loaded.mappings[system]
        connector = self.connectors.get(system)
        if not isinstance(connector, KnowsOrgSchema):
            return spec
        file = str(self.loaded.base_dir / self.loaded.config.systems[system].mapping)
        config = self.loaded.config
        used = handoff_entities(config, system)
        fit = fit_to_org(spec, connector, file=file, needs=needed_fields(config, system), used=used)
        if fit.issues:
            raise ConfigError(fit.issues)
        return fit.spec

    def lookback(self, system: str) -> dt.timedelta:
        """How far before its checkpoint an incremental read of ``system`` starts."""
        return dt.timedelta(seconds=self.loaded.config.systems[system].lookback_seconds)

    def close(self) -> None:
        """Keep what the connectors learned, close every connector and the store."""
        try:
            self.keep_facts()
        except Exception as exc:  # a cache: its loss costs a call, never the run's close
            _log.warning("could not keep the connectors' facts for the next run: %s", exc)
        for connector in self.connectors.values():
            connector.close()
        self.store.close()

    def keep_facts(self) -> None:
        """Store each connector's facts for the next run (a cursor row ``facts:<system>``)."""
        for name, connector in self.connectors.items():
            if isinstance(connector, KeepsFacts) and (facts := connector.facts()):
                text = json.dumps(facts, sort_keys=True)
                if self.store.get_cursor(_facts_row(name)) != text:
                    self.store.set_cursor(_facts_row(name), text)

    def recall_facts(self) -> None:
        """Hand each connector what an earlier run kept (unreadable rows are ignored)."""
        for name, connector in self.connectors.items():
            if not isinstance(connector, KeepsFacts):
                continue
            try:
                facts = json.loads(self.store.get_cursor(_facts_row(name)) or "{}")
            except ValueError:
                continue
            if isinstance(facts, dict):
                connector.recall({str(k): str(v) for k, v in facts.items()})


def _facts_row(system: str) -> str:
    return f"facts:{system}"


def open_runtime(
    loaded: LoadedConfig,
    *,
    transports: Mapping[str, httpx.BaseTransport] | None = None,
    store: StateStore | None = None,
) -> Runtime:
    """Build connectors through the registry; ``transports`` routes systems to sandboxes.

    With ``store.shared_rate_limit`` on, each system paces its requests through
    the store's rate budgets, shared with the hub's other processes.
    """
    transports = transports or {}
    runtime = Runtime(loaded=loaded, store=store or StateStore(loaded.config.store.url))
    shared = loaded.config.store.shares_rate_limit
    for name, system in loaded.config.systems.items():
        cls = connector_class(system.connector)
        if shared:
            system = system.sharing_budget(runtime.store.rate_ledger)
        runtime.connectors[name] = cls.from_config(system, transport=transports.get(name))
    runtime.recall_facts()
    return runtime


_lock = threading.Lock()
_handed: Runtime | None = None


def hand_over_runtime(runtime: Runtime) -> None:
    """Keep ``runtime`` open for the next :func:`open_runtime_once` of its config.

    ``hub run`` checks for work before it starts the flow; the flow, in the
    same process, then takes the check's connectors (their tokens) and fitted
    mappings instead of asking the products for them again.
    """
    global _handed
    with _lock:
        previous, _handed = _handed, runtime
    if previous is not None and previous is not runtime:
        previous.close()


def open_runtime_once(loaded: LoadedConfig) -> Runtime:
    """The runtime handed over for this very config (the same object), else a new one."""
    global _handed
    with _lock:
        handed, _handed = _handed, None
    if handed is not None:
        if handed.loaded is loaded:
            return handed
        handed.close()
    return open_runtime(loaded)
