"""HubSpot connector: CRM API client, Connector implementation and sandbox."""

from connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
