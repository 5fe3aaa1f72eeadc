"""Salesforce connector: REST API client, Connector implementation and sandbox."""

from handoff_hub.connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
