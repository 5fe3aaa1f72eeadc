"""The sandbox's JQL parser and evaluator, and the search endpoint around them."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff_hub.hub.http.query import Condition, jql, jql_literal
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.jira.eval import search
from handoff_hub.sandboxes.jira.jql import (
    And,
    Clause,
    EmptyValue,
    FunctionCall,
    JqlError,
    ListValue,
    Literal,
    Not,
    Or,
    Sort,
    parse,
)

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


def test_parse_precedence_lists_and_order():
    query = parse(
        'project = DEL AND (labels IN ("a", b) OR NOT status != Done) '
        "ORDER BY updated ASC, key DESC"
    )
    assert query.order_by == (Sort("updated"), Sort("key", descending=True))
    assert isinstance(query.where, And)
    first, second = query.where.items
    assert first == Clause("project", "=", Literal("DEL"), 1)
    assert isinstance(second, Or) and isinstance(second.items[1], Not)
    assert second.items[0].operand == ListValue((Literal("a", True), Literal("b")))


def test_parse_operators_functions_and_empty():
    query = parse(
        "cf[10050] >= 10 && assignee = currentUser() || labels IS NOT EMPTY "
        "AND summary !~ 'x' AND duedate is null AND key NOT IN (DEL-1)"
    )
    assert isinstance(query.where, Or)
    left, right = query.where.items
    assert left.items[1].operand == FunctionCall("currentUser")
    assert right.items[0] == Clause("labels", "IS NOT", EmptyValue(), 48)
    assert [c.op for c in right.items[1:]] == ["!~", "IS", "NOT IN"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"line\nbreak"', "line\nbreak"),
        (r"'single \' quote'", "single ' quote"),
        (r'"\u0041BC"', "ABC"),
        ('"x OR y = z"', "x OR y = z"),
    ],
)
def test_string_literal_escapes(text, value):
    assert parse(f"summary ~ {text}").where == Clause("summary", "~", Literal(value, True), 1)


@pytest.mark.parametrize(
    "value",
    [
        'a" OR project != "DEL',
        "back\\",
        'x\\" OR key IS NOT EMPTY OR summary ~ "',
        "new\nline",
        'tab\tand "quotes"',
        ") OR (1 = 1",
        "' OR ''='",
    ],
)
def test_hub_literals_round_trip_through_the_parser(value):
    query = parse(jql([Condition("summary", "~", value)]))
    assert query.where == Clause("summary", "~", Literal(value, True), 1)
    assert parse(f"labels IN ({jql_literal(value)}, {jql_literal('b')})").where.operand.items[
        0
    ] == Literal(value, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("project = ", "Expecting either a value, 'EMPTY' or a function but got the end"),
        ("project DEL", "Expecting operator but got 'DEL'"),
        ('summary ~ "open', "The quoted string has not been completed"),
        ("labels = a.b", "The character '.' is a reserved JQL character"),
        ("project = DEL ORDER updated", "Expecting 'BY'"),
        ("(project = DEL", "Expecting ')'"),
        ("a = b c = d", "Expecting either 'OR' or 'AND' but got 'c'"),
        (r'summary ~ "\q"', "The escape sequence '\\q' is illegal"),
        ("status IS Done", "Expecting 'EMPTY' or 'NULL'"),
    ],
)
def test_malformed_queries_fail_like_jira(text, message):
    with pytest.raises(JqlError) as caught:
        parse(text)
    assert caught.value.message.startswith("Error in the JQL Query: ")
    assert message in caught.value.message and "(line 1, character" in caught.value.message


@pytest.fixture(scope="module")
def site() -> JiraSandbox:
    return JiraSandbox(
        seed=21, records=60, clock=lambda: NOW, profile={"user_time_zone": "Asia/Tokyo"}
    )


def keys(site: JiraSandbox, text: str) -> list[str]:
    return [i.key for i in search(site.store, text, zone=site.store.me.time_zone)]


def test_evaluation_matches_the_data(site):
    store = site.store
    epics = {i.key for i in store.issues.values() if i.issuetype == "Epic"}
    assert set(keys(site, "project = DEL AND issuetype = Epic")) == epics
    assert set(keys(site, "issuetype in (epic, 10000)")) == epics
    done = {i.key for i in store.issues.values() if i.status == "Done"}
    assert (
        set(keys(site, "project = Delivery AND status != Done"))
        == {i.key for i in store.issues.values()} - done
    )
    rich = {i.key for i in store.issues.values() if i.custom.get("customfield_10050", 0) > 200000}
    assert set(keys(site, "cf[10050] > 200000")) == rich
    assert set(keys(site, '"Budget" > 200000')) == rich
    red = {
        i.key
        for i in store.issues.values()
        if i.custom.get("customfield_10052") == {"value": "Red"}
    }
    assert set(keys(site, '"Delivery health" = red')) == red
    first = min(epics, key=lambda k: store.issue(k).id)
    children = {i.key for i in store.issues.values() if i.parent == store.issue(first).id}
    assert set(keys(site, f"parent = {first}")) == children
    assert set(keys(site, "labels = customer-feedback")) == {
        i.key for i in store.issues.values() if "customer-feedback" in i.labels
    }


def test_empty_values_and_negation(site):
    store = site.store
    unassigned = {i.key for i in store.issues.values() if i.assignee is None}
    assert set(keys(site, "assignee IS EMPTY")) == unassigned
    assert set(keys(site, "assignee = EMPTY")) == unassigned
    # != never matches an empty field, as in Jira
    labelled = {i.key for i in store.issues.values() if i.labels}
    assert set(keys(site, "labels != delivery")) == {
        i.key for i in store.issues.values() if i.labels and "delivery" not in i.labels
    }
    assert set(keys(site, "labels IS NOT EMPTY")) == labelled
    assert (
        set(keys(site, "NOT labels IS NOT EMPTY"))
        == {i.key for i in store.issues.values()} - labelled
    )


def test_dates_are_read_in_the_users_time_zone(site):
    cut = dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo
    expected = {i.key for i in site.store.issues.values() if i.updated >= cut}
    assert set(keys(site, 'updated >= "2026/11/15 12:00"')) == expected
    assert set(keys(site, 'updated >= "2026-11-15 12:00"')) == expected
    recent = {i.key for i in site.store.issues.values() if i.updated >= NOW - dt.timedelta(days=2)}
    assert set(keys(site, "updated >= -2d")) == recent
    assert set(keys(site, "updated >= -48h")) == recent


def test_ordering(site):
    ordered = keys(site, "project = DEL ORDER BY updated ASC, key ASC")
    stamps = [site.store.issue(k).updated for k in ordered]
    assert stamps == sorted(stamps)
    by_key = keys(site, "project = DEL ORDER BY key DESC")
    assert [site.store.issue(k).number for k in by_key] == sorted(
        (site.store.issue(k).number for k in by_key), reverse=True
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("order by key desc", "Unbounded JQL queries are not allowed here"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist or you do not have permission"),
        ('summary = "Kick-off"', "The operator '=' is not supported by the 'summary' field."),
        ("key = DEL-9999", "An issue with key 'DEL-9999' does not exist for field 'key'."),
        ('"Delivery health" = purple', "The option 'purple' for field 'Delivery health'"),
        ('updated > "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
        ('assignee = "nobody@example.com"', "The value 'nobody@example.com' does not exist"),
        ("assignee = nobody@example.com", "The character '@' is a reserved JQL character"),
        ("project = DEL ORDER BY labels", "Field 'labels' does not support sorting."),
        ("assignee = whoami()", "Unable to find JQL function 'whoami()'."),
    ],
)
def test_invalid_queries_fail_like_jira(site, text, message):
    with pytest.raises(JqlError) as caught:
        keys(site, text)
    assert message in caught.value.message


def test_search_endpoint_errors_and_paging(raw_client, sandbox):
    bad = raw_client.post("/rest/api/3/search/jql", json={"jql": "project = DEL AND"})
    assert bad.status_code == 400 and bad.json()["errors"] == {}
    assert bad.json()["errorMessages"][0].startswith("Error in the JQL Query:")
    unknown = raw_client.post("/rest/api/3/search/jql", json={"jql": "project = DEL", "x": 1})
    assert unknown.status_code == 400
    body = {"jql": "project = DEL ORDER BY key ASC", "maxResults": 25, "fields": ["summary"]}
    first = raw_client.post("/rest/api/3/search/jql", json=body).json()
    assert len(first["issues"]) == 25 and first["isLast"] is False
    assert set(first["issues"][0]["fields"]) == {"summary"}
    second = raw_client.get(
        "/rest/api/3/search/jql",
        params={
            "jql": body["jql"],
            "maxResults": 25,
            "fields": "summary",
            "nextPageToken": first["nextPageToken"],
        },
    ).json()
    assert second["issues"][0]["key"] != first["issues"][-1]["key"]
    stale = raw_client.post(
        "/rest/api/3/search/jql",
        json={**body, "jql": "project = DEL", "nextPageToken": first["nextPageToken"]},
    )
    assert stale.status_code == 400
    ids_only = raw_client.post(
        "/rest/api/3/search/jql", json={"jql": "project = DEL", "maxResults": 5000}
    ).json()
    assert set(ids_only["issues"][0]) == {"expand", "id", "self", "key"}
    assert ids_only["isLast"] is True and "nextPageToken" not in ids_only
