"""What a connector hands the shared contract suite (tests/contract).

Every connector package, ours or a third party's, registers a zero-argument
factory returning a :class:`ContractCase` under the entry-point group
``handoff_hub.contract``. The suite then runs the same checks against every
connector and its sandbox: read since a cursor, read by id, search by stamped
id, batch create and update across several batches, paging across several
pages, 401, 404, 429 then success, 5xx then success; each under the
sandbox's default org profile and under its ``hard`` one.

The case knows the product's payloads; the suite knows only the connector
protocol, so a connector passes by speaking its API correctly, not by
special-casing the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig
from handoff_hub.hub.connector import Connector, FilterValue
from handoff_hub.hub.registry import connector_class
from handoff_hub.sandboxes.kit import Faults, Sandbox

__all__ = ["ContractCase", "build_connector"]


@dataclass(frozen=True)
class ContractCase:
    """One connector's answers to the contract suite.

    Attributes:
        connector: Registered connector name (``handoff_hub.connectors``).
        make_sandbox: ``(seed, records, faults, profile) -> Sandbox`` seeded for the
            case; ``profile`` is an org-profile preset name, run under ``default``
            and ``hard`` (every switch on: the orgs least kind to a connector).
        object_name: Object the suite reads and writes (``Account``, ``companies``, ``issue``).
        new_record: ``(n, stamp) -> payload`` for create: record number ``n``,
            carrying ``stamp`` in ``external_id_field`` so it can be found again.
        change: ``n -> payload`` for update of record ``n``.
        changed: ``(raw record, n) -> bool``: does the read record show change ``n``?
        external_id_field: Field that holds the hub's stamp (``find_by_external_id``).
        fields: Fields to ask for when reading.
        where: Filter that narrows reads to records of ``object_name`` the suite may use.
        batch_size: The product's batch write size, so the suite can cross it.
        page_size: A small page size the connector accepts, to force several pages.
        missing_id: A well-formed id of a record that does not exist.
        settings: Extra connector settings on top of the sandbox's.
        base_url: Host the in-process transport answers for.
        rate_limit: ``(requests, per_seconds)`` for the suite's connector, where the
            connector's own pacing of the product's published limits would only make
            the suite wait (None: the connector's default).
    """

    connector: str
    make_sandbox: Callable[[int, int, Faults | None, str], Sandbox]
    object_name: str
    new_record: Callable[[int, str], Mapping[str, Any]]
    change: Callable[[int], Mapping[str, Any]]
    changed: Callable[[Mapping[str, Any], int], bool]
    external_id_field: str
    missing_id: str
    fields: Sequence[str] = ()
    where: Mapping[str, FilterValue] | None = None
    batch_size: int = 50
    page_size: int = 5
    settings: Mapping[str, Any] = field(default_factory=dict)
    base_url: str = "http://sandbox.test"
    rate_limit: tuple[int, float] | None = None


def build_connector(
    case: ContractCase,
    sandbox: Sandbox,
    *,
    setenv: Callable[[str, str], None],
    env_prefix: str = "HUB_CONTRACT",
    wrong_credentials: bool = False,
    max_retries: int = 5,
) -> Connector:
    """A connector for ``case`` talking to ``sandbox`` in-process.

    Credentials go through environment variables as in production; ``setenv``
    puts them there (``monkeypatch.setenv`` in tests).
    ``wrong_credentials`` garbles every secret, for the 401 check.
    """
    credentials: dict[str, EnvSecret] = {}
    for name, value in sandbox.credentials.items():
        var = f"{env_prefix}_{case.connector}_{name}".upper()
        setenv(var, f"{value}-wrong" if wrong_credentials else value)
        credentials[name] = EnvSecret(env=var)
    system = SystemConfig(
        connector=case.connector,
        base_url=case.base_url,
        mapping="unused.yaml",
        credentials=credentials,
        settings={**sandbox.settings, **case.settings},
        max_retries=max_retries,
        rate_limit=(
            RateLimitConfig(requests=case.rate_limit[0], per_seconds=case.rate_limit[1])
            if case.rate_limit
            else None
        ),
    )
    system.bind_name(case.connector)
    cls = connector_class(case.connector)
    return cls.from_config(system, transport=sandbox.transport())
