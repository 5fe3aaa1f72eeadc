"""A small SOQL parser for the sandbox: text -> :class:`Query`.

Covers what integrations send: ``SELECT`` of fields and relationship paths
(``Owner.Email``) or ``COUNT()``, ``FROM``, ``WHERE`` with AND / OR / NOT and
parentheses over ``= != <> < <= > >= LIKE IN NOT IN``, string literals with
Salesforce's escape sequences, numbers, TRUE / FALSE / null, date and datetime
literals, ``ORDER BY ... ASC|DESC NULLS FIRST|LAST``, ``LIMIT`` and ``OFFSET``.
As in Salesforce, AND and OR may not be mixed without parentheses. Errors are
:class:`SoqlError` with Salesforce's error code (``MALFORMED_QUERY``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Comparison",
    "Expr",
    "Literal",
    "Logical",
    "Negation",
    "OrderTerm",
    "Query",
    "SoqlError",
    "like_pattern",
    "parse",
]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
    |(?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
    |(?P<ident>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "TRUE",
        "FALSE",
        "NULL",
        "GROUP",
        "HAVING",
    }
)
_COMPARE = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})


class SoqlError(Exception):
    """A query Salesforce would refuse; ``code`` is its errorCode.

    ``near`` names the text the error is about (a field path), so the message
    can point at it in the query as Salesforce's does.
    """

    def __init__(self, code: str, message: str, *, near: str | None = None) -> None:
        self.code = code
        self.message = message
        self.near = near
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Token:
    """One lexical token and where it starts."""

    kind: str
    text: str
    pos: int

    @property
    def word(self) -> str:
        """Upper-cased text of an identifier, for keyword checks."""
        return self.text.upper() if self.kind == "ident" else ""


@dataclass(frozen=True)
class Literal:
    """A typed value: kind is string, number, boolean, null, date or datetime."""

    kind: str
    value: Any
    raw: str = ""


@dataclass(frozen=True)
class Comparison:
    """``field op value`` or ``field [NOT] IN (values)``."""

    field: str
    op: str
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Logical:
    """Conditions joined by one of AND / OR."""

    op: str
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Negation:
    """``NOT condition``."""

    item: Expr


Expr = Comparison | Logical | Negation


@dataclass(frozen=True)
class OrderTerm:
    """One ORDER BY term; Salesforce puts nulls first ascending, last descending."""

    field: str
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement."""

    fields: tuple[str, ...]
    count_only: bool
    sobject: str
    where: Expr | None
    order_by: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int | None = None


def tokenize(text: str) -> list[Token]:
    """Split SOQL text into tokens; an unknown character is a MALFORMED_QUERY."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            what = "unterminated string literal" if text[pos] == "'" else "unexpected token"
            raise _malformed(f"{what}: {text[pos : pos + 20]!r}", pos)
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    return tokens


def decode_string(raw: str) -> list[tuple[str, bool]]:
    """Characters of a quoted literal's body, each with whether it was escaped."""
    chars: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        if raw[i] != "\\":
            chars.append((raw[i], False))
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt.lower() in _ESCAPES:
            chars.append((_ESCAPES[nxt.lower()], True))
        elif nxt in "%_":
            chars.append((nxt, True))
        else:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}'"
                " in string literal.",
            )
        i += 2
    return chars


def like_pattern(raw: str) -> re.Pattern[str]:
    """LIKE matcher: unescaped ``%`` and ``_`` are wildcards; case-insensitive."""
    parts = []
    for char, escaped in decode_string(raw):
        if not escaped and char == "%":
            parts.append(".*")
        elif not escaped and char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def parse(text: str) -> Query:
    """Parse one SELECT statement."""
    return _Parser(text).query()


