r"""Text UTF-8 cannot encode: the unpaired surrogates a JSON escape can carry.

A JSON body may hold ``"\ud83d"`` alone; decoded, it is a Python string no
product, query or database can take. The query builders, the mapping engine
and the reconcile's index all find such text the same way, here.
"""

from __future__ import annotations

import re

__all__ = ["unpaired_surrogate", "without_surrogates"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def unpaired_surrogate(text: str) -> str | None:
    """The first unpaired surrogate in ``text``, or None (ASCII text is not searched)."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    return found.group() if found else None


def without_surrogates(text: str) -> str:
    """``text`` with each unpaired surrogate replaced by U+FFFD, so it can be stored."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
