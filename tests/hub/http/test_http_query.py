"""SOQL/JQL assembly: hostile values round-trip through a reference unescaper, inside quotes.

The reference parsers below are written from the products' documented string
grammar, independently of hub.http.query: a literal is read from its opening
quote to the first unescaped closing quote, and the test demands that this is
where the literal (or the value's place in a whole query) really ends.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_hub.hub.errors import QueryBuildError
from handoff_hub.hub.http.query import (
    Condition,
    jql,
    jql_field,
    jql_literal,
    soql,
    soql_field,
    soql_like_pattern,
    soql_literal,
)

# Escape sequences each product documents inside a quoted string.
_SOQL_UNESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
}
_SOQL_LIKE_UNESCAPES = {**_SOQL_UNESCAPES, "%": "%", "_": "_"}
_JQL_UNESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t", "u": "XXXX"}
# Jira's grammar (CONTROLCHARS) refuses these raw inside a string; only \uXXXX carries them.
_JQL_RAW_FORBIDDEN = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def read_string(
    text: str, start: int, quote: str, unescapes: dict[str, str], wildcards: str = ""
) -> tuple[str, int]:
    """Parse the quoted literal at ``text[start]``; return (value, index after it).

    Raises AssertionError on anything a product parser would reject or read
    differently: a missing quote, an unknown escape, a raw line break, an
    unescaped wildcard (in LIKE).
    """
    assert text[start] == quote, f"no opening quote at {start}: {text[start : start + 20]!r}"
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            assert i + 1 < len(text), "dangling backslash"
            nxt = text[i + 1]
            assert nxt in unescapes, f"unknown escape \\{nxt}"
            if unescapes[nxt] == "XXXX":
                digits = text[i + 2 : i + 6]
                assert re.fullmatch("[0-9a-fA-F]{4}", digits), f"bad escape \\u{digits}"
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            out.append(unescapes[nxt])
            i += 2
            continue
        if quote == '"':
            assert not _JQL_RAW_FORBIDDEN.match(ch), f"raw {ch!r} inside a JQL string"
        if ch == quote:
            return "".join(out), i + 1
        assert ch not in "\n\r", "raw line break inside a literal"
        assert ch not in wildcards, f"unescaped wildcard {ch!r}"
        out.append(ch)
        i += 1
    raise AssertionError("literal never closed")


def soql_value(literal: str) -> str:
    value, end = read_string(literal, 0, "'", _SOQL_UNESCAPES)
    assert end == len(literal), f"text after the closing quote: {literal[end:]!r}"
    return value


def jql_value(literal: str) -> str:
    value, end = read_string(literal, 0, '"', _JQL_UNESCAPES)
    assert end == len(literal), f"text after the closing quote: {literal[end:]!r}"
    return value


HOSTILE = [
    "O'Brien\\' OR Name != '",
    "\\",
    "\\\\",
    "\\'",
    "'",
    "''",
    '"',
    '\\"',
    "') OR (1=1",
    "' OR Id != null OR Name = '",
    '" OR project = X',
    '\\" OR project = X OR summary ~ "',
    "line one\nline two\r\nline three",
    "tab\there",
    "bell\b and feed\f",
    "vertical\x0btab and escape\x1b[31m",
    "\u202eevil\u202c RTL override",
    "שלום עולם مرحبا",
    "emoji 😀🚀👩‍👩‍👧",
    "combining e\u0301 and zero\u200bwidth",
    "100% of_the_value",
    "%",
    "_",
    "\\%\\_",
    "--comment",
    "/* block */",
    "; DELETE FROM Account",
    "trailing backslash \\",
    "",
    " ",
    "A" * 10_000,
    ("O'Brien\\" * 1250)[:10_000],
    ('" OR 1=1 \\' * 1000)[:10_000],
]


# --- literals: round trip, never leaving the quotes ---------------------------------------------


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_soql_literal_round_trips_hostile_values(value: str) -> None:
    assert soql_value(soql_literal(value)) == value


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_jql_literal_round_trips_hostile_values(value: str) -> None:
    assert jql_value(jql_literal(value)) == value


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_soql_like_pattern_matches_the_text_literally(value: str) -> None:
    literal = soql_like_pattern(value)

    parsed, end = read_string(literal, 0, "'", _SOQL_LIKE_UNESCAPES, wildcards="%_")

    assert parsed == value and end == len(literal)


def test_soql_like_pattern_adds_only_the_asked_wildcards() -> None:
    literal = soql_like_pattern("50%_off", prefix=True, suffix=True)

    assert literal.startswith("'%") and literal.endswith("%'")
    inner = "'" + literal[2:-2] + "'"
    assert read_string(inner, 0, "'", _SOQL_LIKE_UNESCAPES, wildcards="%_")[0] == "50%_off"


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_value_stays_inside_its_place_in_a_soql_query(value: str) -> None:
    query = soql(
        ["Id", "Name"],
        "Account",
        where=[Condition("Name", "=", value), Condition("Type", "!=", "Partner")],
        limit=5,
    )
    prefix = "SELECT Id, Name FROM Account WHERE Name = "
    assert query.startswith(prefix)

    parsed, end = read_string(query, len(prefix), "'", _SOQL_UNESCAPES)

    assert parsed == value
    assert query[end:] == " AND Type != 'Partner' LIMIT 5"


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_value_stays_inside_its_place_in_a_jql_query(value: str) -> None:
    query = jql(
        [Condition("summary", "~", value), Condition("project", "=", "HUB")],
        order_by=["created DESC"],
    )
    prefix = "summary ~ "

    parsed, end = read_string(query, len(prefix), '"', _JQL_UNESCAPES)

    assert query.startswith(prefix) and parsed == value
    assert query[end:] == ' AND project = "HUB" ORDER BY created DESC'


def test_hostile_values_in_an_in_list_stay_separate() -> None:
    values = ["a', 'b", "c\\", "'"]
    query = soql(["Id"], "Contact", where=[Condition("Email", "IN", values)])
    prefix = "SELECT Id FROM Contact WHERE Email IN ("
    assert query.startswith(prefix)

    parsed: list[str] = []
    pos = len(prefix)
    while True:
        value, pos = read_string(query, pos, "'", _SOQL_UNESCAPES)
        parsed.append(value)
        if query[pos : pos + 2] != ", ":
            break
        pos += 2

    assert parsed == values and query[pos:] == ")"


# Lone surrogates cannot be sent at all (QueryBuildError, tested in tests/security).
_no_nul = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    max_size=300,
)


@settings(max_examples=300, deadline=None, database=None)
@given(_no_nul)
def test_property_every_string_round_trips_in_both_languages(value: str) -> None:
    assert soql_value(soql_literal(value)) == value
    assert jql_value(jql_literal(value)) == value
    like = soql_like_pattern(value)
    assert read_string(like, 0, "'", _SOQL_LIKE_UNESCAPES, wildcards="%_") == (value, len(like))


@settings(max_examples=100, deadline=None, database=None)
@given(_no_nul, _no_nul)
def test_property_a_value_never_changes_the_query_around_it(value: str, other: str) -> None:
    query = soql(
        ["Id"], "Lead", where=[Condition("Company", "=", value), Condition("LastName", "=", other)]
    )
    prefix = "SELECT Id FROM Lead WHERE Company = "

    first, end = read_string(query, len(prefix), "'", _SOQL_UNESCAPES)
    assert query[end : end + len(" AND LastName = ")] == " AND LastName = "
    second, end = read_string(query, end + len(" AND LastName = "), "'", _SOQL_UNESCAPES)

    assert (first, second, end) == (value, other, len(query))


# --- values that cannot be placed ------------------------------------------------------------


@pytest.mark.parametrize("value", ["\x00", "abc\x00", "\x00' OR 1=1"])
@pytest.mark.parametrize("build", [soql_literal, jql_literal, soql_like_pattern])
def test_nul_is_rejected(build: Any, value: str) -> None:
    with pytest.raises(QueryBuildError, match="NUL"):
        build(value)


@pytest.mark.parametrize("build", [soql_literal, jql_literal, soql_like_pattern])
def test_oversize_is_rejected_and_the_limit_itself_is_fine(build: Any) -> None:
    assert build("x" * 100_000)
    with pytest.raises(QueryBuildError, match="too long"):
        build("x" * 100_001)


@pytest.mark.parametrize("value", [{"a": 1}, ["a"], object(), b"bytes", {1, 2}])
@pytest.mark.parametrize("build", [soql_literal, jql_literal])
def test_unsupported_types_are_rejected(build: Any, value: Any) -> None:
    with pytest.raises(QueryBuildError, match="cannot put"):
        build(value)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")]
)
@pytest.mark.parametrize("build", [soql_literal, jql_literal])
def test_non_finite_numbers_are_rejected(build: Any, value: Any) -> None:
    with pytest.raises(QueryBuildError, match="finite"):
        build(value)


class _Priority(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize(
    ("value", "soql_text", "jql_text"),
    [
        (None, "null", None),
        (True, "TRUE", '"true"'),
        (False, "FALSE", '"false"'),
        (42, "42", "42"),
        (-7, "-7", "-7"),
        (_Priority.HIGH, "3", "3"),
        (2.5, "2.5", "2.5"),
        (1e20, "100000000000000000000", "100000000000000000000"),
        (1e-7, "0.0000001", "0.0000001"),
        (Decimal("1E+3"), "1000", "1000"),
        (Decimal("12500.50"), "12500.50", "12500.50"),
    ],
)
def test_typed_literals(value: Any, soql_text: str, jql_text: str | None) -> None:
    assert soql_literal(value) == soql_text
    if jql_text is None:
        with pytest.raises(QueryBuildError):
            jql_literal(value)
    else:
        assert jql_literal(value) == jql_text


# --- dates and times ---------------------------------------------------------------------------


def test_aware_datetimes_are_converted_to_utc() -> None:
    paris_summer = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2026, 7, 1, 1, 30, 59, 999_999, tzinfo=paris_summer)

    assert soql_literal(value) == "2026-06-30T23:30:59Z"
    assert jql_literal(value) == '"2026/06/30 23:30"'


def test_naive_datetimes_are_rejected() -> None:
    naive = dt.datetime(2026, 7, 1, 12, 0)

    with pytest.raises(QueryBuildError, match="timezone"):
        soql_literal(naive)
    with pytest.raises(QueryBuildError, match="timezone"):
        jql_literal(naive)
    with pytest.raises(QueryBuildError, match="timezone"):
        soql(["Id"], "Account", where=[Condition("LastModifiedDate", ">", naive)])


def test_dates_stay_dates_and_early_years_are_zero_padded() -> None:
    assert soql_literal(dt.date(2026, 3, 9)) == "2026-03-09"
    assert jql_literal(dt.date(2026, 3, 9)) == '"2026/03/09"'
    typo = dt.datetime(24, 3, 9, 8, 5, tzinfo=dt.UTC)  # "24" typed for 2024
    assert soql_literal(typo) == "0024-03-09T08:05:00Z"
    assert jql_literal(typo) == '"0024/03/09 08:05"'
    assert jql_literal(dt.date(24, 3, 9)) == '"0024/03/09"'


# --- field names, operators, lists ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Name", "Owner.Email", "Account.Owner.Name", "Budget__c", "npe01__Home_Address__c"]
)
def test_valid_soql_fields(name: str) -> None:
    assert soql_field(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1Name",
        "_Name",
        "Name;",
        "Name ",
        " Name",
        "Name\n",
        "Name\r\n",
        "Owner..Email",
        "Owner.",
        "Name) OR (1=1",
        "Name--",
        "Nàme",
        "Name,Id",
        "COUNT(Id)",
        "Name'",
        42,
    ],
)
def test_invalid_soql_fields_are_rejected(name: Any) -> None:
    with pytest.raises(QueryBuildError, match="not a valid SOQL field"):
        soql_field(name)


@pytest.mark.parametrize("name", ["project", "status", "cf[10050]", "statusCategory"])
def test_valid_jql_fields(name: str) -> None:
    assert jql_field(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "cf[abc]",
        "cf[10050]\n",
        "project\n",
        "summary OR",
        '"Story Points"',
        "project = X",
        "cf[1] OR",
        "1field",
    ],
)
def test_invalid_jql_fields_are_rejected(name: str) -> None:
    with pytest.raises(QueryBuildError, match="not a valid JQL field"):
        jql_field(name)


def test_invalid_names_are_rejected_everywhere_they_appear() -> None:
    with pytest.raises(QueryBuildError):
        soql(["Id", "Name FROM User --"], "Account")
    with pytest.raises(QueryBuildError):
        soql(["Id"], "Account WHERE Id != null")
    with pytest.raises(QueryBuildError):
        soql(["Id"], "Account", where=[Condition("Name\n", "=", "x")])
    with pytest.raises(QueryBuildError):
        soql(["Id"], "Account", order_by=["Name; DROP"])
    with pytest.raises(QueryBuildError):
        jql([Condition("project\nOR", "=", "x")])


@pytest.mark.parametrize("op", ["==", "OR", "; DROP", "LIKE2", "~", "<>", "IS", "", "in  "])
def test_soql_operators_come_from_a_closed_list(op: str) -> None:
    with pytest.raises(QueryBuildError, match="operator"):
        soql(["Id"], "Account", where=[Condition("Name", op, "x")])


@pytest.mark.parametrize("op", ["==", "LIKE", "WAS", "CHANGED", "OR", "", '= "x" OR'])
def test_jql_operators_come_from_a_closed_list(op: str) -> None:
    with pytest.raises(QueryBuildError, match="operator"):
        jql([Condition("project", op, "x")])


def test_operators_are_case_insensitive() -> None:
    query = soql(
        ["Id"],
        "Account",
        where=[Condition("Name", "like", "Ac%"), Condition("Type", "not in", ("A", "B"))],
    )

    assert query == "SELECT Id FROM Account WHERE Name LIKE 'Ac%' AND Type NOT IN ('A', 'B')"


@pytest.mark.parametrize("value", [[], (), "abc", b"abc", None, 5, iter(["a"])])
@pytest.mark.parametrize("op", ["IN", "NOT IN"])
def test_in_needs_a_non_empty_list(op: str, value: Any) -> None:
    with pytest.raises(QueryBuildError, match="non-empty list"):
        soql(["Id"], "Account", where=[Condition("Id", op, value)])
    with pytest.raises(QueryBuildError, match="non-empty list"):
        jql([Condition("key", op, value)])


def test_jql_is_compares_only_with_empty() -> None:
    assert jql([Condition("assignee", "is", None)]) == "assignee IS EMPTY"
    assert jql([Condition("duedate", "IS NOT", None)]) == "duedate IS NOT EMPTY"
    with pytest.raises(QueryBuildError, match="EMPTY"):
        jql([Condition("assignee", "IS", "bob")])


def test_jql_in_list_and_order() -> None:
    query = jql(
        [Condition("project", "IN", ["HUB", 'X" OR "1']), Condition("cf[10050]", ">=", 1000)],
        order_by=["updated", "key desc"],
    )

    assert query == (
        'project IN ("HUB", "X\\" OR \\"1") AND cf[10050] >= 1000 ORDER BY updated ASC, key DESC'
    )


def test_jql_order_only() -> None:
    assert jql([], order_by=["created"]) == "ORDER BY created ASC"


# --- whole SOQL statements -----------------------------------------------------------------------


def test_soql_assembles_and_deduplicates_fields() -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    query = soql(
        ["Id", "Name", "Id"],
        "Opportunity",
        where=[
            Condition("IsWon", "=", True),
            Condition("SystemModstamp", ">=", since),
            Condition("AccountId", "!=", None),
        ],
        order_by=["SystemModstamp", "Id DESC"],
        limit=200,
    )

    assert query == (
        "SELECT Id, Name FROM Opportunity WHERE IsWon = TRUE"
        " AND SystemModstamp >= 2026-01-01T00:00:00Z AND AccountId != null"
        " ORDER BY SystemModstamp ASC, Id DESC LIMIT 200"
    )


@pytest.mark.parametrize("order", ["Name SIDEWAYS", "Name ASC NULLS LAST", "Name DESC; x"])
def test_bad_sort_direction_is_rejected(order: str) -> None:
    with pytest.raises(QueryBuildError):
        soql(["Id"], "Account", order_by=[order])


def test_soql_needs_fields() -> None:
    with pytest.raises(QueryBuildError, match="at least one field"):
        soql([], "Account")


@pytest.mark.parametrize("limit", [-1, True, 2.5, "10"])
def test_soql_limit_must_be_a_whole_non_negative_number(limit: Any) -> None:
    with pytest.raises(QueryBuildError, match="LIMIT"):
        soql(["Id"], "Account", limit=limit)


def test_soql_limit_zero_is_allowed() -> None:
    assert soql(["Id"], "Account", limit=0).endswith("LIMIT 0")
