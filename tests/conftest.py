"""Shared fixtures: seeded sandboxes, hub configs pointed at them, runtimes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import LoadedConfig, load_config
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.kit import Sandbox
from handoff_hub.sandboxes.kit.server import make_sandbox

# Prefect's settings must be in place before anything imports it (DESIGN.md: the
# embedded server needs up to ~22 s cold; analytics would try DNS).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


SANDBOX_HOSTS = {"salesforce": "http://salesforce.sandbox", "jira": "http://jira.sandbox"}


@pytest.fixture
def sf_sandbox() -> Sandbox:
    return make_sandbox("salesforce", seed=11, records=30)


@pytest.fixture
def jira_sandbox() -> Sandbox:
    return make_sandbox("jira", seed=11, records=10)


def sandbox_config(tmp_path: Path, crm: Sandbox, pm: Sandbox, *, env_prefix: str) -> Path:
    targets = {crm.name: (SANDBOX_HOSTS[crm.name], crm), pm.name: (SANDBOX_HOSTS[pm.name], pm)}
    return write_sandbox_config(
        example_for(crm.name, pm.name), tmp_path, targets, env_prefix=env_prefix
    )


@pytest.fixture
def loaded(
    tmp_path: Path, sf_sandbox: Sandbox, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> LoadedConfig:
    for name in list(os.environ):
        if name.startswith("HUB_TEST_"):
            monkeypatch.delenv(name)
    path = sandbox_config(tmp_path, sf_sandbox, jira_sandbox, env_prefix="HUB_TEST")
    return load_config(path, known_connectors=known_connectors())


@pytest.fixture
def runtime(loaded: LoadedConfig, sf_sandbox: Sandbox, jira_sandbox: Sandbox) -> Iterator[Runtime]:
    rt = open_runtime(
        loaded, transports={"crm": sf_sandbox.transport(), "pm": jira_sandbox.transport()}
    )
    yield rt
    rt.close()


POSTGRES_URL = os.environ.get(
    "HUB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL on the real PostgreSQL server, in a schema of its own, dropped after.

    Skipped where no server answers, except under CI=true (.ci/run), where it fails.
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    schema = f"hub_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        engine.dispose()
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {exc.orig}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
