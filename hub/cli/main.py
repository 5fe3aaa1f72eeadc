"""The ``hub`` command: the composition root (config, registry, flows, output).

Errors an admin can fix (a config problem, a rejected credential) end with a
clear message and exit code 2 or 1, never a traceback. Prefect is imported
only by the commands that run flows, after its settings are in place.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from handoff_hub.hub.cli.account import account_command
from handoff_hub.hub.cli.adopt import adopt_command
from handoff_hub.hub.cli.check import brief_check, check_command
from handoff_hub.hub.cli.common import ConfigOption, admin_errors, fail, load
from handoff_hub.hub.cli.console import (
    PIPED_WIDTH,
    VisibleFormatter,
    console,
    echo_json,
    err_console,
    print_config_error,
    print_rows,
    print_summary,
    print_warnings,
    progress_bar,
)
from handoff_hub.hub.cli.db import db_app
from handoff_hub.hub.cli.deadletters import deadletters_app
from handoff_hub.hub.cli.deploy import deploy_command
from handoff_hub.hub.cli.history import history_command
from handoff_hub.hub.cli.logs import brief_flow_logs
from handoff_hub.hub.cli.options import (
    CrmName,
    HandoffName,
    PmName,
    SandboxName,
    version_callback,
)
from handoff_hub.hub.cli.plan import configured_handoffs, plan_command
from handoff_hub.hub.cli.prefect_env import configure_prefect_env
from handoff_hub.hub.cli.reconcile import kpis_command, reconcile_command
from handoff_hub.hub.cli.results import run_result, validation_result
from handoff_hub.hub.cli.serve import serve_command
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.catalogue import HANDOFFS
from handoff_hub.hub.http.redact import install_redaction

__all__ = ["app", "main"]

app = typer.Typer(
    help="Handoff Hub: CRM <-> project tool handoffs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.callback()(version_callback)
sandbox_app = typer.Typer(help="Local emulators of the products' APIs.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug", help="Show the traceback of a failure as Prefect logs it (for a bug report)"
    ),
]


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="An unset environment variable of a credential is an error (exit 2), "
        "not a warning: check the machine the hub runs on, not only the file",
    ),
]


@app.command()
def validate(
    config: ConfigOption, strict: StrictOption = False, as_json: JsonOption = False
) -> None:
    """Check a hub config and its mappings (schema, names, env vars); no network."""
    try:
        loaded = load(config, warn_env=not strict)
    except ConfigError as exc:
        if as_json:
            echo_json(validation_result(config, exc.issues, warnings=exc.warnings), indent=2)
        else:
            print_config_error(exc)
        raise typer.Exit(2) from None
    if as_json:
        echo_json(validation_result(config, [], loaded, loaded.warnings), indent=2)
        return
    print_warnings(loaded.warnings)
    systems = ", ".join(f"{k} ({v.connector})" for k, v in loaded.config.systems.items())
    console.print(
        f"[green]ok[/] {escape(str(config))}: systems {escape(systems)}; "
        f"{len(loaded.mappings)} mapping(s) valid"
        + (f"; {len(loaded.warnings)} warning(s)" if loaded.warnings else "")
    )


def _run_flow(handoff: str, config_path: Path, *, debug: bool = False) -> dict[str, Any]:
    """Run one handoff's flow; a failure raises its exception, logged without traceback."""
    if handoff not in HANDOFFS:
        raise fail(f"unknown handoff {handoff!r}; known: {', '.join(HANDOFFS)}", 2)
    module, function = HANDOFFS[handoff].flow_module
    flow = getattr(importlib.import_module(module), function)
    from handoff_hub.flows._states import summary_of

    with brief_flow_logs(debug=debug), progress_bar(handoff, enabled=console.is_terminal):
        state = flow(str(config_path.resolve()), return_state=True)
        return summary_of(state)


LocalOption = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Run without Prefect: every batch in this process, no flow run "
        "(no Prefect retries of a batch; the HTTP retries stay)",
    ),
]
FlowOption = Annotated[
    bool,
    typer.Option(
        "--flow",
        help="Run the Prefect flow even when there is nothing to process "
        "(every run then shows in Prefect)",
    ),
]


