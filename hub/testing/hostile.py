"""Hostile values for injection tests: text that tries to leave its place in a query.

Every entry is a short ``label`` (usable as a pytest id) and the exact
``value``. Together they cover the ways a field value can change a query's
meaning in the languages the hub writes or fills: quotes and backslashes
(SOQL, JQL), SOQL and JQL operators and keywords, LIKE wildcards, Lucene
text-search syntax (the operand of JQL's ``~``), URL and path characters
(query parameters, ``..``), line breaks and control characters, Unicode
tricks, lengths past the products' field limits, blank strings, and two
values that are not text at all (NUL, an unpaired surrogate).

Apart from the blank ones, no two values are equal once case-folded and
stripped, so a product that compares text loosely still has one right
answer for each.

Usage from a third-party connector's tests::

    import pytest
    from handoff_hub.hub.testing.hostile import HOSTILE

    @pytest.mark.parametrize("case", HOSTILE, ids=lambda h: h.label)
    def test_lookup_stays_literal(case, connector):
        ...
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BENIGN", "HOSTILE", "Hostile", "hostile"]

BENIGN = "benign value 42"
"""A value with nothing special in it: the shape every hostile query must keep."""


@dataclass(frozen=True)
class Hostile:
    """One hostile value and a short name for it."""

    label: str
    value: str


HOSTILE: tuple[Hostile, ...] = (
    # blank and padded
    Hostile("empty", ""),
    Hostile("spaces-only", "   "),
    Hostile("padded", "  padded value  "),
    # quotes and backslashes
    Hostile("single-quote", "'"),
    Hostile("double-quote", '"'),
    Hostile("two-single-quotes", "''"),
    Hostile("apostrophe-name", "O'Brien"),
    Hostile("backslash", "\\"),
    Hostile("two-backslashes", "\\\\"),
    Hostile("backslash-quote", "\\'"),
    Hostile("backslash-double-quote", '\\"'),
    Hostile("trailing-backslash", "ends in \\"),
    Hostile("unicode-escape-text", "\\u0041 is not A"),
    # SOQL
    Hostile("soql-or", "' OR Name != '"),
    Hostile("soql-escaped-or", "\\' OR 1=1 --"),
    Hostile("soql-limit", "x' LIMIT 1"),
    Hostile("soql-where", "WHERE Id != null"),
    Hostile("soql-from-user", "Id FROM User"),
    Hostile("in-list", "a', 'b"),
    Hostile("parens", "') OR (1=1"),
    Hostile("semicolon", "x; DELETE FROM Account"),
    Hostile("sql-comment", "/* c */ --"),
    Hostile("percent", "%"),
    Hostile("underscore", "_"),
    Hostile("like-wildcards", "100%_sure"),
    # JQL
    Hostile("jql-or", '" OR key != "'),
    Hostile("jql-escaped-or", '\\" OR project IS NOT EMPTY OR summary ~ "'),
    Hostile("jql-and-word", "AND"),
    Hostile("jql-or-word", "OR"),
    Hostile("jql-tilde", "~"),
    Hostile("jql-not-equals", "!="),
    Hostile("jql-in", 'x IN ("'),
    Hostile("jql-order-by", "x ORDER BY key DESC"),
    Hostile("jql-empty", "EMPTY"),
    Hostile("jql-null", "null"),
    Hostile("jql-function", "currentUser()"),
    Hostile("jql-reserved-chars", "+.,;?|*/%^$#@[]"),
    Hostile("comma", "a, b"),
    # Lucene text search (JQL ~)
    Hostile("lucene-not", "alpha NOT beta"),
    Hostile("lucene-or", "gamma OR delta"),
    Hostile("lucene-bool", "a && b || !c"),
    Hostile("lucene-syntax", "+must -not (group) [1 TO 9] {x} ^2 ~0.5 field:value /re/ wild*card?"),
    Hostile("lucene-leading-wildcard", "*suffix"),
    # URLs and paths
    Hostile("url-chars", "a&b=c?d#e/f%20g+h"),
    Hostile("dot-segment", ".."),
    # line breaks and control characters
    Hostile("newline", "line one\nline two"),
    Hostile("crlf", "line one\r\nline two"),
    Hostile("carriage-return", "carriage\rreturn"),
    Hostile("tab", "tab\there"),
    Hostile("nul", "nul\x00byte"),
    Hostile("control-chars", "bell\x07 vt\x0b esc\x1b[31m del\x7f"),
    Hostile("c1-controls", "nel\x85 csi\x9b"),
    Hostile("noncharacters", "\ufdd0 \ufffe \uffff"),
    # Unicode
    Hostile("emoji", "emoji \U0001f600\U0001f680\U0001f469\u200d\U0001f469\u200d\U0001f467"),
    Hostile("rtl-override", "\u202eevil\u202c txt"),
    Hostile("combining-marks", "e\u0301 a\u0308 Z\u0351\u0352"),
    Hostile("fullwidth-quote", "\uff07 OR 1=1 \uff07"),
    Hostile("line-separators", "line\u2028para\u2029end"),
    Hostile("zero-width", "zero\u200bwidth\ufeffbom"),
    Hostile("lone-surrogate", "cut \ud83d here"),
    # length
    Hostile("long-plain", "A" * 10_000),
    Hostile("long-hostile", ("O'Brien\\\" OR 1=1 -- " * 500)[:10_000]),
)


def hostile(label: str) -> Hostile:
    """The corpus entry with this label.

    Raises:
        KeyError: no entry has it.
    """
    for entry in HOSTILE:
        if entry.label == label:
            return entry
    raise KeyError(label)
