"""won-to-project as a Prefect flow: won deals -> delivery projects, batch by batch."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow

from flows._tasks import process_batch
from hub.config import load_config
from hub.errors import ConfigError, Issue
from hub.handoffs.runner import run_handoff
from hub.handoffs.won_to_project import HANDOFF, WonToProject
from hub.runtime import open_runtime

__all__ = ["won_to_project"]


@flow(name=HANDOFF, log_prints=False, validate_parameters=True)
def won_to_project(config_path: str, batch_retry_delay_seconds: float = 10.0) -> dict[str, Any]:
    """Create one delivery project per won opportunity changed since the last run.

    Args:
        config_path: The hub config file.
        batch_retry_delay_seconds: Pause before Prefect retries a failed batch.
    """
    loaded = load_config(config_path)
    settings = loaded.config.handoffs.won_to_project
    if settings is None or not settings.enabled:
        raise ConfigError(
            [
                Issue(
                    config_path, None, "handoffs.won_to_project", "is not configured or not enabled"
                )
            ]
        )
    runtime = open_runtime(loaded)
    try:
        handoff = WonToProject(runtime, settings)
        batch = process_batch.with_options(retry_delay_seconds=batch_retry_delay_seconds)
        summary = run_handoff(
            HANDOFF,
            handoff,
            runtime.store,
            process_batch=lambda records: batch(handoff, records),
        )
    finally:
        runtime.close()
    return asdict(summary)