@app.command()
def run(
    handoff: Annotated[HandoffName, typer.Argument(help="Handoff to run")],
    config: ConfigOption,
    debug: DebugOption = False,
    as_json: JsonOption = False,
    local: LocalOption = False,
    always_flow: FlowOption = False,
) -> None:
    """Run one handoff now: its Prefect flow when there is work to process.

    The flow runs on the server PREFECT_API_URL names, else on Prefect's
    embedded one. The check for work is plain Python: a run with nothing to
    process is recorded (``hub history``) without starting Prefect. A failure ends with
    one ``error:`` line (exit 1; 2 for a config problem); the run's logs on the
    Prefect server keep its traceback, and ``--debug`` shows it.
    """
    from handoff_hub.hub.cli.local_run import prefect_secret_systems, run_if_idle, run_locally
    from handoff_hub.hub.config.handover import hand_over
    from handoff_hub.hub.store.opening import store_errors

    if local and always_flow:
        raise fail("--local and --flow exclude each other", 2)
    with admin_errors():
        loaded = load(config)
        if handoff not in HANDOFFS:
            raise fail(f"unknown handoff {handoff!r}; known: {', '.join(HANDOFFS)}", 2)
        secrets = prefect_secret_systems(loaded, handoff)
    if local and secrets:
        raise fail(f"--local cannot read Prefect Secret blocks ({', '.join(secrets)})", 2)
    summary: dict[str, Any] | None = None
    with admin_errors(), store_errors(loaded.config.store.url):
        if local:
            with progress_bar(handoff, enabled=console.is_terminal):
                summary = run_locally(loaded, handoff)
        elif not (always_flow or secrets):
            summary = run_if_idle(loaded, handoff)
        if summary is None:
            configure_prefect_env(config.resolve().parent / ".hub" / "prefect", quiet=True)
            hand_over(loaded)
            summary = _run_flow(handoff, config, debug=debug)
    if as_json:
        echo_json(run_result(config, summary), indent=2)
    else:
        print_summary(f"{handoff}: {config.name}", summary)
    if summary["counts"].get("failed"):
        raise typer.Exit(1)


