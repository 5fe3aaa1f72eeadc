r"""Text shown to a person: characters that act on a terminal or reorder text, made visible.

A record value is written by anyone who can edit a CRM or project record. On a
terminal, ``ESC [2J`` clears the screen, ``ESC ]8;;URL`` makes a link, C1 codes
(``\x9b`` is a one-byte CSI on some terminals) move the cursor, NUL and
backspace hide what follows; in any viewer, bidi overrides (U+202E) reorder
what is shown. Everything the hub shows goes through :func:`visible`, which
writes each such character as an escape (``\x1b``, ``\u202e``) a person can read.
"""

from __future__ import annotations

import re

__all__ = ["HIDDEN", "json_visible", "visible"]

HIDDEN = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 and C1 controls, DEL
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators
    "\u206a-\u206f"  # deprecated format controls (symmetric swapping, digit shapes)
    "\ufff9-\ufffb"  # interlinear annotation
    "]+"
)
"""Runs of characters that are not shown as themselves."""


def _escape(found: re.Match[str], keep: str) -> str:
    return "".join(
        ch if ch in keep else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in found.group()
    )


def visible(text: str, *, keep: str = "\n") -> str:
    """``text`` with each hidden character but those in ``keep`` written as an escape."""
    return HIDDEN.sub(lambda found: _escape(found, keep), text)


def json_visible(text: str) -> str:
    r"""JSON text with every hidden character inside its strings written as ``\uXXXX``.

    ``json.dumps`` escapes C0 controls only; the result decodes to the same values.
    """
    return HIDDEN.sub(
        lambda found: "".join(ch if ch == "\n" else f"\\u{ord(ch):04x}" for ch in found.group()),
        text,
    )
