"""What differs from one real org to another, for the sandbox to play (hub.sandbox_profile)."""

from __future__ import annotations

from typing import ClassVar

from hub.sandbox_profile import OrgProfile

__all__ = ["SalesforceOrgProfile"]


class SalesforceOrgProfile(OrgProfile):
    """The switches of the salesforce sandbox's org; the defaults are the demo's org."""

    product: ClassVar[str] = "salesforce"
