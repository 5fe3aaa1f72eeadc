"""Injection: every hostile value of hub.testing.hostile through every query-building path.

Each connector runs for real against its sandbox (in-process transport). For
every path that puts a value into a query (SOQL, JQL, Lucene text search,
HubSpot search filters and batch reads, Asana URL parameters and paths) and
every hostile value, after seeding one record holding exactly that value:

(a) the connector answers, or refuses with the error the product (or the query
    builder, for what no product can take) gives, and nothing else;
(b) the answer is exactly the record(s) holding that literal value;
(c) every query the sandbox received parses, with the sandbox's own parser,
    into the same tree as with a benign value: same clauses, same operators,
    the value in the benign value's place and nowhere else. JSON bodies and
    URL parameters must equal the benign ones but for the value.

Decisions, product by product:

* NUL: refused for SOQL and JQL by the query builder (QueryBuildError, a
  record-level error): Jira Cloud runs on PostgreSQL, which cannot store NUL
  in text, and SOQL has no escape for it. HubSpot filters (JSON) and Asana
  parameters (``%00``) carry it, so it is sent there and finds nothing. It is
  seeded nowhere: no product documents keeping it.
* An unpaired surrogate is not text (UTF-8 cannot encode it; httpx would fail
  deep inside the request with a UnicodeEncodeError): every path that sends a
  value refuses it with QueryBuildError. Jira's stamp labels never contain it.
* JQL: control characters other than line breaks, and the non-characters
  U+FDD0..U+FDEF, U+FFFE, U+FFFF, may not stand raw in a JQL string (Jira's
  grammar, CONTROLCHARS; tab included): the builder writes them as
  ``\\uXXXX`` and the sandbox parser refuses them raw, as Jira does.
* JQL ``~`` is a Lucene search: the value's operators are escaped, the words
  AND, OR and NOT included (``alpha NOT beta`` would exclude the very issue
  holding it); the sandbox reads the operand as Lucene and must see one group
  of plain words, those of the value. A blank value is not searched (Jira
  refuses an empty text search) and so is never found. Lucene's analysis
  (stemming, punctuation dropped) is not emulated: words match as substrings.
* Blank text is "no value" in all four products (or refused), so blank values
  are not seeded and finding nothing for them is right. Longer than the field
  allows (Salesforce and Jira: 255) is not seeded either; Jira labels cannot
  hold white space. HubSpot trims property values on write, so the exact
  lookup of ``"  padded value  "`` rightly finds nothing (the record holds
  ``"padded value"``), while search filters, which ignore case and
  surrounding white space, do find it.
* Jira refuses ``=`` on text fields and names of options that do not exist:
  those ``where`` filters fail with a 400 RecordError naming the field, for a
  benign value just as for a hostile one.
* Ids: a value that cannot be a record id (Salesforce: 15/18 characters,
  Jira: a key or a number, Asana: a gid) is left out of ``read_by_ids``
  unasked; an Asana ``parent`` scope must be a gid (QueryBuildError). Path
  parts are quoted, dots included, so ``..`` cannot climb the URL path.
* HubSpot and Asana ``find_users`` match client-side over listings: no value
  reaches a query, and none matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.connectors.jira.values import lucene_escape
from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig
from handoff_hub.hub.errors import HubError, NotFoundError, QueryBuildError, RecordError
from handoff_hub.hub.http import RetryPolicy
from handoff_hub.hub.http.query import Condition, jql, soql, soql_like_pattern
from handoff_hub.hub.registry import connector_class
from handoff_hub.hub.testing.hostile import BENIGN, HOSTILE, Hostile
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import CRM_ID_FIELD, DELIVERY_PROJECTS
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.jira.jql import And as JqlAnd
from handoff_hub.sandboxes.jira.jql import (
    Clause,
    EmptyValue,
    FunctionCall,
    JqlError,
    ListValue,
    Node,
    TextQuery,
    TextTerm,
    parse_text,
)
from handoff_hub.sandboxes.jira.jql import Literal as JqlLiteral
from handoff_hub.sandboxes.jira.jql import Not as JqlNot
from handoff_hub.sandboxes.jira.jql import Or as JqlOr
from handoff_hub.sandboxes.jira.jql import parse as jql_parse
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox
from handoff_hub.sandboxes.salesforce.soql import (
    Comparison,
    Expr,
    Logical,
    Negation,
    SoqlError,
    like_pattern,
)
from handoff_hub.sandboxes.salesforce.soql import Literal as SoqlLiteral
from handoff_hub.sandboxes.salesforce.soql import parse as soql_parse

OTHER = "other benign value"
"""The second value of ``IN`` lists, next to the hostile one."""
CASES = [pytest.param(h, id=h.label) for h in HOSTILE]
_SURROGATE = re.compile("[\ud800-\udfff]")


def unsendable(value: str) -> bool:
    """No HTTP request can carry it (UTF-8 has no encoding for it)."""
    return _SURROGATE.search(value) is not None


def no_literal(value: str) -> bool:
    """The SOQL/JQL builder refuses it."""
    return "\x00" in value or unsendable(value)


def storable(value: str, limit: int | None = None) -> bool:
    """A text field of the product holds it (see the module docstring)."""
    fits = limit is None or len(value) <= limit
    return bool(value.strip()) and fits and not no_literal(value)


# --- the wire ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One query as the sandbox received it: its shape, and the strings taken out of it."""

    kind: str
    shape: Any
    strings: tuple[str, ...]


