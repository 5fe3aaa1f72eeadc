"""Flow run names people can read in the Prefect UI: ``won-to-project · salesforce→jira · <when>``.

The time is the run's scheduled start in UTC. The config is loaded (and handed
back, so the flow body does not load it twice) only to name the two products;
a config that does not load still gets a name, and the body reports the problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect.runtime import flow_run

from handoff_hub.hub.config.handover import hand_over, load_once
from handoff_hub.hub.config.loading import LoadedConfig
from handoff_hub.hub.handoffs.catalogue import handoff_settings

__all__ = ["handoff_run_name", "reconcile_run_name", "systems_label"]


def _when() -> str:
    started = flow_run.get_scheduled_start_time() or dt.datetime.now(dt.UTC)
    return started.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def systems_label(loaded: LoadedConfig, crm: str, pm: str) -> str:
    """``salesforce→jira``: the connectors behind the config's system names."""
    systems = loaded.config.systems
    return f"{systems[crm].connector}→{systems[pm].connector}"


def _handoff_pair(name: str, config_path: str) -> str | None:
    try:
        loaded = load_once(config_path)
        settings: Any = handoff_settings(loaded, name)
        label = systems_label(loaded, settings.crm, settings.pm)
    except Exception:
        return None
    hand_over(loaded)
    return label


def handoff_run_name() -> str:
    """The running handoff flow's name: handoff · crm→pm · scheduled start (UTC)."""
    name = flow_run.get_flow_name() or "handoff"
    pair = _handoff_pair(name, str(flow_run.get_parameters().get("config_path", "")))
    return " · ".join(part for part in (name, pair, _when()) if part)


def reconcile_run_name() -> str:
    """``reconcile · <config stem> · 2026-12-07 07:15`` (with ``fix`` when it repairs)."""
    parameters = flow_run.get_parameters()
    stem = str(parameters.get("config_path", "")).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    what = "reconcile --fix" if parameters.get("fix") else "reconcile"
    return " · ".join(part for part in (what, stem, _when()) if part)
