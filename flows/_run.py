"""The body every handoff flow shares: load, open, loop over batches as Prefect tasks."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run

from handoff_hub.flows._names import handoff_run_name
from handoff_hub.flows._observe import observed
from handoff_hub.flows._secrets import use_prefect_secrets
from handoff_hub.flows._states import final_state
from handoff_hub.flows._tasks import batch_noun, process_batch
from handoff_hub.hub.config.handover import load_once
from handoff_hub.hub.handoffs.catalogue import build_handoff, handoff_settings
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.runtime import open_runtime_once

__all__ = ["handoff_flow", "run_handoff_flow"]


def handoff_flow(name: str, what: str, module: str) -> Flow[[str, float], State[dict[str, Any]]]:
    """The Prefect flow of handoff ``name``, declared in ``module``; ``what`` is its description.

    Every handoff's flow takes the same parameters and ends in the state
    :func:`~handoff_hub.flows._states.final_state` gives the run: Failed when
    records were dead-lettered, Cancelled (named Skipped) when another run holds
    the lease.
    """

    def run(config_path: str, batch_retry_delay_seconds: float = 10.0) -> State[dict[str, Any]]:
        """Run the handoff from ``config_path``; Prefect retries a failed batch after the delay."""
        return run_handoff_flow(name, config_path, batch_retry_delay_seconds)

    run.__name__ = run.__qualname__ = name.replace("-", "_")
    run.__module__ = module  # where a deployment by module path imports it from
    return Flow(
        run,
        name=name,
        description=what,
        flow_run_name=handoff_run_name,
        log_prints=False,
        validate_parameters=True,
    )


def run_handoff_flow(
    name: str, config_path: str, batch_retry_delay_seconds: float
) -> State[dict[str, Any]]:
    """Run handoff ``name`` from ``config_path``, one Prefect task per batch.

    Ends in the state :func:`~handoff_hub.flows._states.final_state` gives the run.
    """
    use_prefect_secrets()
    loaded = load_once(config_path)
    handoff_settings(loaded, name)
    with observed():
        runtime = open_runtime_once(loaded)
        try:
            handoff = build_handoff(runtime, name)
            batch = process_batch.with_options(retry_delay_seconds=batch_retry_delay_seconds)
            numbers, noun = itertools.count(1), batch_noun(handoff)
            summary = run_handoff(
                name,
                handoff,
                runtime.store,
                process_batch=lambda records: batch(handoff, records, next(numbers), noun),
                flow_run_id=flow_run.get_id(),
            )
        finally:
            runtime.close()
    return final_state(asdict(summary))