class Wire(httpx.BaseTransport):
    """Passes requests to the sandbox and keeps them."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _json_seen(kind: str, data: Any) -> Seen:
    strings: list[str] = []

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            strings.append(node)
            return "?"
        if isinstance(node, list):
            return [walk(n) for n in node]
        if isinstance(node, dict):
            return {k: walk(node[k]) for k in sorted(node)}
        return node

    return Seen(kind, json.dumps(walk(data)), tuple(strings))


def _params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params.multi_items())


def soql_seen(text: str) -> Seen:
    """The sandbox's parse of a SOQL query, string literals taken out."""
    strings: list[str] = []

    def blank(literal: SoqlLiteral) -> SoqlLiteral:
        if literal.kind != "string":
            return literal
        strings.append(literal.value)
        return SoqlLiteral("string", "?", "?")

    def walk(expr: Expr) -> Expr:
        if isinstance(expr, Comparison):
            return replace(expr, values=tuple(blank(v) for v in expr.values))
        if isinstance(expr, Logical):
            return replace(expr, items=tuple(walk(i) for i in expr.items))
        assert isinstance(expr, Negation)
        return replace(expr, item=walk(expr.item))

    query = soql_parse(text)
    where = walk(query.where) if query.where is not None else None
    return Seen("soql", replace(query, where=where), tuple(strings))


def jql_seen(text: str) -> Seen:
    """The sandbox's parse of a JQL query, quoted literals taken out."""
    strings: list[str] = []

    def value(item: JqlLiteral | FunctionCall) -> JqlLiteral | FunctionCall:
        if isinstance(item, JqlLiteral) and item.quoted:
            strings.append(item.text)
            return JqlLiteral("?", quoted=True)
        return item

    def walk(node: Node) -> Node:
        if isinstance(node, Clause):
            operand = node.operand
            if isinstance(operand, ListValue):
                return replace(node, operand=ListValue(tuple(value(i) for i in operand.items)))
            if isinstance(operand, EmptyValue):
                return node
            return replace(node, operand=value(operand))
        if isinstance(node, JqlNot):
            return JqlNot(walk(node.item))
        if isinstance(node, JqlAnd):
            return JqlAnd(tuple(walk(i) for i in node.items))
        assert isinstance(node, JqlOr)
        return JqlOr(tuple(walk(i) for i in node.items))

    query = jql_parse(text)
    where = walk(query.where) if query.where is not None else None
    return Seen("jql", replace(query, where=where), tuple(strings))


def _salesforce_seen(request: httpx.Request) -> Seen | None:
    if request.method == "GET" and request.url.path.endswith("/query"):
        return soql_seen(request.url.params["q"])
    if request.method == "POST" and "/composite/sobjects/" in request.url.path:
        return _json_seen("retrieve", json.loads(request.content))
    return None


def _jira_seen(request: httpx.Request) -> Seen | None:
    path = request.url.path
    if path.endswith("/search/jql"):
        body = json.loads(request.content)
        return None if body.get("nextPageToken") else jql_seen(body["jql"])
    if path.endswith("/user/search"):
        return _json_seen("user search", _params(request))
    if request.method == "GET" and "/rest/api/3/issue/" in path:
        key = unquote(request.url.raw_path.decode().split("?")[0].rsplit("/", 1)[1])
        return Seen("issue", "GET /issue/?", (key,))
    return None


def _hubspot_seen(request: httpx.Request) -> Seen | None:
    path = request.url.path
    if path.endswith(("/search", "/batch/read")) and "/crm/v3/objects/" in path:
        body = json.loads(request.content)
        return None if body.get("after") else _json_seen(path.rsplit("/", 1)[1], body)
    return None


