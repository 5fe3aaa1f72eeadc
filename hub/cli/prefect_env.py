"""Prefect settings the hub needs, set as environment variables before Prefect loads.

Measured here (DESIGN.md): the embedded server takes 17-22 s to create its
database cold, beyond Prefect's default 20 s start limit; analytics try DNS,
which this network refuses. None of this imports Prefect.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["configure_prefect_env"]

_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_CLI_PROMPT": "false",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


def configure_prefect_env(home: Path | None = None, *, quiet: bool = False) -> None:
    """Set the hub's Prefect defaults (values the user already set win).

    ``home`` keeps Prefect's database and settings out of the user's profile,
    e.g. inside the demo folder. ``quiet`` hides Prefect's INFO lines on the
    terminal only: its loggers keep their level, so the flow run's logs on the
    server (the hub's batch lines, Prefect's retries) stay complete.
    """
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PREFECT_HOME", str(home))
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
