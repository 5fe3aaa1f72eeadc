"""The HTTP stack of one configured system, built the same way for every connector.

A connector brings what is its own (the product's published rate limit, how
to read its error bodies and limit headers, which settings hold its
credentials); the retry budget, rate limit and concurrency an admin sets in
``systems.<name>`` are read here, once for all products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.http.client import ApiClient, ErrorDescriber, default_error_text
from handoff_hub.hub.http.ratelimit import TokenBucket
from handoff_hub.hub.http.redact import register_secret
from handoff_hub.hub.http.retry import RetryPolicy
from handoff_hub.hub.http.shared_ratelimit import SharedTokenBucket

if TYPE_CHECKING:  # hub.config imports hub.http: a runtime import would be circular
    import httpx
    from pydantic import SecretStr

    from handoff_hub.hub.config.systems import SystemConfig

__all__ = [
    "LimitObserver",
    "ProductWire",
    "api_client_for",
    "bucket_for",
    "limiter_for",
    "read_secrets",
    "retry_policy_for",
]

LimitObserver = Callable[["httpx.Response"], tuple[int | None, float | None]]


@dataclass(frozen=True)
class ProductWire:
    """How one product answers over HTTP: its published rate, error bodies and limit headers."""

    default_rate: Mapping[str, float]
    describe_error: ErrorDescriber = default_error_text
    observe_limits: LimitObserver | None = None


def bucket_for(
    system: SystemConfig,
    bucket: str,
    *,
    requests: int,
    per_seconds: float,
    burst: int | None = None,
) -> TokenBucket:
    """A token bucket of ``system``: shared through its rate ledger when it has one.

    ``bucket`` names which of the system's limits it is (``requests``, ``search``):
    the shared budget is ``<system.budget_name> <bucket>``.
    """
    ledger = system.rate_ledger
    if ledger is None:
        return TokenBucket(requests=requests, per_seconds=per_seconds, burst=burst)
    return SharedTokenBucket(
        ledger,
        f"{system.budget_name} {bucket}",
        requests=requests,
        per_seconds=per_seconds,
        burst=burst,
    )


def limiter_for(system: SystemConfig, default: Mapping[str, float]) -> TokenBucket:
    """The admin's ``rate_limit`` if set, else the product's published-limit ``default``.

    ``default`` is a connector setting: ``requests``, ``per_seconds`` and ``burst``.
    """
    if system.rate_limit is not None:
        limit = system.rate_limit
        return bucket_for(
            system,
            "requests",
            requests=limit.requests,
            per_seconds=limit.per_seconds,
            burst=limit.burst,
        )
    burst = default.get("burst")
    return bucket_for(
        system,
        "requests",
        requests=int(default["requests"]),
        per_seconds=default["per_seconds"],
        burst=None if burst is None else int(burst),
    )


def retry_policy_for(system: SystemConfig) -> RetryPolicy:
    """``max_retries`` retries after the first try, backing off from ``retry_wait_seconds``."""
    return RetryPolicy(max_attempts=system.max_retries + 1, initial_wait=system.retry_wait_seconds)


def api_client_for(
    system: SystemConfig,
    http: httpx.Client,
    wire: ProductWire,
    *,
    credentials_hint: str = "",
    retry: RetryPolicy | None = None,
    limiter: TokenBucket | None = None,
) -> ApiClient:
    """An :class:`ApiClient` over ``http`` with the system's retries, pacing and concurrency.

    ``retry`` and ``limiter`` replace the configured ones (tests, benchmarks).
    """
    return ApiClient(
        http,
        system=system.name,
        retry=retry or retry_policy_for(system),
        limiter=limiter or limiter_for(system, wire.default_rate),
        describe_error=wire.describe_error,
        credentials_hint=credentials_hint,
        observe_limits=wire.observe_limits,
        concurrency=system.concurrency,
    )


def read_secrets(system: SystemConfig, names: Iterable[str]) -> dict[str, SecretStr]:
    """The credentials ``names`` of ``system``, each kept out of every log line from now on.

    Raises:
        ConfigError: listing every missing credential or unset variable at once.
    """
    values: dict[str, SecretStr] = {}
    issues: list[Issue] = []
    for name in names:
        try:
            values[name] = system.secret(name)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues)
    for value in values.values():
        register_secret(value.get_secret_value())
    return values