@app.command()
def demo(
    folder: Annotated[Path | None, typer.Option("--dir", help="Keep state here")] = None,
    crm: Annotated[CrmName, typer.Option(help="CRM sandbox")] = "salesforce",
    pm: Annotated[PmName, typer.Option(help="Project-tool sandbox")] = "jira",
    records: Annotated[int, typer.Option(help="Opportunities to seed")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox data")] = 7,
    sandbox_profile: Annotated[
        list[str] | None,
        typer.Option(
            "--sandbox-profile",
            help="Org the sandboxes play: a preset (hard) or YAML file for both, or "
            "NAME=PROFILE for one (salesforce=single-currency); repeatable",
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Run every handoff against seeded sandboxes: projects, then risks, health and upsells."""
    from handoff_hub.hub.cli.demo import (
        demo_environment,
        sandbox_profiles,
        stage_budget_change,
        stage_delivery_events,
    )

    with admin_errors():
        profiles = sandbox_profiles(sandbox_profile or (), (crm, pm))
    folder = folder or Path(tempfile.mkdtemp(prefix="handoff-hub-demo-"))
    configure_prefect_env(folder / "prefect", quiet=True)
    console.print(
        f"[bold]Handoff Hub demo[/] · {escape(crm)} + {escape(pm)} sandboxes · "
        f"state in {escape(str(folder))}"
    )
    with (
        admin_errors(),
        demo_environment(
            folder, crm=crm, pm=pm, seed=seed, records=records, profiles=profiles
        ) as env,
    ):
        for name, running in env.sandboxes.items():
            if changed := running.sandbox.profile.switched_on():
                console.print(f"{name} org profile: {changed}", markup=False)
        console.print(f"config: {env.config_path}", markup=False)
        brief_check(env.config_path)
        first, *others = HANDOFFS  # won-to-project: the others work on its projects
        for label in ("first run", "second run (idempotent: nothing new)"):
            summary = _run_flow(first, env.config_path, debug=debug)
            print_summary(f"{first} · {label}", summary)
        _print_links(env.config_path)
        projects = [lk.target_key or lk.target_id for lk in _links(env.config_path)]
        events = stage_delivery_events(env.sandboxes[pm].sandbox, projects)
        if budget := stage_budget_change(env.sandboxes[pm].sandbox, projects):
            events.append(budget)
        console.print("[bold]Meanwhile in delivery[/] (changed in the sandbox, as a team would):")
        for line in events:
            console.print(f"  · {line}", markup=False)
        configured = configured_handoffs(load(env.config_path))
        for handoff in others:
            if handoff not in configured:
                continue
            for label in ("run", "rerun (nothing new)"):
                summary = _run_flow(handoff, env.config_path, debug=debug)
                print_summary(f"{handoff} · {label}", summary)
        _demo_reconcile(env.config_path, folder / "reconcile.html")


def _demo_reconcile(config_path: Path, report: Path) -> None:
    """Close the demo the way an admin would check: reconcile, KPIs, an HTML report."""
    from handoff_hub.hub.reconcile.fix import reconcile
    from handoff_hub.hub.reports import print_table, write_report
    from handoff_hub.hub.runtime import open_runtime

    console.print("[bold]Do the two systems agree?[/] (hub reconcile)")
    runtime = open_runtime(load(config_path))
    try:
        result, kpis = reconcile(runtime)
    finally:
        runtime.close()
    try:
        print_table(result, console=console, limit=10, kpis=kpis)
        with report.open("w", encoding="utf-8") as out:
            write_report(result, "html", out, kpis=kpis)
    finally:
        result.spool.close()
    console.print(f"HTML report: {report}", markup=False)


def _links(config_path: Path) -> list[Any]:
    from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
    from handoff_hub.hub.store import StateStore

    loaded = load(config_path)
    store = StateStore(loaded.config.store.url)
    try:
        return store.links(WON_TO_PROJECT)
    finally:
        store.close()


def _print_links(config_path: Path) -> None:
    links = _links(config_path)
    rows = [(lk.source_id, lk.target_key, lk.state, lk.target_url) for lk in links[:15]]
    print_rows(
        f"deal -> project links ({len(links)} in all, first 15)",
        ("opportunity", "project", "state", "url"),
        rows,
    )


app.command("check")(check_command)
app.command("reconcile")(reconcile_command)
app.command("plan")(plan_command)
app.command("adopt")(adopt_command)
app.command("kpis")(kpis_command)
app.command("account")(account_command)
app.command("history")(history_command)
app.command("deploy")(deploy_command)
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(db_app, name="db")
app.command("serve")(serve_command)


@sandbox_app.command("serve")
def sandbox_serve(
    name: Annotated[SandboxName, typer.Argument(help="Sandbox to serve")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 8080,
    records: Annotated[int, typer.Option(help="Records to seed")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the data")] = 0,
    fault_rate: Annotated[float, typer.Option(help="Share of requests given a fault")] = 0.0,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Org to play: default, hard (every switch on), a sandbox's own preset, "
            "or a YAML file of settings",
        ),
    ] = None,
) -> None:
    """Serve a product sandbox on localhost until interrupted."""
    import uvicorn

    from handoff_hub.hub.errors import RegistryError
    from handoff_hub.sandboxes.kit import Faults
    from handoff_hub.sandboxes.kit.server import make_sandbox

    try:
        sandbox = make_sandbox(
            name, seed=seed, records=records, faults=Faults(rate=fault_rate), profile=profile
        )
    except (RegistryError, ConfigError) as exc:
        raise fail(str(exc), 2) from None
    console.print(f"{name} sandbox on http://127.0.0.1:{port}", markup=False)
    if changed := sandbox.profile.switched_on():
        console.print(f"org profile: {changed}", markup=False)
    console.print(f"sandbox-only credentials: {sandbox.credentials}", markup=False)
    uvicorn.run(sandbox.app, host="127.0.0.1", port=port, log_level="info", lifespan="off")


def _piped_help_width() -> None:
    """Help and usage errors piped to a file or a log use the width the tables do, not 80.

    Typer reads ``TERMINAL_WIDTH`` when it first formats help or an error; a
    command that shows neither never imports its formatting (Markdown, Pygments).
    """
    if (
        not sys.stdout.isatty()
        and "COLUMNS" not in os.environ
        and not os.environ.get("TERMINAL_WIDTH")
    ):
        os.environ["TERMINAL_WIDTH"] = str(PIPED_WIDTH)
        if "typer.rich_utils" in sys.modules:
            import typer.rich_utils

            typer.rich_utils.MAX_WIDTH = PIPED_WIDTH


def main() -> None:
    """Console-script entry point."""
    terminal = logging.StreamHandler()
    terminal.setFormatter(VisibleFormatter(LOG_FORMAT))
    terminal.setLevel(logging.WARNING)  # INFO (hub batch lines, Prefect's) goes to the run's logs
    logging.basicConfig(level=logging.WARNING, handlers=[terminal])
    install_redaction()
    _piped_help_width()
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
