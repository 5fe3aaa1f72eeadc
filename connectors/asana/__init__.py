"""Asana connector: tasks and delivery projects over the REST API 1.0."""

from connectors.asana.connector import AsanaConnector

__all__ = ["AsanaConnector"]
