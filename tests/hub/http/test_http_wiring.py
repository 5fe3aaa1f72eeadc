"""A system's HTTP stack: the admin's limits win, else the product's published ones."""

from __future__ import annotations

import httpx
import pytest
from http_fakes import BASE_URL, FakeApi, json_response

from handoff_hub.hub.config.systems import RateLimitConfig, SystemConfig
from handoff_hub.hub.http import (
    ProductWire,
    RetryPolicy,
    TokenBucket,
    api_client_for,
    build_client,
    limiter_for,
    retry_policy_for,
)

PUBLISHED = {"requests": 35, "per_seconds": 2.0, "burst": 1}


def _system(**changes: object) -> SystemConfig:
    system = SystemConfig(
        connector="acme", base_url=BASE_URL, mapping="mappings/acme.yaml", **changes
    )
    system.bind_name("crm")
    return system


def test_without_a_rate_limit_the_product_default_paces() -> None:
    bucket = limiter_for(_system(), PUBLISHED)

    assert bucket.rate == pytest.approx(17.5) and bucket.capacity == 1


def test_a_default_without_a_burst_bursts_a_whole_period() -> None:
    bucket = limiter_for(_system(), {"requests": 10, "per_seconds": 1.0})

    assert bucket.capacity == 10


def test_the_admins_rate_limit_wins() -> None:
    limit = RateLimitConfig(requests=5, per_seconds=10.0, burst=2)

    bucket = limiter_for(_system(rate_limit=limit), PUBLISHED)

    assert bucket.rate == pytest.approx(0.5) and bucket.capacity == 2


def test_retries_follow_the_system_settings() -> None:
    policy = retry_policy_for(_system(max_retries=2, retry_wait_seconds=1.5))

    assert (policy.max_attempts, policy.initial_wait) == (3, 1.5)


def test_api_client_for_carries_the_system_settings(fake_api: FakeApi) -> None:
    def limits(response: httpx.Response) -> tuple[int | None, float | None]:
        return int(response.headers["X-Left"]), None

    fake_api.add("GET", "/ping", json_response(200, {}, X_Left="0"))
    system = _system(concurrency=3, max_retries=1)
    http = build_client(BASE_URL, transport=fake_api.transport())

    wire = ProductWire(PUBLISHED, observe_limits=limits)
    api = api_client_for(system, http, wire, credentials_hint="the token")
    api.get_json("/ping")

    assert (api.system, api.concurrency, api.retry.max_attempts) == ("crm", 3, 2)
    assert api.credentials_hint == "the token" and api.limiter is not None
    assert api.limiter.rate == pytest.approx(17.5)
    assert api.observe_limits is limits


def test_a_given_retry_policy_and_limiter_replace_the_configured_ones() -> None:
    policy, bucket = RetryPolicy(max_attempts=1), TokenBucket(requests=1, per_seconds=1)
    http = build_client(BASE_URL)

    api = api_client_for(_system(), http, ProductWire(PUBLISHED), retry=policy, limiter=bucket)

    assert api.retry is policy and api.limiter is bucket
    assert api.credentials_hint == "systems.crm.credentials"
