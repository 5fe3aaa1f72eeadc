"""What the Prefect UI shows of a hub run: its logs, names and events.

- The hub's own log lines (``hub.*``: one per batch with its counts, warnings,
  errors) go to the flow run's logs through Prefect's API log handler while a
  flow runs (:func:`hub_logs_to_prefect`); the terminal keeps its own level.
- Hub events (:mod:`handoff_hub.hub.events`) become Prefect events
  (:func:`prefect_event_sink`), related to the flow run that announced them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.events import emit_event
from prefect.logging.handlers import APILogHandler

from handoff_hub.hub.events import HubEvent, listening

__all__ = ["hub_logs_to_prefect", "observed", "prefect_event_sink"]

HUB_LOGGER = "hub"
_SKIPPED = ("hub.progress",)
"""The progress bar's records: the per-batch line on ``hub.runner`` says the same once."""


class _NotProgress(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(_SKIPPED)


@contextmanager
def hub_logs_to_prefect(level: int = logging.INFO) -> Iterator[None]:
    """Send ``hub.*`` records of ``level`` and above to the running flow's logs.

    Leaves the logger alone when an API handler is already there (e.g.
    ``PREFECT_LOGGING_EXTRA_LOGGERS=hub``), so no line is sent twice.
    """
    logger = logging.getLogger(HUB_LOGGER)
    if any(isinstance(h, APILogHandler) for h in logger.handlers):
        yield
        return
    handler = APILogHandler(level=level)
    handler.addFilter(_NotProgress())
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def prefect_event_sink(event: HubEvent) -> None:
    """Emit ``event`` as a Prefect event (the current flow run is added as related)."""
    resource = {"prefect.resource.id": event.resource_id, **event.labels}
    emit_event(event=event.name, resource=resource, payload=dict(event.payload))


@contextmanager
def observed() -> Iterator[None]:
    """While the block runs: hub logs to the flow run, hub events to Prefect."""
    with hub_logs_to_prefect(), listening(prefect_event_sink):
        yield