def _asana_seen(request: httpx.Request) -> Seen | None:
    if request.method != "GET":
        return None
    path = unquote(request.url.raw_path.decode().split("?")[0])
    params = {k: v for k, v in _params(request).items() if k not in {"offset", "opt_fields"}}
    if path.endswith(("/tasks/search", "/tasks", "/subtasks")):
        return _json_seen("listing", {"path": path.split("/"), "params": params})
    return None


# --- the worlds: one seeded sandbox and its connector per product --------------------------------


@dataclass
class Outcome:
    """What one connector call answered or raised, and the queries it sent."""

    result: Any
    error: BaseException | None
    seen: list[Seen]


@dataclass
class World:
    """A seeded sandbox, the connector talking to it, and the ids of the seeded records."""

    sandbox: Any
    connector: Any
    wire: Wire
    extract: Callable[[httpx.Request], Seen | None]
    ids: dict[str, str] = field(default_factory=dict)
    _baselines: dict[str, Outcome] = field(default_factory=dict)

    def call(self, operation: Callable[[str], Any], value: str) -> Outcome:
        """Run ``operation(value)``, keeping its result or error and the queries sent."""
        mark = len(self.wire.sent)
        result: Any = None
        error: BaseException | None = None
        try:
            result = operation(value)
        except HubError as exc:
            error = exc
        seen = [s for r in self.wire.sent[mark:] if (s := self.extract(r)) is not None]
        return Outcome(result, error, seen)

    def baseline(self, name: str, operation: Callable[[str], Any]) -> Outcome:
        """The outcome for :data:`BENIGN` (once per path)."""
        if name not in self._baselines:
            self._baselines[name] = self.call(operation, BENIGN)
        return self._baselines[name]

    def same_shape(
        self,
        name: str,
        operation: Callable[[str], Any],
        outcome: Outcome,
        value: str,
        literal: Callable[[str], str] = lambda v: v,
    ) -> None:
        """Every query sent has the benign query's shape, the value in the benign one's place."""
        benign = self.baseline(name, operation)
        assert benign.seen, f"{name}: the benign call sent no query"
        assert len(outcome.seen) == len(benign.seen), (outcome.seen, benign.seen)
        swap = {literal(BENIGN): literal(value)}
        for got, want in zip(outcome.seen, benign.seen, strict=True):
            assert got.kind == want.kind
            assert got.shape == want.shape, f"{name}: the query changed shape"
            assert got.strings == tuple(swap.get(s, s) for s in want.strings)


def _system(
    connector: str, sandbox: Any, base_url: str, extra: Mapping[str, Any], mp: pytest.MonkeyPatch
) -> SystemConfig:
    credentials = {}
    for name, value in sandbox.credentials.items():
        variable = f"HUB_TEST_INJECTION_{connector}_{name}".upper()
        mp.setenv(variable, value)
        credentials[name] = EnvSecret(env=variable)
    system = SystemConfig(
        connector=connector,
        base_url=base_url,
        mapping="unused.yaml",
        credentials=credentials,
        settings={**sandbox.settings, **extra},
        rate_limit=RateLimitConfig(requests=100_000, per_seconds=1),
        max_retries=0,
    )
    system.bind_name(connector)
    return system


@pytest.fixture(scope="module")
def world_of() -> Iterator[Callable[..., World]]:
    made: list[World] = []

    with pytest.MonkeyPatch.context() as mp:

        def make(
            connector: str,
            sandbox: Any,
            base_url: str,
            extract: Callable[[httpx.Request], Seen | None],
            settings: Mapping[str, Any] | None = None,
        ) -> World:
            wire = Wire(sandbox.transport())
            system = _system(connector, sandbox, base_url, settings or {}, mp)
            cls: Any = connector_class(connector)
            built = cls.from_config(
                system, transport=wire, retry=RetryPolicy(max_attempts=1, sleep=lambda _s: None)
            )
            world = World(sandbox, built, wire, extract)
            made.append(world)
            return world

        yield make
        for world in made:
            world.connector.close()
            world.wire.close()


def _created(results: Sequence[Any], labels: Sequence[str]) -> dict[str, str]:
    failed = [(label, r.error) for label, r in zip(labels, results, strict=True) if not r.ok]
    assert not failed, f"the product refused seeding: {failed}"
    return {label: str(r.id) for label, r in zip(labels, results, strict=True)}


def _records(values: Sequence[tuple[str, str]], make: Callable[[str, str], Any]) -> list[Any]:
    return [make(label, value) for label, value in values]


