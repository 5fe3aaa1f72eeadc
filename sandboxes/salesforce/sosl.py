"""SOSL for the sandbox: ``GET /search?q=FIND {...} IN ... RETURNING ...``.

Covers the common forms: ``FIND {term}`` with words, ``"phrases"``, the
wildcards ``*`` and ``?``, ``AND`` / ``OR`` / ``AND NOT`` and parentheses,
reserved characters escaped with a backslash; ``IN ALL | NAME | EMAIL |
PHONE | SIDEBAR FIELDS``; ``RETURNING Obj``, ``Obj(fields [WHERE ...]
[ORDER BY ...] [LIMIT n])``; and an overall ``LIMIT n``. Each object's part is
run as SOQL over the records the term matched, so fields, filters and errors
are SOQL's. A malformed search is a :class:`SoqlError` with Salesforce's code
(``MALFORMED_SEARCH``, ``INVALID_SEARCH``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from handoff_hub.sandboxes.salesforce.query import run_query
from handoff_hub.sandboxes.salesforce.schema import FieldDef, ObjectDef
from handoff_hub.sandboxes.salesforce.soql import SoqlError
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["run_search"]

MAX_RESULTS = 2000
_NO_TERM = "No search term found. The search term must be enclosed in braces."
_SCOPES = {"ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"}
_TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "combobox"})
_WORD = re.compile(r"[^\W_]+|[@.]", re.UNICODE)
_WHERE = re.compile(
    r"\s*WHERE\b(.*?)(?=\bORDER\s+BY\b|\bLIMIT\b|\bOFFSET\b|$)", re.IGNORECASE | re.DOTALL
)
Matcher = Callable[[list[str]], bool]


@dataclass(frozen=True)
class _Part:
    """One ``RETURNING`` entry: the object and what its parentheses held."""

    sobject: str
    inside: str | None


def run_search(text: str, store: RecordStore, version: str) -> list[dict[str, Any]]:
    """Execute a SOSL search; return the found records, grouped by object."""
    term, rest = _find(text)
    match = _Term(term).compile()
    scope, rest = _scope(rest)
    parts, limit = _returning(rest, store)
    found: list[dict[str, Any]] = []
    for part in parts:
        obj = store.schema.find(part.sobject)
        assert obj is not None
        fields = _searched(obj, scope)
        ids = [r["Id"] for r in store.visible(obj.name) if match(_words(r, fields))]
        found += _project(store, obj, part, ids, version)
    return found[: min(limit, MAX_RESULTS)]


def _malformed(message: str) -> SoqlError:
    return SoqlError("MALFORMED_SEARCH", message)


def _find(text: str) -> tuple[str, str]:
    """The braced term (raw, escapes kept) and the text after it."""
    head = text.lstrip()
    if not head[:4].upper() == "FIND" or not head[4:].lstrip().startswith("{"):
        raise _malformed(_NO_TERM)
    body = head[4:].lstrip()[1:]
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body[i] == "}":
            return body[:i], body[i + 1 :]
        i += 1
    raise _malformed(_NO_TERM)


def _scope(rest: str) -> tuple[str, str]:
    match = re.match(r"\s*IN\s+(\w+)\s+FIELDS\b", rest, re.IGNORECASE)
    if match is None:
        return "ALL", rest
    scope = match.group(1).upper()
    if scope not in _SCOPES:
        raise _malformed(f"unexpected token: '{match.group(1)}'")
    return scope, rest[match.end() :]


def _returning(rest: str, store: RecordStore) -> tuple[list[_Part], int]:
    text = rest.strip()
    limit = MAX_RESULTS
    overall = re.search(r"\bLIMIT\s+(\d+)\s*$", text, re.IGNORECASE)
    if overall and not _inside_parentheses(text, overall.start()):
        limit, text = int(overall.group(1)), text[: overall.start()].strip()
    if not text:
        return [_Part(o.name, None) for o in store.schema.objects.values() if o.searchable], limit
    match = re.match(r"RETURNING\s+", text, re.IGNORECASE)
    if match is None:
        raise _malformed(f"unexpected token: '{text.split()[0]}'")
    parts = list(_parts(text[match.end() :]))
    for part in parts:
        obj = store.schema.find(part.sobject)
        if obj is None or not obj.searchable:
            raise SoqlError("INVALID_TYPE", f"sObject type '{part.sobject}' is not supported.")
    return parts, limit


def _inside_parentheses(text: str, at: int) -> bool:
    depth = 0
    for char in _unquoted(text[:at]):
        depth += {"(": 1, ")": -1}.get(char, 0)
    return depth > 0


def _unquoted(text: str) -> Iterator[str]:
    """The characters of ``text`` outside SOQL string literals."""
    quoted = escaped = False
    for char in text:
        if quoted:
            quoted = escaped or char != "'"
            escaped = not escaped and char == "\\"
            continue
        if char == "'":
            quoted = True
            continue
        yield char


def _parts(text: str) -> Iterator[_Part]:
    i = 0
    while i < len(text):
        match = re.match(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*", text[i:])
        if match is None:
            raise _malformed(f"unexpected token: '{text[i:].strip()[:20]}'")
        name, i = match.group(1), i + match.end()
        inside = None
        if i < len(text) and text[i] == "(":
            close = _closing(text, i)
            inside, i = text[i + 1 : close].strip(), close + 1
        yield _Part(name, inside)
        tail = re.match(r"\s*(,|$)", text[i:])
        if tail is None:
            raise _malformed(f"unexpected token: '{text[i:].strip()[:20]}'")
        i += tail.end()


def _closing(text: str, start: int) -> int:
    depth, quoted, escaped = 0, False, False
    for i in range(start, len(text)):
        char = text[i]
        if quoted:
            quoted = escaped or char != "'"
            escaped = not escaped and char == "\\"
        elif char == "'":
            quoted = True
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0:
                return i
    raise _malformed("unexpected token: <EOF>")


def _searched(obj: ObjectDef, scope: str) -> list[FieldDef]:
    text = [f for f in obj.fields if f.type in _TEXT_TYPES]
    if scope == "NAME":
        return [f for f in text if f.name_field]
    if scope == "EMAIL":
        return [f for f in text if f.type == "email"]
    if scope == "PHONE":
        return [f for f in text if f.type == "phone"]
    return text


def _words(record: Mapping[str, Any], fields: list[FieldDef]) -> list[str]:
    """The record's searchable text as lower-case tokens; fields are kept apart by ``|``."""
    words: list[str] = []
    for field in fields:
        value = record.get(field.name)
        if isinstance(value, str) and value:
            words += [w.casefold() for w in _WORD.findall(value)] + ["|"]
    return words


