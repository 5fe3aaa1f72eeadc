"""What the hub announces for alerting: dead letters, conflicts, discrepancies, run outcomes.

hub/ stays free of Prefect: it hands each :class:`HubEvent` to the sinks
registered here, and the flows register one that emits Prefect events
(``flows/_observe.py``), so a Prefect automation can alert on them. With no
sink (the CLI outside a flow, tests) nothing happens. A sink that fails never
fails the run: its error is logged and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PREFIX",
    "EventSink",
    "HubEvent",
    "announce",
    "listening",
    "run_resource",
]

PREFIX = "handoff-hub"
log = logging.getLogger("hub.events")


@dataclass(frozen=True)
class HubEvent:
    """One announcement: ``handoff-hub.<what>`` about the resource ``resource_id``."""

    name: str
    resource_id: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra resource labels (``handoff-hub.handoff``: the handoff), for automations' filters."""
    payload: Mapping[str, Any] = field(default_factory=dict)


EventSink = Callable[[HubEvent], None]
_sinks: list[EventSink] = []


def run_resource(run_id: str) -> str:
    """The resource id of a hub run: ``handoff-hub.run.<run id>``."""
    return f"{PREFIX}.run.{run_id}"


@contextmanager
def listening(sink: EventSink) -> Iterator[None]:
    """Hand every event announced while the block runs to ``sink`` too."""
    _sinks.append(sink)
    try:
        yield
    finally:
        _sinks.remove(sink)


def announce(
    what: str,
    resource_id: str,
    payload: Mapping[str, Any],
    *,
    handoff: str | None = None,
) -> None:
    """Hand event ``handoff-hub.<what>`` to every sink; a failing sink is logged, not raised."""
    labels = {f"{PREFIX}.handoff": handoff} if handoff else {}
    event = HubEvent(f"{PREFIX}.{what}", resource_id, labels, dict(payload))
    for sink in list(_sinks):
        try:
            sink(event)
        except Exception as exc:
            log.warning("event %s not sent: %s", event.name, exc)
