"""The account a connector talks to: record links and the account's currency.

A person opens a record at ``{app}/contacts/{portal}/record/{type}/{id}``.
The portal (account) id comes from the ``portal_id`` setting, else from
``GET /account-info/v3/details``, read once, whose ``uiDomain`` also tells
the web app's host (``app-eu1.hubspot.com`` for EU-hosted accounts) and
whose ``companyCurrency`` is the currency of amounts that carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from handoff_hub.connectors.hubspot import settings

if TYPE_CHECKING:
    from handoff_hub.connectors.hubspot.client import HubSpotClient
    from handoff_hub.connectors.hubspot.config import HubSpotConfig

__all__ = ["Portal"]


class Portal:
    """The account a connector talks to, for record links and its currency."""

    def __init__(self, client: HubSpotClient, config: HubSpotConfig) -> None:
        self.client = client
        self.config = config
        self._details: Mapping[str, Any] | None = None

    def portal_id(self) -> int:
        """The account id: the setting, else the account details (read once)."""
        if self.config.portal_id is not None:
            return self.config.portal_id
        return int(self._account().get("portalId") or 0)

    def currency(self) -> str | None:
        """The account's company currency (ISO 4217), from the account details (read once)."""
        value = str(self._account().get("companyCurrency") or "").strip().upper()
        return value or None

    def record_url(self, object_name: str, record_id: str) -> str:
        """The web app's page of one record."""
        portal = self.portal_id()
        type_id = settings.OBJECT_TYPE_IDS.get(object_name, object_name)
        return settings.RECORD_URL.format(
            app=self._app_url(),
            portal=portal,
            type_id=quote(type_id, safe=""),
            id=quote(str(record_id), safe=""),
        )

    def _app_url(self) -> str:
        domain = self._details.get("uiDomain") if self._details is not None else None
        return f"https://{domain}" if domain else self.config.app_url.rstrip("/")

    def _account(self) -> Mapping[str, Any]:
        if self._details is None:
            self._details = self.client.account_details()
        return self._details
