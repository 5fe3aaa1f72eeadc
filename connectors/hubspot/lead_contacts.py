"""The contact each new lead hangs from: HubSpot refuses a lead without one.

A lead write may name its person (``_contact: {email, name}``, the
feedback's reporter) and its company (``_company: {id, name}``). In order:
the contact with the reporter's e-mail (one batch read, case-insensitive),
created when absent; a contact of the lead's company; else the fallback the
config chooses (``lead_contact_fallback``): a contact named for the company,
or a contact in lifecycle stage lead standing for the lead itself. Contacts
the connector creates carry the stamp property (the lead's source id, or
``<system>:reporter:<email>``), so a rerun after a crash finds them by e-mail
or stamp instead of creating them again; one HubSpot already has (409,
``Existing ID``) is taken as found. No call is made per lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.connectors.hubspot import settings
from handoff_hub.connectors.hubspot.config import HubSpotConfig
from handoff_hub.connectors.hubspot.records import write_properties
from handoff_hub.hub.connector import WriteResult

__all__ = ["ContactNeed", "Directory", "contact_needs", "resolve_contacts"]

_EXISTING = re.compile(r"Existing ID: (\d+)")


@dataclass(frozen=True)
class ContactNeed:
    """What one lead offers to find or make its contact from."""

    email: str | None
    name: str | None
    company_id: str | None
    company_name: str | None
    lead_name: str | None
    stamp: str | None
    """The lead's source id (its stamp property), e.g. ``pm:DEL-12``."""

    @property
    def system(self) -> str:
        """The system the lead's source id names (``pm``), for the reporter contact's stamp."""
        head, sep, _ = (self.stamp or "").partition(":")
        return head if sep and head else "hub"


@dataclass(frozen=True)
class Directory:
    """The reads and writes contact resolution needs (the connector's own)."""

    by_email: Callable[[Sequence[str]], dict[str, str]]
    """Lower-cased e-mail -> contact id."""
    by_stamp: Callable[[Sequence[str]], dict[str, str]]
    """Stamp -> contact id."""
    company_contacts: Callable[[Sequence[str]], dict[str, list[str]]]
    """Company id -> its contacts' ids."""
    create: Callable[[Sequence[Mapping[str, Any]]], list[WriteResult]]
    """Batch create of contacts."""


def contact_needs(
    records: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Sequence[str]]], stamp: str
) -> list[ContactNeed | None]:
    """Per lead, what its contact is found from; None for a lead that names its contact."""
    needs: list[ContactNeed | None] = []
    for record, links in zip(records, wanted, strict=True):
        if links.get(settings.CONTACTS):
            needs.append(None)
            continue
        person = _mapping(record.get(settings.CONTACT_DIRECTIVE))
        company = _mapping(record.get("_company"))
        properties = write_properties(record)
        companies = links.get(settings.COMPANIES) or []
        needs.append(
            ContactNeed(
                email=_text(person.get("email")),
                name=_text(person.get("name")),
                company_id=companies[0] if companies else None,
                company_name=_text(company.get("name")),
                lead_name=_text(properties.get(settings.LEAD_NAME)),
                stamp=_text(properties.get(stamp)),
            )
        )
    return needs


