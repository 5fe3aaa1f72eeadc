"""Salesforce connector: REST API client, Connector implementation and sandbox."""

from connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
