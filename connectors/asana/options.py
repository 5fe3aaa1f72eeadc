"""Enum option names as people typed them: matched trimmed and without regard to case.

Asana keeps an option's name as it was typed, stray spaces and all
(``" High"``, ``"Medium "``, ``"low"``), and answers it so. The connector
compares names by :func:`option_key`, both when it filters records by an
option and when it turns a name into the option gid a write takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["option_gid", "option_key"]


def option_key(name: Any) -> str:
    """The form option names are compared in: trimmed, case-folded."""
    return str(name).strip().casefold()


def option_gid(options: Mapping[str, str], value: str) -> str:
    """The gid of the option ``value`` names: its gid, its exact name, else its name folded.

    Args:
        options: Option name -> option gid, as the field has them.
        value: An option gid or name.

    Raises:
        ValueError: No option matches, or several do once folded (naming them all).
    """
    if value in options.values():
        return value
    if value in options:
        return options[value]
    matches = [name for name in options if option_key(name) == option_key(value)]
    listed = ", ".join(repr(name) for name in options) or "none"
    if not matches:
        raise ValueError(f"no option {value!r} (its options: {listed})")
    if len(matches) > 1:
        several = ", ".join(repr(name) for name in matches)
        raise ValueError(f"{value!r} matches several options ({several}); give the option gid")
    return options[matches[0]]
