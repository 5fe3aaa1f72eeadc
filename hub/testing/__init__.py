"""Test helpers shipped with the hub, for connector authors (imported by tests only)."""
