"""The shared contract suite, once per registered connector (see tests/contract/conftest.py)."""

from hub.testing.contract_suite import *  # noqa: F403
