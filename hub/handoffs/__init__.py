"""The handoffs between CRM and project tool, as plain Python (flows call these)."""

from hub.handoffs.won_to_project import WonToProject

__all__ = ["WonToProject"]
