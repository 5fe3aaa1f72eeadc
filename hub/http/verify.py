"""Create, and on an unsure answer look before sending the create again.

The HTTP layer never repeats a create the product may have acted on
(:func:`hub.http.retry.is_safe_to_repeat`): after a 5xx, a dropped connection
or a timeout the record may or may not exist. Sending the create again could
make a second one; giving up would fail a batch the product may have done.
So the caller looks the thing up by the stamp it carries, uses what it finds,
and only when nothing is there creates again, a bounded number of times.

When no answer came at all (a dropped connection, a timeout) the create may
still be running on the product's side, so a look that finds nothing proves
nothing: the error is raised instead of sending the create again, and the
batch's retry (or the next run) looks for the stamp once more. After a 5xx the
product has answered, so an empty look is trusted and the create is sent again.

A refusal (4xx) or a 429 is no unsure answer: it is raised as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from handoff_hub.hub.errors import TransientError

__all__ = ["create_then_verify", "outcome_unknown", "resume_then_verify"]

_T = TypeVar("_T")
_S = TypeVar("_S")


def outcome_unknown(exc: TransientError) -> bool:
    """True when the product may have acted: it answered 5xx, or no answer came.

    A transient error without a status is a dropped connection, a timeout or
    a connection that never opened (where looking is merely unneeded).
    """
    return exc.status is None or exc.status >= 500


def create_then_verify(
    create: Callable[[], _T],
    find: Callable[[], _T | None],
    *,
    attempts: int,
    pause: Callable[[], None] | None = None,
) -> _T:
    """``create()``; after an unsure answer, ``find()`` what it made before creating again.

    Args:
        create: Sends the create and returns what was made.
        find: Looks the thing up by its stamp; None when it is not there.
        attempts: Creates sent at most (the first included).
        pause: Waits before each look, where the product's search lags its writes.

    Raises:
        TransientError: an answer that is not unsure, or the last attempt's.
    """
    left = attempts
    while True:
        try:
            return create()
        except TransientError as exc:
            left -= 1
            if left <= 0 or not outcome_unknown(exc):
                raise
            if pause is not None:
                pause()
            found = find()
            if found is not None:
                return found
            if exc.status is None:
                raise


def resume_then_verify(
    step: Callable[[_S], _T],
    known: _S,
    reread: Callable[[], _S],
    *,
    attempts: int,
    pause: Callable[[], None] | None = None,
) -> _T:
    """:func:`create_then_verify` for a create in many parts (a work breakdown).

    ``step(known)`` creates what ``known`` lacks; after an unsure answer,
    ``reread()`` what exists now and go on from there.
    """
    state = [known]

    def look() -> None:
        state[0] = reread()

    return create_then_verify(lambda: step(state[0]), look, attempts=attempts, pause=pause)
