"""The handoffs between CRM and project tool, as plain Python (flows call these).

:mod:`hub.handoffs.catalogue` lists them.
"""
