"""Jira Cloud connector: issues, epics and delivery projects over REST API v3."""

from handoff_hub.connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
