"""The handoffs between CRM and project tool, as plain Python (flows call these).

:mod:`handoff_hub.hub.handoffs.catalogue` lists them.
"""
