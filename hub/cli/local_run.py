"""The parts of ``hub run`` that need no Prefect: the check for work, and ``--local``.

``hub run`` first checks, in plain Python, whether the handoff has anything to
process (:func:`run_if_idle`); a run with nothing to do is recorded there and
Prefect is never imported. With work, the command runs the Prefect flow.
``hub run --local`` runs every batch here instead (:func:`run_locally`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.config.systems import PrefectSecret
from handoff_hub.hub.handoffs.catalogue import build_handoff, handoff_settings

if TYPE_CHECKING:
    from handoff_hub.hub.config.loading import LoadedConfig

__all__ = ["prefect_secret_systems", "run_if_idle", "run_locally"]


def prefect_secret_systems(loaded: LoadedConfig, name: str) -> list[str]:
    """The systems of handoff ``name`` whose credentials are Prefect Secret blocks.

    Only a flow run reads those, so their runs always go through Prefect.
    """
    settings: Any = handoff_settings(loaded, name)
    systems = loaded.config.systems
    return [
        system
        for system in dict.fromkeys((settings.crm, settings.pm))
        if any(isinstance(ref, PrefectSecret) for ref in systems[system].credentials.values())
    ]


def run_if_idle(loaded: LoadedConfig, name: str) -> dict[str, Any] | None:
    """The summary of a run of ``name`` with nothing to process; None when it has work.

    With work, the runtime (connectors, fitted mappings) is handed over to the
    flow this process runs next (:func:`~hub.runtime.hand_over_runtime`).
    """
    from handoff_hub.hub.handoffs.idle import run_if_idle as settle
    from handoff_hub.hub.runtime import hand_over_runtime, open_runtime

    runtime = open_runtime(loaded)
    try:
        summary = settle(name, build_handoff(runtime, name), runtime.store)
    except BaseException:
        runtime.close()
        raise
    if summary is None:
        hand_over_runtime(runtime)
        return None
    runtime.close()
    return asdict(summary)


def run_locally(loaded: LoadedConfig, name: str) -> dict[str, Any]:
    """Run handoff ``name`` in this process, batch after batch, without Prefect."""
    from handoff_hub.hub.handoffs.runner import run_handoff
    from handoff_hub.hub.runtime import open_runtime

    runtime = open_runtime(loaded)
    try:
        summary = run_handoff(name, build_handoff(runtime, name), runtime.store)
    finally:
        runtime.close()
    return asdict(summary)
