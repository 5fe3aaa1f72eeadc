"""Unit tests of the sandbox's SOQL parser and query engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from handoff_hub.hub.http.query import Condition, soql, soql_like_pattern
from handoff_hub.sandboxes.salesforce.query import run_query
from handoff_hub.sandboxes.salesforce.schema import OBJECTS
from handoff_hub.sandboxes.salesforce.soql import (
    Comparison,
    Logical,
    Negation,
    SoqlError,
    like_pattern,
    parse,
)
from handoff_hub.sandboxes.salesforce.store import RecordStore

HOSTILE = "O'Brien\\' OR Name != '"
NOW = dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)


def test_select_with_relationships_where_order_limit():
    query = parse(
        "select Id, Owner.Email, Account.Name from Opportunity "
        "where SystemModstamp >= 2026-11-20T10:15:00Z and IsWon = true "
        "order by SystemModstamp asc, Id desc nulls first limit 10 offset 5"
    )
    assert query.fields == ("Id", "Owner.Email", "Account.Name")
    assert query.sobject == "Opportunity"
    assert isinstance(query.where, Logical) and query.where.op == "AND"
    stamp = query.where.items[0]
    assert isinstance(stamp, Comparison) and stamp.values[0].value == NOW
    assert [(t.field, t.descending, t.nulls_last) for t in query.order_by] == [
        ("SystemModstamp", False, False),
        ("Id", True, False),
    ]
    assert (query.limit, query.offset) == (10, 5)


@pytest.mark.parametrize(
    ("literal", "kind", "value"),
    [
        ("'plain'", "string", "plain"),
        (r"'tab\tnew\nline'", "string", "tab\tnew\nline"),
        (r"'quote\' dq\" bs\\'", "string", "quote' dq\" bs\\"),
        (r"'UPPER\N'", "string", "UPPER\n"),
        ("42", "number", Decimal("42")),
        ("-3.25", "number", Decimal("-3.25")),
        ("TRUE", "boolean", True),
        ("false", "boolean", False),
        ("null", "null", None),
        ("2026-11-20", "date", dt.date(2026, 11, 20)),
        ("2026-11-20T10:15:00.000+0000", "datetime", NOW),
        ("2026-11-20T12:15:00+02:00", "datetime", NOW),
    ],
)
def test_literals(literal, kind, value):
    comparison = parse(f"SELECT Id FROM Account WHERE Name = {literal}").where
    assert isinstance(comparison, Comparison)
    assert (comparison.values[0].kind, comparison.values[0].value) == (kind, value)


def test_in_not_in_like_and_not():
    where = parse(
        "SELECT Id FROM Account WHERE (Name IN ('a', 'b') OR Industry NOT IN ('x'))"
        " AND NOT Name LIKE 'z%' AND Type <> 'Other'"
    ).where
    assert isinstance(where, Logical) and where.op == "AND"
    first, negated, last = where.items
    assert isinstance(first, Logical) and first.op == "OR"
    assert [c.op for c in first.items if isinstance(c, Comparison)] == ["IN", "NOT IN"]
    assert isinstance(negated, Negation)
    assert isinstance(last, Comparison) and last.op == "!="


def test_count_query():
    query = parse("SELECT COUNT() FROM Opportunity WHERE IsWon = TRUE")
    assert query.count_only and query.fields == ()


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Account",
        "SELECT Id Account",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account WHERE Name = 'open",
        "SELECT Id FROM Account WHERE Name = 'bad \\q escape'",
        "SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Industry = 'c'",
        "SELECT Id FROM Account WHERE Name == 'a'",
        "SELECT Id FROM Account WHERE Name IN 'a'",
        "SELECT Id FROM Account WHERE Name LIKE 5",
        "SELECT Id FROM Account ORDER BY",
        "SELECT Id FROM Account LIMIT many",
        "SELECT Id FROM Account; DELETE FROM Account",
        "SELECT Id FROM Account WHERE Name = 'a' extra",
    ],
)
def test_malformed_queries(text):
    with pytest.raises(SoqlError) as caught:
        parse(text)
    assert caught.value.code == "MALFORMED_QUERY"


def test_escaped_hostile_value_is_one_literal():
    text = soql(["Id"], "Account", where=[Condition("Name", "=", HOSTILE)])
    where = parse(text).where
    assert isinstance(where, Comparison)
    assert where.values[0].value == HOSTILE


def test_like_wildcards_and_escapes():
    assert like_pattern("50\\%\\_off%").fullmatch("50%_off today")
    assert not like_pattern("50\\%\\_off%").fullmatch("50x_off today")
    assert like_pattern("a_c").fullmatch("ABC")
    literal = soql_like_pattern("100%_sure", suffix=True)[1:-1]
    assert like_pattern(literal).fullmatch("100%_sure thing")
    assert not like_pattern(literal).fullmatch("100xxsure thing")


@pytest.fixture
def store() -> RecordStore:
    store = RecordStore(lambda: NOW)
    user = store.put(
        OBJECTS["User"],
        {"Username": "u@x.example", "LastName": "U", "Email": "U@X.example", "Alias": "u"},
        NOW,
    )
    store.acting_user = user
    acme = store.put(OBJECTS["Account"], {"Name": "Acme", "OwnerId": user}, NOW)
    store.put(OBJECTS["Account"], {"Name": "O'Brien", "Industry": "Retail"}, NOW)
    store.put(OBJECTS["Account"], {"Name": HOSTILE, "Industry": "Media"}, NOW)
    store.put(OBJECTS["Account"], {"Name": "50%_off Ltd"}, NOW)
    for n, stage in enumerate(("Closed Won", "Prospecting", "Closed Lost")):
        store.put(
            OBJECTS["Opportunity"],
            {
                "Name": f"Deal {n}",
                "StageName": stage,
                "CloseDate": f"2026-0{n + 1}-15",
                "AccountId": acme,
                "Amount": 1000.0 * (n + 1) if n < 2 else None,
            },
            NOW - dt.timedelta(days=n),
        )
    return store


def names(store: RecordStore, where: str, sobject: str = "Account") -> list[str]:
    rows, _ = run_query(f"SELECT Name FROM {sobject} WHERE {where}", store, "61.0")
    return [r["Name"] for r in rows]


def test_hostile_values_match_literally(store):
    hostile = soql(["Name"], "Account", where=[Condition("Name", "=", HOSTILE)])
    rows, total = run_query(hostile, store, "61.0")
    assert total == 1 and rows[0]["Name"] == HOSTILE
    plain = soql(["Name"], "Account", where=[Condition("Name", "=", "O'Brien")])
    assert [r["Name"] for r in run_query(plain, store, "61.0")[0]] == ["O'Brien"]
    like = f"Name LIKE {soql_like_pattern('50%_off', suffix=True)}"
    assert names(store, like) == ["50%_off Ltd"]


def test_text_equality_is_case_insensitive_and_not_equal_keeps_nulls(store):
    assert names(store, "Name = 'ACME'") == ["Acme"]
    assert names(store, "Industry != 'Retail'") == ["Acme", HOSTILE, "50%_off Ltd"]
    assert names(store, "Industry = null") == ["Acme", "50%_off Ltd"]
    assert names(store, "Industry NOT IN ('Retail', 'Media')") == ["Acme", "50%_off Ltd"]


def test_numbers_dates_booleans_and_relationships(store):
    assert names(store, "Amount > 1500", "Opportunity") == ["Deal 1"]
    assert names(store, "CloseDate <= 2026-02-15 AND IsWon = FALSE", "Opportunity") == ["Deal 1"]
    assert names(store, "Account.Name = 'acme' AND IsClosed = TRUE", "Opportunity") == [
        "Deal 0",
        "Deal 2",
    ]
    since = "SystemModstamp >= 2026-11-19T10:15:00Z"
    assert names(store, since, "Opportunity") == ["Deal 0", "Deal 1"]


def test_relationship_projection_and_order(store):
    rows, total = run_query(
        "SELECT Name, Account.Owner.Email FROM Opportunity ORDER BY Amount DESC NULLS LAST",
        store,
        "61.0",
    )
    assert total == 3
    assert [r["Name"] for r in rows] == ["Deal 1", "Deal 0", "Deal 2"]
    assert rows[0]["Account"]["Owner"]["Email"] == "U@X.example"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"
    asc = run_query("SELECT Name FROM Opportunity ORDER BY Amount", store, "61.0")[0]
    assert [r["Name"] for r in asc] == ["Deal 2", "Deal 0", "Deal 1"]


def test_limit_offset_and_count(store):
    rows, _ = run_query("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1", store, "61.0")
    assert [r["Name"] for r in rows] == ["Acme", "O'Brien"]
    assert run_query("SELECT COUNT() FROM Opportunity WHERE IsWon = TRUE", store, "61.0") == ([], 1)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Bogus__c = 'x'", "INVALID_FIELD"),
        ("SELECT Owner.Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Nobody.Name FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
        ("SELECT Id FROM Opportunity WHERE Amount = '5'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = 2026-01-01T00:00:00Z", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE IsWon = 'true'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Description = 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Id = 'not-an-id'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Account ORDER BY Nope", "INVALID_FIELD"),
    ],
)
def test_query_errors(store, text, code):
    with pytest.raises(SoqlError) as caught:
        run_query(text, store, "61.0")
    assert caught.value.code == code
