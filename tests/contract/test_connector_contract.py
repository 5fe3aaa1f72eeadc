"""The shared contract suite, once per registered connector (see tests/contract/conftest.py)."""

from handoff_hub.sandboxes.kit.contract_suite import *  # noqa: F403