def _project(
    store: RecordStore, obj: ObjectDef, part: _Part, ids: list[str], version: str
) -> list[dict[str, Any]]:
    """The part's records among ``ids``, as SOQL would select, filter, order and limit them."""
    if not ids:
        return []
    fields, clauses = "Id", ""
    if part.inside:
        split = re.search(r"\b(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b", part.inside, re.IGNORECASE)
        at = split.start() if split else len(part.inside)
        fields, clauses = part.inside[:at].strip() or "Id", part.inside[at:]
    where = _WHERE.match(clauses)
    found = "Id IN (" + ", ".join(f"'{i}'" for i in ids) + ")"
    if where:
        clauses = f"WHERE {found} AND ({where.group(1).strip()})" + clauses[where.end() :]
    else:
        clauses = f"WHERE {found} {clauses}"
    # The parenthesised part is the caller's own SOQL, run by the sandbox's engine over
    # the ids the term matched (the sandbox's own); nothing else is pasted in.
    soql = f"SELECT {fields} FROM {obj.name} {clauses}"  # noqa: S608
    rows, _ = run_query(soql, store, version)
    return rows


class _Term:
    """The search term: words and phrases joined by AND, OR, AND NOT and parentheses."""

    def __init__(self, raw: str) -> None:
        self.tokens = list(_term_tokens(raw))
        self.i = 0
        terms = [v for kind, v in self.tokens if kind in {"word", "phrase"}]
        if not terms:
            raise _malformed(_NO_TERM)
        plain = re.sub(r"\\(.)|[*?\s]", lambda m: m.group(1) or "", "".join(terms))
        if len(plain) < 2:
            raise SoqlError(
                "INVALID_SEARCH", f"search term must be longer than one character: {raw}"
            )

    def compile(self) -> Matcher:
        matcher = self._or()
        if self.i != len(self.tokens):
            raise _malformed(f"unexpected token: '{self.tokens[self.i][1]}'")
        return matcher

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _or(self) -> Matcher:
        items = [self._and()]
        while self._peek() == ("op", "OR"):
            self.i += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else lambda w: any(m(w) for m in items)

    def _and(self) -> Matcher:
        items, negated = [self._unit()], [False]
        while (token := self._peek()) is not None and token not in {("op", "OR"), ("close", ")")}:
            negate = False
            if token == ("op", "AND"):
                self.i += 1
                if self._peek() == ("op", "NOT"):
                    self.i += 1
                    negate = True
            items.append(self._unit())
            negated.append(negate)
        pairs = list(zip(items, negated, strict=True))
        return lambda w: all(m(w) != neg for m, neg in pairs)

    def _unit(self) -> Matcher:
        token = self._peek()
        if token is None:
            raise _malformed("unexpected token: <EOF>")
        self.i += 1
        kind, value = token
        if kind == "open":
            inner = self._or()
            if self._peek() != ("close", ")"):
                raise _malformed("unexpected token: <EOF>")
            self.i += 1
            return inner
        if kind == "word":
            return _word_matcher(value)
        if kind == "phrase":
            return _phrase_matcher(value)
        raise _malformed(f"unexpected token: '{value}'")


