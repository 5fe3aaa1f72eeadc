"""``hub check``: a live, read-only pre-flight of every configured system.

The generic part lives here: what the configured handoffs need of each system
(:mod:`.needs`), running each connector's :class:`~hub.connector.Preflight`
and the checks across systems (:mod:`.run`), and the verdict (:mod:`.report`).
"""

from handoff_hub.hub.preflight.needs import system_needs
from handoff_hub.hub.preflight.report import exit_code, problems
from handoff_hub.hub.preflight.run import run_checks

__all__ = ["exit_code", "problems", "run_checks", "system_needs"]
