"""``hub check`` for Salesforce: sign-in, API allocation, currency mode, fields, won stages.

Read-only: ``GET /limits``, ``GET /sobjects/{type}/describe`` (a field the
integration user cannot see is absent from it, as field-level security hides
it), and SOQL on ``OpportunityStage`` and ``User``. A field the hub writes must
be ``createable`` or ``updateable`` for the integration user, else Salesforce
refuses the whole record (INVALID_FIELD_FOR_INSERT_UPDATE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.connectors.salesforce import settings
from handoff_hub.connectors.salesforce.client import SalesforceClient
from handoff_hub.connectors.salesforce.org import OrgFacts
from handoff_hub.hub.connector import FieldNeed, PreflightNeeds
from handoff_hub.hub.errors import AuthError
from handoff_hub.hub.http.query import Condition, soql
from handoff_hub.hub.preflight.findings import Findings, type_fits

__all__ = ["owner_emails", "salesforce_preflight"]

_WON = "won-to-project"
OWNER_SAMPLE = 2000
SHARING_SAMPLE = 200
_ABSENT = "the org has no such field (not created, or hidden from the integration user)"


def salesforce_preflight(
    client: SalesforceClient, org: OrgFacts, needs: PreflightNeeds
) -> Findings:
    """Every finding about the org; an :class:`AuthError` when the sign-in is refused."""
    found = Findings(needs.system)
    daily = client.limits().get(settings.DAILY_REQUESTS) or {}
    found.ok("credentials", f"signed in (REST API v{client.version})")
    _currency(org, needs, found)
    _fields(org, needs.fields, found)
    if needs.won_filter is not None:
        _won_stages(client, found)
        _account_sharing(client, found)
    found.headroom("daily API requests", _int(daily.get("Remaining")), _int(daily.get("Max")))
    return found


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _currency(org: OrgFacts, needs: PreflightNeeds, found: Findings) -> None:
    corporate = org.default_currency() or "unknown"
    if org.has(settings.DEAL_OBJECT, settings.CURRENCY_FIELD):
        found.ok("currency", f"multi-currency on; corporate currency {corporate}")
        return
    mapped = any(n.path == settings.CURRENCY_FIELD for n in needs.fields)
    detail = f"multi-currency off: every amount is in the corporate currency {corporate}"
    if mapped:
        found.warn("currency", detail + " (the mapping's CurrencyIsoCode is left out)")
    else:
        found.ok("currency", detail)


def _fields(org: OrgFacts, needs: Sequence[FieldNeed], found: Findings) -> None:
    missing: dict[FieldNeed, str] = {}
    for need in needs:
        why = _field_problem(org, need)
        if why is not None:
            strict = need.write and org.has(need.object, need.path)
            missing[_needed(need) if strict else need] = why
    found.fields(needs, missing)


def _field_problem(org: OrgFacts, need: FieldNeed) -> str | None:
    try:
        if not org.has(need.object, need.path):
            return _ABSENT
    except AuthError as exc:
        if exc.status != 403:
            raise
        return f"the integration user cannot describe {need.object}"
    if "." in need.path:
        return None
    field = _described(org.describe(need.object), need.path)
    kind = str(field.get("type") or "")
    if not type_fits(need.type, kind):
        return f"a {kind} field; the mapping has {need.type}"
    if need.write and not (field.get("createable") or field.get("updateable")):
        return "read-only for the integration user (neither createable nor updateable)"
    return None


def _described(describe: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    folded = name.casefold()
    return next(f for f in describe["fields"] if str(f.get("name", "")).casefold() == folded)


def _needed(need: FieldNeed) -> FieldNeed:
    return FieldNeed(need.entity, need.object, need.path, need.write, need.type, True)


def _won_stages(client: SalesforceClient, found: Findings) -> None:
    where = [Condition("IsActive", "=", True), Condition("IsWon", "=", True)]
    query = soql(["MasterLabel"], settings.STAGE_OBJECT, where=where)
    labels = [
        str(r.get("MasterLabel"))
        for body in client.query(query, batch_size=settings.QUERY_BATCH_SIZE_MIN)
        for r in body["records"]
    ]
    if labels:
        found.ok("won stages", f"{len(labels)} active won stage(s): {', '.join(labels)}", _WON)
    else:
        found.problem("won stages", "no active OpportunityStage is won: no deal can turn won", _WON)


def _account_sharing(client: SalesforceClient, found: Findings) -> None:
    """Deals whose account the integration user cannot see (sharing): read as null."""
    query = soql(
        ["AccountId", "Account.Name"],
        settings.DEAL_OBJECT,
        order_by=["SystemModstamp DESC"],
        limit=SHARING_SAMPLE,
    )
    records = [r for body in client.query(query, batch_size=200) for r in body["records"]]
    linked = [r for r in records if r.get("AccountId")]
    hidden = [r for r in linked if not r.get("Account")]
    if hidden:
        found.warn(
            "sharing",
            f"{len(hidden)} of the latest {len(linked)} deals with an account point to one the "
            "integration user cannot see (sharing): their projects get no customer name; "
            "share the accounts with the user",
            _WON,
        )
    else:
        found.ok("sharing", f"the accounts of the latest {len(linked)} deals are visible", _WON)


def owner_emails(client: SalesforceClient) -> list[str]:
    """The e-mail addresses of the active users who own the latest deals, lower-cased.

    The latest :data:`OWNER_SAMPLE` opportunities by modification: SOQL cannot
    group by owner in one call, and a pre-flight must not read a large org whole.
    """
    query = soql(
        ["Owner.Email", "Owner.IsActive"],
        settings.DEAL_OBJECT,
        order_by=["SystemModstamp DESC"],
        limit=OWNER_SAMPLE,
    )
    emails = set()
    for body in client.query(query, batch_size=settings.QUERY_BATCH_SIZE_MAX):
        for record in body["records"]:
            owner = record.get("Owner") or {}
            if owner.get("IsActive") and owner.get("Email"):
                emails.add(str(owner["Email"]).lower())
    return sorted(emails)