def _term_tokens(raw: str) -> Iterator[tuple[str, str]]:
    """Words (wildcards kept as ``*``/``?``, escapes resolved), phrases, operators, parens."""
    i, word = 0, ""
    while i <= len(raw):
        char = raw[i] if i < len(raw) else " "
        if char == "\\" and i + 1 < len(raw):
            word += "\\" + raw[i + 1]
            i += 2
            continue
        if char.isspace() or char in '()"':
            if word:
                yield _word_token(word)
                word = ""
            if char in "()":
                yield ("open" if char == "(" else "close", char)
            elif char == '"':
                end = raw.find('"', i + 1)
                if end < 0:
                    raise _malformed("unexpected token: '\"'")
                yield "phrase", raw[i + 1 : end]
                i = end
        else:
            word += char
        i += 1


def _word_token(word: str) -> tuple[str, str]:
    if word.upper() in {"AND", "OR", "NOT"}:
        return "op", word.upper()
    return "word", word


def _pattern(word: str) -> re.Pattern[str]:
    parts, i = [], 0
    while i < len(word):
        char = word[i]
        if char == "\\" and i + 1 < len(word):
            parts.append(re.escape(word[i + 1].casefold()))
            i += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char.casefold()))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _word_matcher(word: str) -> Matcher:
    """A word matches a run of the record's tokens (``O'Brien`` spans ``o``, ``'``, ``brien``)."""
    pieces = [_pattern(w) for w in _split_word(word)]
    return lambda words: _run_matches(words, pieces)


def _split_word(word: str) -> list[str]:
    plain = re.sub(r"\\(.)", r"\1", word)
    if any(c in plain for c in "*?"):
        return [word]
    return _WORD.findall(plain) or [word]


def _phrase_matcher(phrase: str) -> Matcher:
    pieces = [_pattern(w) for w in _WORD.findall(re.sub(r"\\(.)", r"\1", phrase))]
    return lambda words: bool(pieces) and _run_matches(words, pieces)


def _run_matches(words: list[str], pieces: list[re.Pattern[str]]) -> bool:
    span = len(pieces)
    return any(
        all(p.fullmatch(w) for p, w in zip(pieces, words[i : i + span], strict=True))
        for i in range(len(words) - span + 1)
    )