def resolve_contacts(
    needs: Sequence[ContactNeed | None], directory: Directory, config: HubSpotConfig
) -> dict[int, str | WriteResult]:
    """Lead index -> the id of its contact, or the failed result of a lead left without one.

    A reporter whose contact HubSpot refuses to create (an e-mail it finds
    invalid) does not sink the lead: it hangs from its company's contact or
    the fallback instead.
    """
    open_ = {n: need for n, need in enumerate(needs) if need is not None}
    emails = {n: need.email.casefold() for n, need in open_.items() if need.email}
    known = directory.by_email(list(dict.fromkeys(emails.values()))) if emails else {}
    found: dict[int, str | WriteResult] = {n: known[e] for n, e in emails.items() if e in known}
    made = _create({n: open_[n] for n in emails if n not in found}, directory, config)
    # A contact that may exist all the same (unsure) is not replaced by a fallback.
    refused = {n for n, r in made.items() if isinstance(r, WriteResult) and not r.unsure}
    found.update({n: r for n, r in made.items() if n not in refused})
    rest = {n: need for n, need in open_.items() if n not in found}
    members = _company_contacts(rest, directory)
    found.update(members)
    fallback = {n: need for n, need in rest.items() if n not in members}
    stamped = _stamped(fallback, directory)
    found.update(stamped)
    missing = {n: need for n, need in fallback.items() if n not in stamped}
    found.update(_create(missing, directory, config, standing_in=True))
    return {
        n: WriteResult(index=n, ok=False, error=r.error) if isinstance(r, WriteResult) else r
        for n, r in found.items()
    }


def _company_contacts(needs: Mapping[int, ContactNeed], directory: Directory) -> dict[int, str]:
    companies = [need.company_id for need in needs.values() if need.company_id]
    if not companies:
        return {}
    members = directory.company_contacts(list(dict.fromkeys(companies)))
    return {
        n: members[need.company_id][0]
        for n, need in needs.items()
        if need.company_id and members.get(need.company_id)
    }


def _stamped(needs: Mapping[int, ContactNeed], directory: Directory) -> dict[int, str]:
    stamps = [need.stamp for need in needs.values() if need.stamp]
    known = directory.by_stamp(list(dict.fromkeys(stamps))) if stamps else {}
    return {n: known[need.stamp] for n, need in needs.items() if need.stamp in known}


def _create(
    needs: Mapping[int, ContactNeed],
    directory: Directory,
    config: HubSpotConfig,
    *,
    standing_in: bool = False,
) -> dict[int, str | WriteResult]:
    """Create the missing contacts in one batch: one per e-mail, or one per fallback lead."""
    bodies: dict[str, dict[str, Any]] = {}
    wants: dict[int, str] = {}
    for n, need in needs.items():
        if standing_in:
            key = f"lead:{n}"
            bodies[key] = _standing_in(need, config)
        else:
            assert need.email is not None
            key = need.email.casefold()
            bodies.setdefault(key, _reporter(need, config.id_property))
        wants[n] = key
    if not bodies:
        return {}
    keys = list(bodies)
    results = dict(zip(keys, directory.create([bodies[k] for k in keys]), strict=True))
    return {n: _contact_or_failure(n, results[key]) for n, key in wants.items()}


def _reporter(need: ContactNeed, stamp: str) -> dict[str, Any]:
    assert need.email is not None
    email = need.email.casefold()
    first, _, last = (need.name or "").strip().rpartition(" ")
    body: dict[str, Any] = {settings.CONTACT_EMAIL: email, stamp: f"{need.system}:reporter:{email}"}
    if last:
        body["lastname"] = last
    if first:
        body["firstname"] = first
    return body


def _standing_in(need: ContactNeed, config: HubSpotConfig) -> dict[str, Any]:
    """The contact of a lead with no reporter e-mail and no contact at its company."""
    company = need.company_name or settings.UNKNOWN_COMPANY
    body: dict[str, Any] = {"company": company}
    if need.stamp:
        body[config.id_property] = need.stamp
    if config.lead_contact_fallback == "lifecycle_lead":
        body |= {"lastname": need.lead_name or company, "lifecyclestage": settings.LIFECYCLE_LEAD}
    else:
        body["lastname"] = company
    if need.company_id:
        body["_associate"] = {settings.COMPANIES: [need.company_id]}
    return body


def _contact_or_failure(index: int, result: WriteResult) -> str | WriteResult:
    if result.ok and result.id:
        return result.id
    existing = _EXISTING.search(result.error or "")
    if existing is not None and (result.error or "").startswith("CONFLICT"):
        return existing.group(1)
    return WriteResult(
        index=index,
        ok=False,
        error=f"no contact to associate the lead with: {result.error}",
        unsure=result.unsure,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
