"""``hub check`` for HubSpot: token scopes, properties, won stages, owners, daily allowance.

Read-only: a private app's token is introspected with
``POST /oauth/v2/private-apps/get/access-token-info`` (its scopes); properties
come from ``GET /crm/v3/properties/{object}`` (type, and
``modificationMetadata.readOnlyValue`` for the ones the hub writes); stages
from ``GET /crm/v3/pipelines/deals`` (won: closed with probability 1.0);
owners from ``GET /crm/v3/owners`` (``archived=true``: deactivated users, who
still own records); the allowance from the private-app daily usage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.connectors.hubspot import settings
from handoff_hub.connectors.hubspot.client import HubSpotClient
from handoff_hub.connectors.hubspot.enrich import outcome
from handoff_hub.connectors.hubspot.records import property_name
from handoff_hub.hub.connector import FieldNeed, PreflightNeeds
from handoff_hub.hub.preflight.findings import Findings, type_fits

__all__ = ["hubspot_preflight", "owner_emails"]

_WON = "won-to-project"
_SCOPED = (settings.DEALS, settings.COMPANIES, settings.CONTACTS, settings.LEADS)


def hubspot_preflight(
    client: HubSpotClient,
    needs: PreflightNeeds,
    *,
    token: str | None,
    describe: Any,
) -> Findings:
    """Every finding about the portal; an :class:`AuthError` when the token is refused.

    ``token``: the private app's token (None for an OAuth app, whose scopes
    the API calls themselves prove); ``describe``: the connector's cached
    properties of an object.
    """
    found = Findings(needs.system)
    account = client.account_details()
    found.ok("credentials", f"account {account.get('portalId', '?')} answers")
    if token is not None:
        _scopes(client.token_info(token), needs, found)
    _currency(account, describe, found)
    _fields(describe, needs.fields, found)
    if needs.won_filter is not None:
        _won_stages(client.pipelines(settings.DEALS), found)
    _owners(client, found)
    _allowance(client, found)
    return found


def _scopes(info: Mapping[str, Any], needs: PreflightNeeds, found: Findings) -> None:
    held = {str(s) for s in info.get("scopes") or []}
    wanted = {"crm.objects.owners.read"}
    for need in needs.fields:
        if need.object in _SCOPED:
            wanted.add(f"crm.objects.{need.object}.{'write' if need.write else 'read'}")
    lacking = sorted(wanted - held)
    if lacking:
        found.problem("scopes", f"the private app lacks {', '.join(lacking)}")
    else:
        found.ok("scopes", f"{len(wanted)} needed scope(s) granted")


def _currency(account: Mapping[str, Any], describe: Any, found: Findings) -> None:
    company = account.get("companyCurrency") or "unknown"
    names = {str(p.get("name")) for p in describe(settings.DEALS)}
    mode = "multi-currency" if "deal_currency_code" in names else "single currency"
    found.ok("currency", f"{mode}; company currency {company}")


def _fields(describe: Any, needs: Sequence[FieldNeed], found: Findings) -> None:
    missing: dict[FieldNeed, str] = {}
    for need in needs:
        name = property_name(need.path)
        if name is None or need.object == settings.OWNERS_OBJECT:
            continue
        prop = next((p for p in describe(need.object) if p.get("name") == name), None)
        why = _property_problem(prop, need)
        if why is not None:
            missing[_strict(need) if prop is not None else need] = why
    found.fields(needs, missing)


def _property_problem(prop: Mapping[str, Any] | None, need: FieldNeed) -> str | None:
    if prop is None:
        return "the portal has no such property"
    kind = str(prop.get("type") or "")
    if not type_fits(need.type, kind):
        return f"a {kind} property; the mapping has {need.type}"
    read_only = (prop.get("modificationMetadata") or {}).get("readOnlyValue") is True
    if need.write and read_only:
        return "a read-only property (modificationMetadata.readOnlyValue)"
    return None


def _strict(need: FieldNeed) -> FieldNeed:
    """A present property that cannot take the value fails every write naming it."""
    if not need.write:
        return need
    return FieldNeed(need.entity, need.object, need.path, need.write, need.type, True)


def _won_stages(pipelines: Sequence[Mapping[str, Any]], found: Findings) -> None:
    lacking = []
    won = 0
    for pipeline in pipelines:
        stages = [s for s in pipeline.get("stages") or [] if isinstance(s, Mapping)]
        count = sum(outcome(s.get("metadata") or {}) == "won" for s in stages)
        won += count
        if not count:
            lacking.append(str(pipeline.get("label") or pipeline.get("id")))
    if not pipelines or lacking:
        names = ", ".join(lacking) or "none"
        found.problem(
            "won stages",
            f"deal pipelines without a won stage (closed, probability 1.0): {names}",
            _WON,
        )
    else:
        found.ok("won stages", f"{won} won stage(s) in {len(pipelines)} deal pipeline(s)", _WON)


def _owners(client: HubSpotClient, found: Findings) -> None:
    active = client.owners()
    archived = client.owners(archived=True)
    if archived:
        found.warn(
            "owners",
            f"{len(archived)} deactivated owner(s) (archived) still own records; HubSpot "
            "refuses them as owners of new records, so their tasks go unassigned",
        )
    else:
        found.ok("owners", f"{len(active)} active owner(s), none deactivated")


def _allowance(client: HubSpotClient, found: Findings) -> None:
    daily = next((u for u in client.daily_usage() if u.get("name") == "api-calls-daily"), {})
    limit, used = daily.get("usageLimit"), daily.get("currentUsage")
    if isinstance(limit, int) and isinstance(used, int):
        found.headroom("daily API calls", max(0, limit - used), limit)
    else:
        found.headroom("daily API calls", None, None)


def owner_emails(client: HubSpotClient) -> list[str]:
    """The active owners' e-mail addresses, lower-cased."""
    return sorted({str(o["email"]).lower() for o in client.owners() if o.get("email")})