def _malformed(message: str, pos: int) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", f"{message}\nERROR at Row:1:Column:{pos + 1}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.end = len(text)

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _malformed("unexpected token: <EOF>", self.end)
        self.i += 1
        return token

    def fail(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        if token is None:
            return _malformed("unexpected token: <EOF>", self.end)
        return _malformed(f"unexpected token: '{token.text}'", token.pos)

    def at(self, *words: str) -> bool:
        return all((t := self.peek(n)) is not None and t.word == w for n, w in enumerate(words))

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.fail()

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.i += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        if not self.punct(char):
            raise self.fail()

    def name(self) -> str:
        token = self.take()
        if token.kind != "ident" or token.word in _KEYWORDS:
            raise self.fail(token)
        return token.text

    def query(self) -> Query:
        self.expect("SELECT")
        count_only, fields = self.select_list()
        self.expect("FROM")
        sobject = self.name()
        where = self.expr() if self.accept("WHERE") else None
        order = self.order_by() if self.accept("ORDER", "BY") else ()
        limit = self.integer() if self.accept("LIMIT") else None
        offset = self.integer() if self.accept("OFFSET") else None
        if self.peek() is not None:
            raise self.fail()
        return Query(fields, count_only, sobject, where, order, limit, offset)

    def select_list(self) -> tuple[bool, tuple[str, ...]]:
        if self.at("COUNT") and (p := self.peek(1)) is not None and p.text == "(":
            self.i += 2
            self.expect_punct(")")
            return True, ()
        fields = [self.name()]
        while self.punct(","):
            fields.append(self.name())
        return False, tuple(fields)

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(token)
        return int(token.text)

    def order_by(self) -> tuple[OrderTerm, ...]:
        terms = []
        while True:
            field = self.name()
            descending = self.accept("DESC")
            if not descending:
                self.accept("ASC")
            nulls_last = descending
            if self.accept("NULLS"):
                nulls_last = self.accept("LAST")
                if not nulls_last:
                    self.expect("FIRST")
            terms.append(OrderTerm(field, descending, nulls_last))
            if not self.punct(","):
                return tuple(terms)

    def expr(self) -> Expr:
        items = [self.unary()]
        joiner: str | None = None
        while self.at("AND") or self.at("OR"):
            word = self.take().word
            if joiner is not None and word != joiner:
                raise _malformed(f"unexpected token: '{word}'", self.tokens[self.i - 1].pos)
            joiner = word
            items.append(self.unary())
        return items[0] if joiner is None else Logical(joiner, tuple(items))

    def unary(self) -> Expr:
        if self.accept("NOT"):
            return Negation(self.unary())
        if self.punct("("):
            inner = self.expr()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.name()
        if self.accept("NOT", "IN"):
            return Comparison(field, "NOT IN", self.value_list())
        if self.accept("IN"):
            return Comparison(field, "IN", self.value_list())
        if self.accept("LIKE"):
            value = self.value()
            if value.kind != "string":
                raise self.fail(self.tokens[self.i - 1])
            return Comparison(field, "LIKE", (value,))
        token = self.take()
        if token.kind != "op" or token.text not in _COMPARE:
            raise self.fail(token)
        op = "!=" if token.text == "<>" else token.text
        return Comparison(field, op, (self.value(),))

    def value_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.value()]
        while self.punct(","):
            values.append(self.value())
        self.expect_punct(")")
        return tuple(values)

    def value(self) -> Literal:
        token = self.take()
        try:
            return _literal(token)
        except (ValueError, InvalidOperation):
            raise self.fail(token) from None


def _literal(token: Token) -> Literal:
    if token.kind == "string":
        raw = token.text[1:-1]
        return Literal("string", "".join(c for c, _ in decode_string(raw)), raw)
    if token.kind == "number":
        return Literal("number", Decimal(token.text))
    if token.kind == "date":
        return Literal("date", dt.date.fromisoformat(token.text))
    if token.kind == "datetime":
        return Literal("datetime", parse_datetime(token.text))
    constants = {"TRUE": ("boolean", True), "FALSE": ("boolean", False), "NULL": ("null", None)}
    if token.word in constants:
        kind, value = constants[token.word]
        return Literal(kind, value)
    raise ValueError(token.text)


def parse_datetime(text: str) -> dt.datetime:
    """A Salesforce datetime (``...Z``, ``+0000`` or ``+00:00``) as aware UTC."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
