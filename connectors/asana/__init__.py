"""Asana connector: tasks and delivery projects over the REST API 1.0."""

from handoff_hub.connectors.asana.connector import AsanaConnector

__all__ = ["AsanaConnector"]
