"""``hub account NAME-or-ID``: the 360° view of one customer, in the terminal or as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, load
from handoff_hub.hub.cli.console import console, echo_json

if TYPE_CHECKING:
    from handoff_hub.hub.account_view import AccountView, DealView

__all__ = ["account_command", "print_account"]


def account_command(
    account: Annotated[str, typer.Argument(help="Account name (or part of it) or CRM id")],
    config: ConfigOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    audit: Annotated[int, typer.Option(help="Audit events shown")] = 20,
) -> None:
    """One customer and its departments: deals, projects, health, roll-ups, risks, leads, audit."""
    from handoff_hub.hub.account_view import account_view
    from handoff_hub.hub.runtime import open_runtime

    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            view = account_view(runtime, account, audit_limit=audit)
        finally:
            runtime.close()
    if as_json:
        echo_json(view.as_dict(), indent=2)
    else:
        print_account(view)


def print_account(view: AccountView) -> None:
    """The view as Rich tables; every value is printed as text, never as markup."""
    account = view.account
    owner = account.owner.email or account.owner.name if account.owner else None
    head = Text()
    head.append(account.name or "(name not readable)", style="bold")
    head.append(f"  {view.crm} {account.refs.get(view.crm, '')}")
    if owner:
        head.append(f"  owner {owner}")
    if view.parent is not None:
        head.append(f"  department of {view.parent.name or view.account.parent}")
    console.print(head)
    names = {a.refs.get(view.crm, ""): a.name or "" for a in [account, *view.departments]}
    columns = ["deal", "stage", "amount", "close", "project", "health", "status", "due"]
    deals = Table(title=f"Deals ({len(view.deals)})", header_style="bold")
    for column in (["account"] if view.departments else []) + columns:
        deals.add_column(column)
    for deal in view.deals:
        where = [names.get(view.account_of(deal), "")] if view.departments else []
        deals.add_row(*[Text(v) for v in where + _deal_row(deal)])
        for more in deal.more:  # the deal's other projects (a template set)
            blank = [""] * (len(where) + 4)
            deals.add_row(*[Text(v) for v in blank + _deal_row(more)[4:]])
    console.print(deals)
    if view.departments:
        _rollups(view)
    _custom_fields(view)
    _delivery(view)
    if view.audit:
        audit = Table(title="Recent audit events", header_style="bold")
        for column in ("when", "handoff", "action", "where", "record", "outcome"):
            audit.add_column(column)
        for row in view.audit:
            audit.add_row(
                *[
                    Text(str(v or ""))
                    for v in (
                        row.at.strftime("%Y-%m-%d %H:%M"),
                        row.handoff,
                        row.action,
                        f"{row.system} {row.object}",
                        row.record_id,
                        row.outcome,
                    )
                ]
            )
        console.print(audit)


def _deal_row(deal: DealView) -> list[str]:
    opp, project = deal.opportunity, deal.project
    return [
        opp.name,
        opp.stage_label or opp.stage.value,
        str(opp.amount) if opp.amount else "",
        opp.close_date.isoformat() if opp.close_date else "",
        (deal.link.target_key or deal.link.target_id) if deal.link else "",
        project.health.value if project else "",
        project.status.value if project else ("gone" if deal.link else ""),
        project.due.isoformat() if project and project.due else "",
    ]


def _rollups(view: AccountView) -> None:
    """The company, each department and the total: counts, and money per currency."""
    from handoff_hub.hub.account_view import Rollup

    table = Table(title=f"Roll-up: {len(view.departments)} departments", header_style="bold")
    for column in (
        "account",
        "deals",
        "won",
        "projects",
        "open risks",
        "open pipeline",
        "won amount",
        "budget",
    ):
        table.add_column(column)
    for row in view.rollups():
        figures = [row.deals, row.won, row.projects, row.open_risks]
        money = [Rollup.show(m) for m in (row.pipeline, row.won_amount, row.budget)]
        table.add_row(*_texts(row.name, *(str(f) for f in figures), *money))
    console.print(table)


def _custom_fields(view: AccountView) -> None:
    """The org's own fields of each deal beside its project's, a difference marked."""
    table = Table(title="Custom fields", header_style="bold")
    for column in ("deal", "field", "deal value", "project value", ""):
        table.add_column(column)
    for deal in view.deals:
        for name, on_deal, on_project in deal.custom_fields():
            differs = "differs" if deal.project and on_deal != on_project else ""
            table.add_row(*_texts(deal.opportunity.name, name, on_deal, on_project, differs))
    if table.row_count:
        console.print(table)


def _delivery(view: AccountView) -> None:
    items = Table(title="Delivery: milestones, open risks, feedback", header_style="bold")
    for column in ("project", "kind", "item", "state", "lead"):
        items.add_column(column)
    for deal in (v for d in view.deals for v in (d, *d.more)):
        key = deal.link.target_key or deal.link.target_id if deal.link else ""
        for milestone in deal.milestones:
            due = f" due {milestone.due.isoformat()}" if milestone.due else ""
            items.add_row(
                *_texts(key, "milestone", milestone.name, milestone.status.value + due, "")
            )
        for risk in deal.risks:
            items.add_row(*_texts(key, "risk", risk.title, risk.severity.value, ""))
        for feedback, lead in deal.feedback:
            became = (lead.target_url or lead.target_id) if lead else "no lead yet"
            items.add_row(*_texts(key, feedback.feedback_kind.value, feedback.text, "", became))
    if items.row_count:
        console.print(items)


def _texts(*values: str) -> list[Text]:
    return [Text(v) for v in values]
