"""The one retry layer: classification table, Retry-After, waits and what is safe to repeat."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Sequence

import httpx
import pytest

from handoff_hub.hub.http.retry import (
    Action,
    RetryableOutcome,
    RetryPolicy,
    classify,
    is_safe_to_repeat,
    message_for,
    retry_after_seconds,
)

_REQUEST = httpx.Request(
    "POST",
    "https://api.example.test/v1/items",
    headers={"Authorization": "Bearer sk-live-should-never-show"},
)


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, headers={k.replace("_", "-"): v for k, v in headers.items()}, request=_REQUEST
    )


# --- classify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (200, Action.OK),
        (201, Action.OK),
        (204, Action.OK),
        (302, Action.OK),
        (400, Action.REJECTED),
        (401, Action.AUTH),
        (403, Action.AUTH),
        (404, Action.NOT_FOUND),
        (405, Action.REJECTED),
        (408, Action.RETRY),
        (409, Action.REJECTED),
        (418, Action.REJECTED),
        (422, Action.REJECTED),
        (429, Action.RETRY),
        (500, Action.RETRY),
        (501, Action.RETRY),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (504, Action.RETRY),
        (599, Action.RETRY),
    ],
)
def test_classify_status(status: int, action: Action) -> None:
    assert classify(_response(status)) is action


@pytest.mark.parametrize(
    ("exc", "action", "text"),
    [
        (httpx.ConnectError("refused"), Action.RETRY, "could not connect"),
        (httpx.ConnectTimeout("slow"), Action.RETRY, "connection timed out"),
        (httpx.PoolTimeout("full"), Action.RETRY, "no free connection in the pool"),
        (httpx.ReadTimeout("slow"), Action.RETRY, "the response timed out"),
        (httpx.WriteTimeout("slow"), Action.RETRY, "the response timed out"),
        (httpx.RemoteProtocolError("eof"), Action.RETRY, "the connection dropped mid-response"),
        (httpx.ReadError("reset"), Action.RETRY, "network error"),
        (httpx.UnsupportedProtocol("ftp"), Action.REJECTED, "the URL is not http or https"),
        (
            httpx.LocalProtocolError("bad header"),
            Action.REJECTED,
            "the request could not be sent as HTTP",
        ),
        (httpx.DecodingError("gzip"), Action.REJECTED, "DecodingError"),
        (ValueError("x"), Action.REJECTED, "ValueError"),
    ],
)
def test_classify_and_describe_exceptions(exc: BaseException, action: Action, text: str) -> None:
    assert classify(exc) is action
    assert message_for(exc) == text


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (401, "credentials were rejected (expired or wrong)"),
        (429, "rate limited; waiting as the product asks"),
        (503, "the product is unavailable"),
        (418, "HTTP 418"),
    ],
)
def test_message_for_status_never_shows_request_headers(status: int, text: str) -> None:
    message = message_for(_response(status))

    assert message == text
    assert "sk-live" not in message


# --- Retry-After ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("-4", 0.0),
    ],
)
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert retry_after_seconds(_response(429, Retry_After=value)) == seconds


@pytest.mark.parametrize("value", ["soon", "", "inf", "nan", "-inf", "Thu, 99 Foo 2025"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds(_response(429, Retry_After=value)) is None


def test_missing_retry_after_is_none() -> None:
    assert retry_after_seconds(_response(503)) is None


def test_retry_after_as_http_date_counts_from_now() -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)

    assert retry_after_seconds(_response(503, Retry_After=later), now=now) == 90.0


def test_retry_after_date_in_a_numeric_zone_and_naive_minus_zero() -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)

    plus_two = "Mon, 02 Mar 2026 14:00:30 +0200"  # 12:00:30 UTC
    minus_zero = "Mon, 02 Mar 2026 12:00:45 -0000"  # parsed naive; read as UTC

    assert retry_after_seconds(_response(429, Retry_After=plus_two), now=now) == 30.0
    assert retry_after_seconds(_response(429, Retry_After=minus_zero), now=now) == 45.0


def test_retry_after_date_in_the_past_means_now() -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)
    earlier = email.utils.format_datetime(now - dt.timedelta(hours=1), usegmt=True)

    assert retry_after_seconds(_response(429, Retry_After=earlier), now=now) == 0.0


# --- what may be sent again --------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "idempotent", "safe"),
    [
        (_response(429), False, True),
        (_response(503), False, True),
        (_response(500), False, False),
        (_response(502), False, False),
        (_response(504), False, False),
        (_response(408), False, False),
        (_response(500), True, True),
        (_response(504), True, True),
        (_response(400), True, False),
        (_response(401), True, False),
        (httpx.ConnectError("refused"), False, True),
        (httpx.ConnectTimeout("slow"), False, True),
        (httpx.PoolTimeout("full"), False, True),
        (httpx.ReadTimeout("slow"), False, False),
        (httpx.WriteError("broken pipe"), False, False),
        (httpx.RemoteProtocolError("eof"), False, False),
        (httpx.ReadTimeout("slow"), True, True),
        (httpx.RemoteProtocolError("eof"), True, True),
        (httpx.UnsupportedProtocol("ftp"), True, False),
    ],
)
def test_is_safe_to_repeat(
    outcome: httpx.Response | BaseException, idempotent: bool, safe: bool
) -> None:
    assert is_safe_to_repeat(outcome, idempotent=idempotent) is safe


# --- RetryPolicy ------------------------------------------------------------------------


def _run(policy: RetryPolicy, outcomes: Sequence[httpx.Response | BaseException | str]) -> str:
    """Run the policy over a script of outcomes; a str is the successful result."""
    script = iter(outcomes)
    for attempt in policy.retrying():
        with attempt:
            outcome = next(script)
            if isinstance(outcome, str):
                return outcome
            raise RetryableOutcome(outcome)
    raise AssertionError("unreachable: reraise=True")


def test_wait_honours_retry_after() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(sleep=sleeps.append, jitter=lambda: 0.0)

    result = _run(
        policy, [_response(429, Retry_After="7"), _response(503, Retry_After="2.5"), "ok"]
    )

    assert result == "ok"
    assert sleeps == [7.0, 2.5]


def test_retry_after_is_capped_at_max_wait() -> None:
    sleeps: list[float] = []
    far = "Fri, 01 Jan 2100 00:00:00 GMT"
    policy = RetryPolicy(sleep=sleeps.append, max_wait=30.0)

    _run(policy, [_response(429, Retry_After="3600"), _response(503, Retry_After=far), "ok"])

    assert sleeps == [30.0, 30.0]


def test_backoff_is_exponential_and_capped_without_retry_after() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(
        max_attempts=7, initial_wait=0.5, max_wait=4.0, sleep=sleeps.append, jitter=lambda: 1.0
    )

    _run(policy, [_response(500)] * 6 + ["ok"])

    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_scales_backoff_between_half_and_full() -> None:
    sleeps: list[float] = []
    draws = iter([0.0, 0.5])
    policy = RetryPolicy(initial_wait=2.0, sleep=sleeps.append, jitter=lambda: next(draws))

    _run(policy, [httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), "ok"])

    assert sleeps == [1.0, 3.0]  # 2 * 0.5, then 4 * 0.75


def test_default_jitter_stays_within_bounds() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=100.0, sleep=sleeps.append)

    _run(policy, [_response(502)] * 4 + ["ok"])

    for attempt, waited in enumerate(sleeps):
        full = 2.0**attempt
        assert full / 2 <= waited <= full


def test_exhausted_attempts_reraise_the_last_outcome() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=sleeps.append, jitter=lambda: 0.0)
    last = _response(504)

    with pytest.raises(RetryableOutcome) as raised:
        _run(policy, [_response(502), _response(503), last, "never"])

    assert raised.value.outcome is last
    assert len(sleeps) == 2


def test_other_exceptions_are_not_retried() -> None:
    sleeps: list[float] = []
    calls = 0

    with pytest.raises(KeyError):
        for attempt in RetryPolicy(sleep=sleeps.append).retrying():
            with attempt:
                calls += 1
                raise KeyError("bug")

    assert calls == 1
    assert sleeps == []


def test_zero_attempts_still_tries_once() -> None:
    with pytest.raises(RetryableOutcome):
        _run(RetryPolicy(max_attempts=0, sleep=lambda _: None), [_response(500), "ok"])


def test_a_very_long_policy_does_not_overflow() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(
        max_attempts=1200,
        initial_wait=0.001,
        max_wait=0.002,
        sleep=sleeps.append,
        jitter=lambda: 1.0,
    )

    _run(policy, [_response(500)] * 1100 + ["ok"])

    assert sleeps[-1] == 0.002
