"""The `hub` command: the composition root, where connectors, sandboxes and flows meet the core."""