def _seedable(
    limit: int | None = None, extra: Callable[[str], bool] = lambda _v: True
) -> list[tuple[str, str]]:
    cases = [(h.label, h.value) for h in HOSTILE] + [("BENIGN", BENIGN), ("OTHER", OTHER)]
    return [(label, v) for label, v in cases if storable(v, limit) and extra(v)]


def _rows(pages: Iterator[Any]) -> list[str]:
    return [r.id for page in pages for r in page.records]


# --- Salesforce ----------------------------------------------------------------------------------

SF_FIELD = "Handoff_Hub_Id__c"


@pytest.fixture(scope="module")
def sf(world_of: Callable[..., World]) -> World:
    world = world_of(
        "salesforce",
        SalesforceSandbox(seed=5, records=10),
        "https://x.my.salesforce.com",
        _salesforce_seen,
    )
    seeds = _seedable(255)
    results = world.connector.create(
        "Account", _records(seeds, lambda label, v: {"Name": v, SF_FIELD: v})
    )
    world.ids = _created(results, [label for label, _ in seeds])
    return world


def _sf_external(world: World) -> Callable[[str], Any]:
    return lambda v: world.connector.find_by_external_id("Account", SF_FIELD, [v])


def _sf_where(world: World, value: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda v: set(
        _rows(
            world.connector.read_changes(
                "Account", since=None, fields=["Name"], where={"Name": value(v)}
            )
        )
    )


@pytest.mark.parametrize("case", CASES)
def test_salesforce_find_by_external_id(sf: World, case: Hostile) -> None:
    operation = _sf_external(sf)
    outcome = sf.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = sf.ids.get(case.label)
    assert outcome.result == ({case.value: held} if held else {})
    sf.same_shape("external id", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_salesforce_where_on_a_text_field(sf: World, case: Hostile) -> None:
    operation = _sf_where(sf, lambda v: v)
    outcome = sf.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = sf.ids.get(case.label)
    assert outcome.result == ({held} if held else set())
    sf.same_shape("where Name =", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_salesforce_where_in_a_list(sf: World, case: Hostile) -> None:
    operation = _sf_where(sf, lambda v: [v, OTHER])
    outcome = sf.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = sf.ids.get(case.label)
    assert outcome.result == {sf.ids["OTHER"]} | ({held} if held else set())
    sf.same_shape("where Name IN", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_salesforce_find_users(sf: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: sf.connector.find_users([v])  # noqa: E731
    outcome = sf.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None and outcome.result == {}
    sf.same_shape("users", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fields", [["Name"], ["Name", "Owner.Email"]], ids=["retrieve", "soql"])
def test_salesforce_read_by_ids(sf: World, case: Hostile, fields: list[str]) -> None:
    known = sf.ids["BENIGN"]
    operation: Callable[[str], Any] = lambda v: [  # noqa: E731
        r.id for r in sf.connector.read_by_ids("Account", [v, known], fields=fields)
    ]
    outcome = sf.call(operation, case.value)
    assert outcome.error is None and outcome.result == [known]
    sf.same_shape(f"ids {fields}", operation, outcome, case.value)


# --- Jira ----------------------------------------------------------------------------------------

JIRA_TEXT = "customfield_10051"
JIRA_OPTION = "customfield_10052"
_ISSUE = {"project": {"key": "DEL"}, "issuetype": {"name": "Task"}}


@pytest.fixture(scope="module")
def jira(world_of: Callable[..., World]) -> World:
    world = world_of("jira", JiraSandbox(seed=5, records=10), "https://x.atlassian.net", _jira_seen)
    texts = _seedable(255)
    labels = _seedable(255, lambda v: re.search(r"\s", v) is None)
    stamps = [(h.label, h.value) for h in HOSTILE]
    records = [
        *_records(texts, lambda label, v: {**_ISSUE, "summary": f"text {label}", JIRA_TEXT: v}),
        *_records(labels, lambda label, v: {**_ISSUE, "summary": f"label {label}", "labels": [v]}),
        *_records(
            stamps,
            lambda label, v: {**_ISSUE, "summary": f"stamp {label}", "labels": [stamp_label(v)]},
        ),
    ]
    names = [f"text:{k}" for k, _ in texts] + [f"label:{k}" for k, _ in labels]
    names += [f"stamp:{k}" for k, _ in stamps]
    world.ids = _created(world.connector.create("issue", records), names)
    return world


def _first_with_stamp(world: World, value: str) -> str | None:
    """The oldest seeded issue carrying the stamp label of ``value`` (labels may collide)."""
    label = stamp_label(value)
    keys = [world.ids[f"stamp:{h.label}"] for h in HOSTILE if stamp_label(h.value) == label]
    return min(keys, key=lambda k: int(k.rsplit("-", 1)[1]), default=None)


def _jira_changes(world: World, key: str, value: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda v: set(
        _rows(
            world.connector.read_changes(
                "issue", since=None, fields=["labels"], where={key: value(v)}
            )
        )
    )


@pytest.mark.parametrize("case", CASES)
def test_jira_find_by_text_field(jira: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: jira.connector.find_by_external_id(  # noqa: E731
        "issue", JIRA_TEXT, [v]
    )
    outcome = jira.call(operation, case.value)
    if not case.value.strip():
        assert outcome.error is None and outcome.result == {} and not outcome.seen
        return
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = jira.ids.get(f"text:{case.label}")
    assert outcome.result == ({case.value: held} if held else {})
    jira.same_shape("text ~", operation, outcome, case.value, lucene_escape)
    [seen] = outcome.seen
    assert_plain_words(parse_text(seen.strings[0], "cf[10051]"), case.value)


def assert_plain_words(query: TextQuery, value: str) -> None:
    """The Lucene query is one group of plain words: those of ``value``, nothing excluded."""
    assert len(query.groups) == 1, "the value split the search into alternatives"
    [group] = query.groups
    assert not any(c.excluded for c in group), "a word of the value became an exclusion"
    terms = [c.item for c in group]
    assert all(isinstance(t, TextTerm) and not t.phrase for t in terms)
    assert all(
        escaped for t in terms if isinstance(t, TextTerm) for c, escaped in t.chars if c in "*?"
    )
    assert [t.text for t in terms if isinstance(t, TextTerm)] == value.split()


@pytest.mark.parametrize("case", CASES)
def test_jira_find_by_stamp_label(jira: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: jira.connector.find_by_external_id(  # noqa: E731
        "issue", "label", [v]
    )
    outcome = jira.call(operation, case.value)
    assert outcome.error is None
    assert outcome.result == {case.value: _first_with_stamp(jira, case.value)}
    jira.same_shape("stamp label", operation, outcome, case.value, stamp_label)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("listed", [False, True], ids=["equals", "in-list"])
def test_jira_where_on_labels(jira: World, case: Hostile, listed: bool) -> None:
    operation = _jira_changes(jira, "labels", (lambda v: [v, "b"]) if listed else (lambda v: v))
    outcome = jira.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = jira.ids.get(f"label:{case.label}")
    assert outcome.result == ({held} if held else set())
    jira.same_shape(f"labels {listed}", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("summary", "The operator '=' is not supported by the 'summary' field."),
        (JIRA_OPTION, "for field 'Delivery health' does not exist."),
    ],
    ids=["text-field", "option-field"],
)
def test_jira_where_the_product_refuses(jira: World, case: Hostile, key: str, message: str) -> None:
    operation = _jira_changes(jira, key, lambda v: v)
    outcome = jira.call(operation, case.value)
    if no_literal(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert isinstance(outcome.error, RecordError) and outcome.error.status == 400
    assert message in str(outcome.error)
    benign = jira.baseline(f"refused {key}", operation)
    assert type(benign.error) is type(outcome.error)
    jira.same_shape(f"refused {key}", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_jira_read_by_ids(jira: World, case: Hostile) -> None:
    known = jira.ids["text:BENIGN"]
    operation: Callable[[str], Any] = lambda v: [  # noqa: E731
        r.id for r in jira.connector.read_by_ids("issue", [v, known], fields=["summary"])
    ]
    outcome = jira.call(operation, case.value)
    assert outcome.error is None and outcome.result == [known]
    jira.same_shape("ids", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_jira_find_users(jira: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: jira.connector.find_users([v])  # noqa: E731
    outcome = jira.call(operation, case.value)
    if not case.value.strip():
        assert outcome.error is None and outcome.result == {} and not outcome.seen
        return
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None and outcome.result == {}
    jira.same_shape("users", operation, outcome, case.value)


# --- HubSpot -------------------------------------------------------------------------------------

HS_FIELD = "handoff_hub_id"


@pytest.fixture(scope="module")
def hubspot(world_of: Callable[..., World]) -> World:
    sandbox = HubSpotSandbox(seed=5, records=10, rate_limit=RateLimits.generous())
    fast = {"search_lag_seconds": 0, "search_requests_per_second": 10_000}
    world = world_of("hubspot", sandbox, "https://api.hubapi.com", _hubspot_seen, fast)
    seeds = _seedable()
    results = world.connector.create(
        "companies", _records(seeds, lambda _label, v: {"name": v, HS_FIELD: v})
    )
    world.ids = _created(results, [label for label, _ in seeds])
    return world


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("prop", [HS_FIELD, "name"], ids=["unique-batch-read", "search-in"])
def test_hubspot_find_by_external_id(hubspot: World, case: Hostile, prop: str) -> None:
    operation: Callable[[str], Any] = lambda v: hubspot.connector.find_by_external_id(  # noqa: E731
        "companies", prop, [v]
    )
    outcome = hubspot.call(operation, case.value)
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = hubspot.ids.get(case.label) if case.value == case.value.strip() else None
    assert outcome.result == ({case.value: held} if held else {})
    hubspot.same_shape(f"external id {prop}", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("listed", [False, True], ids=["equals", "in-list"])
def test_hubspot_where(hubspot: World, case: Hostile, listed: bool) -> None:
    value: Callable[[str], Any] = (lambda v: [v, OTHER]) if listed else (lambda v: v)
    operation: Callable[[str], Any] = lambda v: set(  # noqa: E731
        _rows(
            hubspot.connector.read_changes(
                "companies", since=None, fields=["name"], where={"name": value(v)}
            )
        )
    )
    outcome = hubspot.call(operation, case.value)
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = hubspot.ids.get(case.label)
    wanted = ({held} if held else set()) | ({hubspot.ids["OTHER"]} if listed else set())
    assert outcome.result == wanted
    hubspot.same_shape(f"where {listed}", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_hubspot_read_by_ids(hubspot: World, case: Hostile) -> None:
    known = hubspot.ids["BENIGN"]
    operation: Callable[[str], Any] = lambda v: [  # noqa: E731
        r.id for r in hubspot.connector.read_by_ids("companies", [v, known], fields=["name"])
    ]
    outcome = hubspot.call(operation, case.value)
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None and outcome.result == [known]
    hubspot.same_shape("ids", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_hubspot_find_users(hubspot: World, case: Hostile) -> None:
    outcome = hubspot.call(lambda v: hubspot.connector.find_users([v]), case.value)
    assert outcome.error is None and outcome.result == {} and not outcome.seen


# --- Asana ---------------------------------------------------------------------------------------

PROJECT = DELIVERY_PROJECTS[0]


@pytest.fixture(scope="module")
def asana(world_of: Callable[..., World]) -> World:
    world = world_of(
        "asana", AsanaSandbox(seed=5, records=10), "https://app.asana.com", _asana_seen
    )
    seeds = _seedable()
    results = world.connector.create(
        "tasks",
        _records(
            seeds,
            lambda label, v: {
                "name": f"hostile {label}",
                "projects": [PROJECT],
                "custom_fields": {"crm_id": v},
            },
        ),
    )
    world.ids = _created(results, [label for label, _ in seeds])
    return world


@pytest.mark.parametrize("case", CASES)
def test_asana_find_by_external_id(asana: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: asana.connector.find_by_external_id(  # noqa: E731
        "tasks", "crm_id", [v]
    )
    outcome = asana.call(operation, case.value)
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert outcome.error is None
    held = asana.ids.get(case.label)
    assert outcome.result == ({case.value: held} if held else {})
    asana.same_shape("search", operation, outcome, case.value)
    [seen] = outcome.seen
    assert f"custom_fields.{CRM_ID_FIELD}.value" in seen.shape


@pytest.mark.parametrize("case", CASES)
def test_asana_where_on_a_custom_field(asana: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: set(  # noqa: E731
        _rows(
            asana.connector.read_changes(
                "tasks",
                since=None,
                fields=["name", "custom_fields"],
                where={"project": PROJECT, "custom_fields.crm_id": v},
            )
        )
    )
    outcome = asana.call(operation, case.value)
    assert outcome.error is None
    held = asana.ids.get(case.label)
    assert outcome.result == ({held} if held else set())
    asana.same_shape("where custom field", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_asana_where_on_a_listing_scope(asana: World, case: Hostile) -> None:
    operation: Callable[[str], Any] = lambda v: set(  # noqa: E731
        _rows(
            asana.connector.read_changes("tasks", since=None, fields=["name"], where={"project": v})
        )
    )
    outcome = asana.call(operation, case.value)
    if unsendable(case.value):
        assert isinstance(outcome.error, QueryBuildError) and not outcome.seen
        return
    assert isinstance(outcome.error, RecordError | NotFoundError), outcome.error
    assert outcome.error.status in {400, 404}
    asana.same_shape("scope project", operation, outcome, case.value)


@pytest.mark.parametrize("case", CASES)
def test_asana_where_parent_takes_only_a_gid(asana: World, case: Hostile) -> None:
    outcome = asana.call(
        lambda v: _rows(asana.connector.read_changes("tasks", since=None, where={"parent": v})),
        case.value,
    )
    assert isinstance(outcome.error, QueryBuildError) and not outcome.seen


@pytest.mark.parametrize("case", CASES)
def test_asana_find_users_and_projects(asana: World, case: Hostile) -> None:
    users = asana.call(lambda v: asana.connector.find_users([v]), case.value)
    projects = asana.call(
        lambda v: asana.connector.find_by_external_id("projects", "crm_id", [v]), case.value
    )
    assert users.error is None and users.result == {}
    assert projects.error is None and projects.result == {}


@pytest.mark.parametrize("case", CASES)
def test_asana_read_by_ids(asana: World, case: Hostile) -> None:
    known = asana.ids["BENIGN"]
    found = asana.connector.read_by_ids("tasks", [case.value, known], fields=["name"])
    assert [r.id for r in found] == [known]


# --- names and paths -----------------------------------------------------------------------------

_HOSTILE_KEYS = ["Name = 'x' OR Name", 'summary" OR key != "x', "Name\nWHERE", "cf[1] OR x", ""]


@pytest.mark.parametrize("key", _HOSTILE_KEYS)
@pytest.mark.parametrize(
    ("world", "object_name"),
    [("sf", "Account"), ("jira", "issue"), ("hubspot", "companies"), ("asana", "tasks")],
)
def test_a_hostile_where_key_is_refused(
    request: pytest.FixtureRequest, world: str, object_name: str, key: str
) -> None:
    """Field names are checked against the product's grammar, never quoted into place."""
    chosen: World = request.getfixturevalue(world)
    where = {key: "x", "project": PROJECT} if world == "asana" else {key: "x"}
    outcome = chosen.call(
        lambda _v: _rows(chosen.connector.read_changes(object_name, since=None, where=where)), ""
    )
    if world == "asana":  # applied to the records read: a key no record has matches nothing
        assert outcome.result == [] or isinstance(outcome.error, HubError)
        return
    assert isinstance(outcome.error, QueryBuildError | RecordError), outcome.error
    if isinstance(outcome.error, QueryBuildError):
        assert not outcome.seen


@pytest.mark.parametrize("value", ["..", ".", "../../project/DEL", "a/../b", "x?y=1#z"])
@pytest.mark.parametrize(
    ("world", "object_name", "prefix", "suffix"),
    [
        ("jira", "issue", "/rest/api/3/issue/", "/comment"),
        ("asana", "tasks", "/api/1.0/tasks/", "/stories"),
    ],
)
def test_a_record_id_stays_one_path_segment(
    request: pytest.FixtureRequest,
    world: str,
    object_name: str,
    prefix: str,
    suffix: str,
    value: str,
) -> None:
    """``..`` or ``/`` in an id never reaches another resource (httpx resolves raw dot segments)."""
    chosen: World = request.getfixturevalue(world)
    mark = len(chosen.wire.sent)
    with pytest.raises(HubError):
        chosen.connector.add_comment(object_name, value, "hello")
    [sent] = chosen.wire.sent[mark:]
    path = sent.url.raw_path.decode().split("?")[0]
    assert path.startswith(prefix) and path.endswith(suffix)
    segment = path[len(prefix) : -len(suffix)]
    assert "/" not in segment and unquote(segment) == value


# --- the corpus and the parsers themselves -------------------------------------------------------


def test_the_corpus_has_one_answer_per_value() -> None:
    labels = [h.label for h in HOSTILE]
    assert len(set(labels)) == len(labels)
    loose = [h.value.strip().casefold() for h in HOSTILE if h.value.strip()]
    assert len(set(loose)) == len(loose)
    assert BENIGN.casefold() not in loose and OTHER.casefold() not in loose


@pytest.mark.parametrize(
    ("value", "naive"),
    [
        ("' OR Name != '", "SELECT Id FROM Account WHERE Name = '{}'"),
        ("x' OR Name != '", "SELECT Id FROM Account WHERE Name IN ('{}')"),
    ],
)
def test_the_shape_check_sees_a_naive_soql_injection(value: str, naive: str) -> None:
    benign = soql_seen(naive.format(BENIGN))
    try:
        hostile = soql_seen(naive.format(value))
    except SoqlError:
        return
    assert hostile.shape != benign.shape


def test_the_shape_check_sees_a_naive_jql_injection() -> None:
    benign = jql_seen(f'labels = "{BENIGN}"')
    hostile = jql_seen('labels = "x" OR key != "y"')
    assert hostile.shape != benign.shape


@pytest.mark.parametrize(
    "text",
    [
        'labels = "tab\there"',
        'labels = "esc\x1b"',
        'labels = "\ufffe"',
        "labels = x\x07",
        'labels = "open',
        'labels = "bad \\q escape"',
    ],
)
def test_the_jql_parser_refuses_what_jira_refuses(text: str) -> None:
    with pytest.raises(JqlError, match="Error in the JQL Query"):
        jql_parse(text)


@pytest.mark.parametrize(
    "text", ["alpha NOT beta", "gamma OR delta", "a && b", "+must -not", "wild*", "(group)"]
)
def test_unescaped_lucene_is_read_as_operators(text: str) -> None:
    query = parse_text(text, "summary")
    with pytest.raises(AssertionError):
        assert_plain_words(query, text)


@pytest.mark.parametrize(
    "text", ["", "   ", "a:b", "[1 TO 9]", "*x", '"open', "a AND", "(a", "/re/"]
)
def test_the_text_search_refuses_what_jira_refuses(text: str) -> None:
    with pytest.raises(JqlError):
        parse_text(text, "summary")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id FROM Account WHERE Name = 'it's'",
        "SELECT Id FROM Account WHERE Name = 'bad \\q'",
        "SELECT Id FROM Account WHERE Name = 'open",
    ],
)
def test_the_soql_parser_refuses_what_salesforce_refuses(text: str) -> None:
    with pytest.raises(SoqlError) as caught:
        soql_parse(text)
    assert caught.value.code == "MALFORMED_QUERY"


# --- properties: any text survives the trip through builder and sandbox parser -------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
_PROPERTY = settings(max_examples=300, deadline=None, database=None)


@_PROPERTY
@given(_TEXT)
def test_property_soql_literal_is_one_literal_for_the_sandbox(value: str) -> None:
    if "\x00" in value:
        with pytest.raises(QueryBuildError):
            soql(["Id"], "Account", where=[Condition("Name", "=", value)])
        return
    query = soql_parse(soql(["Id"], "Account", where=[Condition("Name", "=", value)], limit=1))
    assert isinstance(query.where, Comparison) and query.where.op == "="
    assert query.where.values == (SoqlLiteral("string", value, query.where.values[0].raw),)
    assert query.limit == 1


@_PROPERTY
@given(_TEXT.filter(lambda v: "\x00" not in v))
def test_property_soql_like_pattern_matches_the_text_only(value: str) -> None:
    query = soql_parse(f"SELECT Id FROM Account WHERE Name LIKE {soql_like_pattern(value)}")
    assert isinstance(query.where, Comparison) and query.where.op == "LIKE"
    pattern = like_pattern(query.where.values[0].raw)
    assert pattern.fullmatch(value)
    assert not pattern.fullmatch(value + "x")
    assert not pattern.fullmatch("") or not value


@_PROPERTY
@given(_TEXT)
def test_property_jql_literal_is_one_literal_for_the_sandbox(value: str) -> None:
    if "\x00" in value:
        with pytest.raises(QueryBuildError):
            jql([Condition("summary", "~", value)])
        return
    query = jql_parse(jql([Condition("labels", "IN", [value, "b"])], order_by=["key"]))
    assert query.where == Clause(
        "labels", "IN", ListValue((JqlLiteral(value, True), JqlLiteral("b", True))), 1
    )
    assert [s.field for s in query.order_by] == ["key"]


@_PROPERTY
@given(_TEXT.filter(lambda v: "\x00" not in v and v.strip()))
def test_property_lucene_escape_leaves_plain_words(value: str) -> None:
    query = jql_parse(jql([Condition("summary", "~", lucene_escape(value))]))
    assert isinstance(query.where, Clause) and isinstance(query.where.operand, JqlLiteral)
    assert_plain_words(parse_text(query.where.operand.text, "summary"), value)


@pytest.mark.parametrize("value", ["x\ud83d", "\udfff"])
def test_an_unpaired_surrogate_is_refused_everywhere(value: str) -> None:
    with pytest.raises(QueryBuildError, match="surrogate"):
        soql(["Id"], "Account", where=[Condition("Name", "=", value)])
    with pytest.raises(QueryBuildError, match="surrogate"):
        jql([Condition("labels", "=", value)])
