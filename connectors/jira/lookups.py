"""Finding issues and users by value: stamp labels, field values, e-mail addresses.

Values go into JQL only through :mod:`handoff_hub.hub.http.query`; text fields, which JQL
searches with ``~`` (word search), are searched with the value's text-search
operators escaped and the hits compared exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.jira import settings
from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.connectors.jira.values import jql_name, lucene_escape, match_value
from handoff_hub.hub.http import chunks
from handoff_hub.hub.http.query import Condition, jql, search_text

if TYPE_CHECKING:
    from handoff_hub.connectors.jira.client import JiraClient

__all__ = ["Lookups"]

_OLDEST_FIRST = ("created ASC", "key ASC")


class Lookups:
    """Searches that map values to issue keys or account ids."""

    def __init__(self, client: JiraClient) -> None:
        self.client = client

    def search_all(self, query: str, fields: Sequence[str]) -> list[Mapping[str, Any]]:
        """Every issue a query finds, all pages."""
        pages = self.client.search(query, fields, page_size=settings.SEARCH_PAGE_SIZE)
        return [issue for page in pages for issue in page["issues"]]

    def by_label(self, source_ids: Sequence[str]) -> dict[str, str]:
        """Source id -> key of the oldest issue carrying its stamp label (exactly)."""
        labels = {stamp_label(v): v for v in source_ids}
        found: dict[str, str] = {}
        for batch in chunks(sorted(labels), settings.IDS_PER_QUERY):
            query = jql([Condition("labels", "IN", list(batch))], order_by=_OLDEST_FIRST)
            for issue in self.search_all(query, ["labels"]):
                for label in (issue.get("fields") or {}).get("labels") or []:
                    if label in labels:
                        found.setdefault(labels[label], str(issue["key"]))
        return found

    def by_field(self, field: str, values: Sequence[str], *, text: bool) -> dict[str, str]:
        """Value -> key of the oldest issue whose ``field`` holds it.

        ``IN`` for fields JQL compares exactly; one ``~`` query per value for
        text fields (Jira refuses ``=`` on them).
        """
        found: dict[str, str] = {}
        if text:
            # A blank value has no word to search for (Jira refuses an empty ~).
            for value in (v for v in values if v.strip()):
                condition = Condition(jql_name(field), "~", lucene_escape(value))
                for issue in self.search_all(jql([condition], order_by=_OLDEST_FIRST), [field]):
                    match_value(issue, field, [value], found)
            return found
        for batch in chunks(values, settings.IDS_PER_QUERY):
            condition = Condition(jql_name(field), "IN", list(batch))
            for issue in self.search_all(jql([condition], order_by=_OLDEST_FIRST), [field]):
                match_value(issue, field, batch, found)
        return found

    def users(self, emails: Sequence[str]) -> dict[str, str]:
        """E-mail -> account id of active Atlassian accounts (unknown ones left out).

        A blank address is left out unasked: Jira refuses a user search without a query.
        """
        found: dict[str, str] = {}
        for email in (e for e in dict.fromkeys(emails) if e.strip()):
            account = _pick_user(self.client.search_users(search_text(email)), email)
            if account is not None:
                found[email] = account
        return found


def _pick_user(users: Sequence[Mapping[str, Any]], email: str) -> str | None:
    people = [
        u
        for u in users
        if u.get("active", True) and u.get("accountType", "atlassian") == "atlassian"
    ]
    exact = [u for u in people if str(u.get("emailAddress", "")).casefold() == email.casefold()]
    hidden = [u for u in people if not u.get("emailAddress")]
    match = exact or (hidden if len(people) == 1 else [])
    account = match[0].get("accountId") if match else None
    return str(account) if account else None
