"""Run every system's pre-flight, then the checks that span two systems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from handoff_hub.hub.connector import (
    CheckResult,
    CheckStatus,
    Connector,
    ListsOwners,
    preflight_of,
)
from handoff_hub.hub.errors import AuthError, ConfigError, HubError
from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.preflight.needs import system_needs
from handoff_hub.hub.registry import connector_class

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.loading import LoadedConfig

__all__ = ["run_checks"]

CREDENTIALS = "credentials"


def run_checks(
    loaded: LoadedConfig, *, transports: Mapping[str, httpx.BaseTransport] | None = None
) -> list[CheckResult]:
    """Every finding about every configured system, read-only.

    Raises:
        ConfigError: a system's settings or credentials cannot be used (every issue).
    """
    connectors = _connectors(loaded, transports or {})
    try:
        results: list[CheckResult] = []
        for name, connector in connectors.items():
            results += system_checks(name, connector, loaded)
        refused = {r.system for r in results if r.check == CREDENTIALS and _bad(r)}
        results += owner_checks(loaded, connectors, refused)
        return results
    finally:
        for connector in connectors.values():
            connector.close()


def _connectors(
    loaded: LoadedConfig, transports: Mapping[str, httpx.BaseTransport]
) -> dict[str, Connector]:
    built: dict[str, Connector] = {}
    issues = []
    for name, system in loaded.config.systems.items():
        try:
            cls = connector_class(system.connector)
            built[name] = cls.from_config(system, transport=transports.get(name))
        except ConfigError as exc:
            issues += exc.issues
    if issues:
        for connector in built.values():
            connector.close()
        raise ConfigError(issues)
    return built


def system_checks(name: str, connector: Connector, loaded: LoadedConfig) -> list[CheckResult]:
    """The connector's own pre-flight; a refused credential or a failure as one finding."""
    able = preflight_of(connector)
    if able is None:
        detail = f"connector {connector.name!r} offers no pre-flight; nothing checked"
        return [CheckResult(name, "pre-flight", CheckStatus.SKIPPED, detail)]
    try:
        return able.preflight(system_needs(loaded, name))
    except AuthError as exc:
        return [CheckResult(name, CREDENTIALS, CheckStatus.PROBLEM, _refused(name, exc))]
    except HubError as exc:
        return [CheckResult(name, "reachable", CheckStatus.PROBLEM, _text(name, exc))]


def _text(name: str, exc: HubError) -> str:
    """The error's message, secrets masked, without the system name the row already shows."""
    return redact(str(exc)).removeprefix(f"{name}: ")


def _refused(name: str, exc: AuthError) -> str:
    status = f" ({exc.status})" if exc.status else ""
    return f"refused{status}: {_text(name, exc)}"


def _bad(result: CheckResult) -> bool:
    return result.status is CheckStatus.PROBLEM


def owner_checks(
    loaded: LoadedConfig, connectors: Mapping[str, Connector], refused: set[str]
) -> list[CheckResult]:
    """CRM deal owners the project tool cannot match by e-mail (projects without a manager)."""
    won = loaded.config.handoffs.won_to_project
    if won is None or not won.enabled or {won.crm, won.pm} & refused:
        return []
    crm, pm = connectors[won.crm], connectors[won.pm]
    if not isinstance(crm, ListsOwners):
        return []
    try:
        emails = sorted(set(crm.owner_emails()))
        found = pm.find_users(emails) if emails else {}
    except HubError as exc:
        detail = _text(won.pm, exc)
        return [CheckResult(won.pm, "owners", CheckStatus.PROBLEM, detail, _WON)]
    unmatched = [e for e in emails if e not in found]
    if not unmatched:
        detail = f"all {len(emails)} deal owners of {won.crm} found by e-mail"
        return [CheckResult(won.pm, "owners", CheckStatus.OK, detail, _WON)]
    detail = (
        f"{len(unmatched)} of {len(emails)} deal owners of {won.crm} have no {won.pm} user "
        f"with their e-mail (their projects get no manager), e.g. {unmatched[0]}"
    )
    return [CheckResult(won.pm, "owners", CheckStatus.WARNING, detail, _WON)]


_WON = "won-to-project"
