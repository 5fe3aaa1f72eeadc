"""Salesforce sandbox: the emulated API (``app``), its data, org profiles and contract answers."""
