"""The sandbox's account-level endpoints: account info, API usage, owners, schema.

``GET /account-info/v3/details`` and ``.../api-usage/daily/private-apps``;
``GET /crm/v3/owners`` (``limit`` up to 500, ``after``, ``email``,
``archived``: the deactivated users instead of the active ones); the
pipelines and properties of an object type. Pure functions over the store.
"""

from __future__ import annotations

from typing import Any

from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.limits import Throttle
from handoff_hub.sandboxes.hubspot.schema import PIPELINES, ObjectDef
from handoff_hub.sandboxes.hubspot.store import RecordStore

__all__ = [
    "MAX_OWNERS",
    "account_details",
    "daily_usage",
    "one_owner",
    "one_pipeline",
    "one_property",
    "owners_page",
    "pipelines",
    "properties",
    "stages",
]

MAX_OWNERS = 500
Reply = tuple[int, Any]


def account_details(store: RecordStore) -> Reply:
    """The portal: id, time zone, currencies and where its web app lives."""
    return 200, {
        "portalId": store.portal_id,
        "accountType": "STANDARD",
        "timeZone": "Europe/Berlin",
        "companyCurrency": "EUR",
        "additionalCurrencies": ["USD", "GBP", "CHF"],
        "utcOffset": "+01:00",
        "utcOffsetMilliseconds": 3_600_000,
        "uiDomain": "app-eu1.hubspot.com",
        "dataHostingLocation": "eu1",
    }


def daily_usage(store: RecordStore, throttle: Throttle) -> Reply:
    """Private-app calls made today against the daily allowance."""
    return 200, {
        "results": [
            {
                "name": "api-calls-daily",
                "usageLimit": throttle.limits.daily,
                "currentUsage": throttle.used_today,
                "collectedAt": store.moment(),
                "fetchStatus": "SUCCESS",
            }
        ]
    }


def owners_page(
    store: RecordStore, *, limit: int, after: int, email: str | None, archived: bool = False
) -> Reply:
    """One page of the active owners (or only the archived ones), optionally by e-mail."""
    if not 1 <= limit <= MAX_OWNERS:
        raise ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_OWNERS}")
    owners = [
        o
        for o in store.owners.values()
        if bool(o.get("archived")) == archived
        and (email is None or str(o["email"]).casefold() == email.casefold())
    ]
    page: dict[str, Any] = {"results": owners[after : after + limit]}
    if after + limit < len(owners):
        following = str(after + limit)
        shown = "&archived=true" if archived else ""
        link = f"https://api.hubapi.com/crm/v3/owners/?limit={limit}&after={following}{shown}"
        page["paging"] = {"next": {"after": following, "link": link}}
    return 200, page


def one_owner(store: RecordStore, owner_id: str, *, archived: bool = False) -> Reply:
    """``GET /crm/v3/owners/{ownerId}`` (a deactivated user only with ``archived=true``)."""
    owner = store.owners.get(owner_id)
    if owner is None or bool(owner.get("archived")) != archived:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"No owner with id {owner_id}")
    return 200, owner


def pipelines(obj: ObjectDef) -> Reply:
    """``GET /crm/v3/pipelines/{objectType}`` (objects without pipelines have none)."""
    found = PIPELINES.get(obj.name, ())
    return 200, {"results": [p.as_api(n) for n, p in enumerate(found)]}


def one_pipeline(obj: ObjectDef, pipeline_id: str) -> Reply:
    """``GET /crm/v3/pipelines/{objectType}/{pipelineId}``."""
    found = PIPELINES.get(obj.name, ())
    for order, pipeline in enumerate(found):
        if pipeline.id == pipeline_id:
            return 200, pipeline.as_api(order)
    raise ApiError(404, "OBJECT_NOT_FOUND", f"No pipeline {pipeline_id} for {obj.upper}")


def stages(obj: ObjectDef, pipeline_id: str) -> Reply:
    """``GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages``."""
    _, pipeline = one_pipeline(obj, pipeline_id)
    return 200, {"results": pipeline["stages"]}


def properties(obj: ObjectDef) -> Reply:
    """``GET /crm/v3/properties/{objectType}``."""
    return 200, {"results": [p.as_api(n) for n, p in enumerate(obj.properties)]}


def one_property(obj: ObjectDef, name: str) -> Reply:
    """``GET /crm/v3/properties/{objectType}/{propertyName}``."""
    spec = obj.prop(name)
    if spec is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
    return 200, spec.as_api(obj.properties.index(spec))
