"""``hub adopt``: link won deals to the projects the org already has (plan first)."""

from __future__ import annotations

from typing import Annotated

import typer

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, load
from handoff_hub.hub.cli.console import console, print_rows

__all__ = ["adopt_command"]


def adopt_command(
    config: ConfigOption,
    apply: Annotated[
        bool, typer.Option("--apply", help="Record the links (default: only show them)")
    ] = False,
    accept_names: Annotated[
        bool,
        typer.Option(
            "--accept-names", help="Also link projects found by name alone (after checking them)"
        ),
    ] = False,
) -> None:
    """Find the projects won deals already have, so won-to-project does not make others."""
    from handoff_hub.hub.handoffs.adopt import adopt, plan_rows
    from handoff_hub.hub.runtime import open_runtime

    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            plan = adopt(runtime, apply=apply, accept_names=accept_names)
        finally:
            runtime.close()
    title = "adopt: linked" if apply else "adopt: plan (nothing written; --apply links)"
    print_rows(title, ("deal", "name", "project", "found", "what happens"), plan_rows(plan))
    counts = plan.counts()
    console.print(
        "  " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "no unlinked won deal"),
        markup=False,
    )
    if plan.run_id:
        console.print(f"  run {plan.run_id} (hub history --run {plan.run_id[:8]})", markup=False)
