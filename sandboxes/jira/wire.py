"""Which REST API version a request spoke, and what that changes on the wire.

Jira Cloud serves the same operations under ``/rest/api/2`` and ``/rest/api/3``;
version 3 takes and gives rich text (issue ``description``, comment bodies) as
Atlassian Document Format, version 2 as a string. The sandbox stores ADF and
converts at the edge. Its text form is plain text: paragraphs separated by a
blank line, line breaks as newlines; wiki markup is kept as typed, not rendered
to ADF marks (a plain-text round trip is exact).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["VERSIONS", "Endpoint", "adf_text", "text_adf"]

VERSIONS = {"2": "2", "3": "3", "latest": "2"}
"""Path segment -> the version it serves (``latest`` is version 2, as the jira SDK expects)."""


@dataclass(frozen=True)
class Endpoint:
    """Where a request came in: the site's address and the API version it used."""

    host: str
    version: str = "3"

    @property
    def api(self) -> str:
        """``https://site/rest/api/3``: the root of ``self`` links."""
        return f"{self.host}/rest/api/{self.version}"

    @property
    def adf(self) -> bool:
        """True when rich text travels as ADF (version 3)."""
        return self.version == "3"

    def rich_out(self, stored: Mapping[str, Any] | None) -> Any:
        """A stored ADF value as this version sends it."""
        if stored is None or self.adf:
            return stored
        return adf_text(stored)


def text_adf(text: str) -> dict[str, Any] | None:
    """Plain text as an ADF document: a paragraph per blank-line-separated block."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    if not blocks:
        return None
    return {"type": "doc", "version": 1, "content": [_paragraph(b) for b in blocks]}


def _paragraph(block: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for number, line in enumerate(block.split("\n")):
        if number:
            content.append({"type": "hardBreak"})
        if line:
            content.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": content}


def adf_text(node: Mapping[str, Any]) -> str:
    """The text of an ADF document: blocks joined by a blank line, hard breaks as newlines."""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    if kind in {"mention", "emoji", "status", "date"}:
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp") or "")
    if kind in {"inlineCard", "blockCard"}:
        return str((node.get("attrs") or {}).get("url") or "")
    children = [c for c in node.get("content") or [] if isinstance(c, Mapping)]
    if any(_inline(c) for c in children):
        return "".join(adf_text(c) for c in children)
    return "\n\n".join(text for c in children if (text := adf_text(c)))


def _inline(node: Mapping[str, Any]) -> bool:
    return node.get("type") in {
        "text",
        "hardBreak",
        "mention",
        "emoji",
        "status",
        "date",
        "inlineCard",
    }
