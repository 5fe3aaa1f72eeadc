"""The Prefect state a hub run ends its flow run in, so the UI and automations tell them apart.

- ``succeeded``: Completed, the counts in its message.
- ``completed_with_failures`` (some records were dead-lettered): **Failed**, with
  the counts in its message; the summary stays the state's data, so ``hub run``
  still prints it. Failed, not a named Completed state, because Prefect and its
  UI treat every Completed state as green, and Failed is what the usual
  automations (``prefect.flow-run.Failed``) and retries watch.
- ``skipped`` (another run holds the lease): Cancelled, named ``Skipped``, with the reason.

Every message starts with the hub run id (``hub history --run <id>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed

__all__ = ["SKIPPED", "final_state", "state_message", "summary_of"]

SKIPPED = "Skipped"


def state_message(summary: Mapping[str, Any]) -> str:
    """``hub run <id>: created 38, failed 2, seen 40`` (and the error, if any)."""
    counts = summary.get("counts") or {}
    shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items()) if v)
    message = f"hub run {summary['run_id']}: {shown or 'nothing to do'}"
    if summary.get("error"):
        message += f" ({summary['error']})"
    return message


def final_state(summary: dict[str, Any]) -> State[dict[str, Any]]:
    """The flow run's final state for a hub run's ``summary`` (a RunSummary as a dict)."""
    message = state_message(summary)
    if summary["status"] == "skipped":
        return Cancelled(name=SKIPPED, message=f"skipped: {message}", data=summary)
    if summary["status"] == "completed_with_failures":
        failed = (summary.get("counts") or {}).get("failed", 0)
        return Failed(message=f"{failed} record(s) dead-lettered; {message}", data=summary)
    return Completed(message=message, data=summary)


def summary_of(state: State[Any]) -> dict[str, Any]:
    """The hub run's summary a flow run ended with, whatever its state.

    Raises:
        Exception: The flow run failed before a summary (its own exception).
    """
    data = state.result(raise_on_failure=False)
    if isinstance(data, dict) and "run_id" in data:
        return data
    state.result()
    raise RuntimeError(f"flow run ended {state.name} without a hub run summary")
