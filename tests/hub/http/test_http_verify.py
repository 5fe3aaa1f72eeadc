"""Create, and on an unsure answer look before creating again; never retry blindly."""

from __future__ import annotations

import pytest

from handoff_hub.hub.errors import RateLimitedError, RecordError, TransientError
from handoff_hub.hub.http import create_then_verify, outcome_unknown, resume_then_verify


class Product:
    """A product whose creates fail as scripted, acting on them or not."""

    def __init__(self, *failures: tuple[TransientError, bool]) -> None:
        self.failures = list(failures)
        self.made: list[str] = []
        self.looks = 0
        self.pauses = 0

    def create(self) -> str:
        if self.failures:
            error, acted = self.failures.pop(0)
            if acted:
                self.made.append(f"p{len(self.made) + 1}")
            raise error
        self.made.append(f"p{len(self.made) + 1}")
        return self.made[-1]

    def find(self) -> str | None:
        self.looks += 1
        return self.made[0] if self.made else None

    def pause(self) -> None:
        self.pauses += 1


def _5xx() -> TransientError:
    return TransientError("HTTP 500", system="pm", status=500)


def _dropped() -> TransientError:
    return TransientError("the connection dropped mid-response", system="pm")


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (TransientError("x", status=500), True),
        (TransientError("x", status=503), True),
        (TransientError("timed out"), True),
        (TransientError("x", status=408), False),
    ],
)
def test_an_outcome_is_unknown_after_a_5xx_or_no_answer(
    error: TransientError, unknown: bool
) -> None:
    assert outcome_unknown(error) is unknown


@pytest.mark.parametrize("error", [_5xx(), _dropped()], ids=["5xx", "no answer"])
def test_a_create_the_product_acted_on_is_found_not_repeated(error: TransientError) -> None:
    product = Product((error, True))

    made = create_then_verify(product.create, product.find, attempts=4, pause=product.pause)

    assert made == "p1" and product.made == ["p1"]
    assert (product.looks, product.pauses) == (1, 1)


def test_a_create_the_product_did_not_act_on_is_sent_again_after_a_look() -> None:
    product = Product((_5xx(), False), (_5xx(), False))

    made = create_then_verify(product.create, product.find, attempts=4)

    assert made == "p1" and product.looks == 2


def test_after_no_answer_an_empty_look_proves_nothing_and_the_error_is_raised() -> None:
    """The create may still be running: sending it again could make a second one."""
    product = Product((_dropped(), False))

    with pytest.raises(TransientError, match="dropped"):
        create_then_verify(product.create, product.find, attempts=4)

    assert product.looks == 1 and product.made == []


def test_the_last_attempts_error_is_raised_without_another_look() -> None:
    product = Product(*[(_5xx(), False)] * 3)

    with pytest.raises(TransientError, match="HTTP 500"):
        create_then_verify(product.create, product.find, attempts=3)

    assert product.looks == 2 and product.made == []


@pytest.mark.parametrize(
    "error", [TransientError("x", status=408), RecordError("refused", status=400)]
)
def test_an_answer_that_is_not_unsure_is_raised_at_once(error: Exception) -> None:
    def create() -> str:
        raise error

    with pytest.raises(type(error)):
        create_then_verify(create, lambda: pytest.fail("looked"), attempts=4)


def test_a_rate_limit_is_no_unsure_answer() -> None:
    def create() -> str:
        raise RateLimitedError("429", status=429)

    with pytest.raises(RateLimitedError):
        create_then_verify(create, lambda: pytest.fail("looked"), attempts=4)


def test_a_resumed_create_goes_on_from_what_the_look_found() -> None:
    made: set[str] = set()
    steps: list[frozenset[str]] = []

    def step(known: frozenset[str]) -> tuple[str, ...]:
        steps.append(known)
        for name in ("a", "b", "c"):
            if name not in known:
                made.add(name)
                if len(steps) == 1 and name == "b":
                    raise _5xx()  # "a" and "b" exist, the product answered 500
        return tuple(sorted(made))

    done = resume_then_verify(
        step, frozenset(), lambda: frozenset(made), attempts=4, pause=lambda: None
    )

    assert done == ("a", "b", "c")
    assert steps == [frozenset(), frozenset({"a", "b"})]
