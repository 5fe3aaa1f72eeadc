"""Customers as the CRM nests them: a company and its departments.

A department is an account whose ``parent`` (Salesforce ``ParentId``, HubSpot's
parent company) names another; the top-level customer is the account reached
by following parents up. One streamed read of the CRM's accounts (id, name,
parent) gives the whole tree; a parent the hub cannot read (sharing) ends the
walk at the last account it can, and a loop (bad data) at the account it
started from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from handoff_hub.hub.connector import Connector
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Account

__all__ = ["Customers", "read_customers"]


@dataclass
class Customers:
    """The CRM's accounts by id, each with its parent, and the children of each."""

    accounts: dict[str, Account] = field(default_factory=dict)
    system: str = "crm"
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, accounts: Iterable[Account], system: str) -> Customers:
        """The tree of ``accounts`` (unified, with refs in ``system``)."""
        tree = cls(system=system)
        for account in accounts:
            if ref := account.ref(system):
                tree.accounts[ref] = account
        for ref, account in tree.accounts.items():
            if account.parent:
                tree.children.setdefault(account.parent, []).append(ref)
        return tree

    def top(self, account_id: str) -> str:
        """The top-level customer of an account (itself when it has no readable parent)."""
        seen = {account_id}
        current = account_id
        while (parent := self._parent(current)) is not None and parent not in seen:
            seen.add(parent)
            current = parent
        return current

    def departments(self, account_id: str) -> list[str]:
        """Every account below ``account_id`` (departments, theirs, ...), by name."""
        found: list[str] = []
        queue = list(self.children.get(account_id, []))
        while queue:
            ref = queue.pop(0)
            if ref in found or ref == account_id:
                continue
            found.append(ref)
            queue.extend(self.children.get(ref, []))
        return sorted(found, key=lambda ref: (self.name(ref).casefold(), ref))

    def name(self, account_id: str) -> str:
        """The account's name, or its id where the hub cannot read it."""
        account = self.accounts.get(account_id)
        return (account.name if account else None) or account_id

    def _parent(self, account_id: str) -> str | None:
        account = self.accounts.get(account_id)
        if account is None or not account.parent or account.parent not in self.accounts:
            return None
        return account.parent


def read_customers(connector: Connector, spec: MappingSpec, system: str) -> Customers:
    """Every account of the CRM with its parent, in one streamed read."""
    entity = spec.entity("Account")
    fields = entity.source_fields()
    accounts: list[Account] = []
    for page in connector.read_changes(
        entity.object, since=None, fields=fields, where=entity.where or None
    ):
        items, _ = to_unified_many(spec, "Account", [r.raw for r in page.records])
        accounts.extend(a for a in items if isinstance(a, Account))
    return Customers.of(accounts, system)
