"""HubSpot connector: CRM API client, Connector implementation and sandbox."""

from handoff_hub.connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
