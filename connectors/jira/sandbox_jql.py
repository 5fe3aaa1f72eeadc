r"""A small JQL parser for the Jira sandbox: text -> syntax tree, with Jira's errors.

Grammar (keywords case-insensitive)::

    query    := [or] [ORDER BY sort ("," sort)*]
    or       := and (("OR" | "||") and)*
    and      := not (("AND" | "&&") not)*
    not      := ("NOT" | "!") not | "(" or ")" | clause
    clause   := field op operand
    field    := word | "quoted name" | cf[12345]
    op       := = | != | > | >= | < | <= | ~ | !~ | IN | NOT IN | IS | IS NOT
    operand  := EMPTY | NULL | value | "(" value ("," value)* ")"
    value    := "string" | 'string' | word | function "(" [value ("," value)*] ")"

Strings take the escapes ``\" \' \\ \n \r \t \uXXXX``; a reserved
character outside a string is an error, as in Jira. Nothing here evaluates a
query: a value is a :class:`Literal` whatever it contains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "And",
    "Clause",
    "EmptyValue",
    "FunctionCall",
    "JqlError",
    "ListValue",
    "Literal",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Query",
    "Sort",
    "parse",
]

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", " ": " "}
_RESERVED = set("+.,;?|*/%^$#@[]")
_SPECIAL = set("\"'()=!<>~,") | set(" \t\r\n")
_OPERATORS = ("!=", "!~", ">=", "<=", "=", ">", "<", "~", "!")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}


class JqlError(Exception):
    """A query Jira would refuse; ``message`` is the text of its ``errorMessages``."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Literal:
    """A value as written (``quoted`` when it was a string literal)."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class FunctionCall:
    """``name(args)``, e.g. ``currentUser()``."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmptyValue:
    """``EMPTY`` / ``NULL``."""


Value = Literal | FunctionCall


@dataclass(frozen=True)
class ListValue:
    """``(a, b, c)``."""

    items: tuple[Value, ...]


Operand = Value | ListValue | EmptyValue


@dataclass(frozen=True)
class Clause:
    """``field op operand``; ``op`` is upper case (``NOT IN``, ``IS NOT``)."""

    field: str
    op: str
    operand: Operand
    position: int = 0


@dataclass(frozen=True)
class And:
    """All of ``items``."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items``."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Not ``item``."""

    item: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class Sort:
    """One ``ORDER BY`` term."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: an optional condition and the sort order."""

    where: Node | None
    order_by: tuple[Sort, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Token:
    kind: str  # STRING, WORD, OP, LPAREN, RPAREN, COMMA, EOF
    text: str
    position: int

    def keyword(self, *names: str) -> bool:
        return self.kind == "WORD" and self.text.upper() in names


def _error(message: str, position: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {position})")


def tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens.

    Raises:
        JqlError: on an unterminated string, a bad escape or a reserved character.
    """
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            value, end = _string(text, i)
            tokens.append(_Token("STRING", value, i + 1))
            i = end
        elif ch in "(),":
            kind = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[ch]
            tokens.append(_Token(kind, ch, i + 1))
            i += 1
        elif ch in "|&" and text[i : i + 2] in {"||", "&&"}:
            tokens.append(_Token("WORD", "OR" if ch == "|" else "AND", i + 1))
            i += 2
        elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            tokens.append(_Token("OP", op, i + 1))
            i += len(op)
        else:
            word, i = _word(text, i)
            tokens.append(_Token("WORD", word, i - len(word) + 1))
    tokens.append(_Token("EOF", "", len(text) + 1))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    quote, i = text[start], start + 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt == "u" and len(text[i + 2 : i + 6]) == 4:
                try:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                except ValueError:
                    raise _error(
                        f"Illegal escape sequence '\\u{text[i + 2 : i + 6]}'.", i + 1
                    ) from None
                i += 6
                continue
            if nxt not in _ESCAPES:
                raise _error(f"The escape sequence '\\{nxt}' is illegal.", i + 1)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise _error("The quoted string has not been completed.", start + 1)


def _word(text: str, start: int) -> tuple[str, int]:
    lowered = text[start : start + 3].lower()
    if lowered == "cf[":
        end = text.find("]", start)
        if end > start + 3 and text[start + 3 : end].isdigit():
            return text[start : end + 1], end + 1
    i = start
    while i < len(text) and text[i] not in _SPECIAL:
        if text[i] in _RESERVED:
            raise _error(
                f"The character '{text[i]}' is a reserved JQL character. You must enclose it"
                f" in a string or use the escape '\\u{ord(text[i]):04x}' instead.",
                i + 1,
            )
        i += 1
    if i == start:
        raise _error(f"The character '{text[i]}' is not expected here.", i + 1)
    return text[start:i], i


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        if self.token.kind != kind:
            raise self.unexpected(what)
        return self.take()

    def unexpected(self, what: str, hint: str = "") -> JqlError:
        got = "the end of the query" if self.token.kind == "EOF" else f"'{self.token.text}'"
        return _error(f"Expecting {what} but got {got}.{hint}", self.token.position)

    def query(self) -> Query:
        where = None
        if self.token.kind != "EOF" and not self.token.keyword("ORDER"):
            where = self.or_()
        order = self.order_by() if self.token.keyword("ORDER") else ()
        if self.token.kind != "EOF":
            raise self.unexpected("either 'OR' or 'AND'")
        return Query(where, order)

    def order_by(self) -> tuple[Sort, ...]:
        self.take()
        if not self.token.keyword("BY"):
            raise self.unexpected("'BY'")
        self.take()
        terms = [self.sort()]
        while self.token.kind == "COMMA":
            self.take()
            terms.append(self.sort())
        return tuple(terms)

    def sort(self) -> Sort:
        name = self.field_name()
        if self.token.keyword("ASC", "DESC"):
            return Sort(name, self.take().text.upper() == "DESC")
        return Sort(name)

    def or_(self) -> Node:
        items = [self.and_()]
        while self.token.keyword("OR"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.token.keyword("AND"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_(self) -> Node:
        if self.token.keyword("NOT") or (self.token.kind == "OP" and self.token.text == "!"):
            self.take()
            return Not(self.not_())
        if self.token.kind == "LPAREN":
            self.take()
            inner = self.or_()
            self.expect("RPAREN", "')'")
            return inner
        return self.clause()

    def field_name(self) -> str:
        if self.token.kind == "STRING" or (
            self.token.kind == "WORD" and self.token.text.upper() not in _KEYWORDS
        ):
            return self.take().text
        raise self.unexpected("a field name")

    def clause(self) -> Clause:
        position = self.token.position
        name = self.field_name()
        op = self.operator()
        if op in {"IS", "IS NOT"}:
            if not self.token.keyword("EMPTY", "NULL"):
                raise self.unexpected("'EMPTY' or 'NULL'")
            self.take()
            return Clause(name, op, EmptyValue(), position)
        operand: Operand = self.list_() if op in {"IN", "NOT IN"} else self.single()
        return Clause(name, op, operand, position)

    def operator(self) -> str:
        token = self.token
        if token.kind == "OP" and token.text != "!":
            return self.take().text
        if token.keyword("IN", "IS"):
            self.take()
            if token.text.upper() == "IS" and self.token.keyword("NOT"):
                self.take()
                return "IS NOT"
            return token.text.upper()
        if token.keyword("NOT") and self.tokens[self.at + 1].keyword("IN"):
            self.at += 2
            return "NOT IN"
        raise self.unexpected(
            "operator",
            " The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~',"
            " 'IN', 'NOT IN', 'IS' and 'IS NOT'.",
        )

    def list_(self) -> ListValue:
        self.expect("LPAREN", "'('")
        items = [self.value()]
        while self.token.kind == "COMMA":
            self.take()
            items.append(self.value())
        self.expect("RPAREN", "')'")
        return ListValue(tuple(items))

    def single(self) -> Operand:
        if self.token.keyword("EMPTY", "NULL"):
            self.take()
            return EmptyValue()
        return self.value()

    def value(self) -> Value:
        token = self.token
        if token.kind == "STRING":
            return Literal(self.take().text, quoted=True)
        if token.kind != "WORD" or token.text.upper() in _KEYWORDS:
            raise self.unexpected("either a value, 'EMPTY' or a function")
        self.take()
        if self.token.kind != "LPAREN":
            return Literal(token.text)
        self.take()
        args: list[str] = []
        while self.token.kind != "RPAREN":
            if args:
                self.expect("COMMA", "',' or ')'")
            if self.token.kind not in {"STRING", "WORD"}:
                raise self.unexpected("a function argument")
            args.append(self.take().text)
        self.take()
        return FunctionCall(token.text, tuple(args))


def parse(text: str) -> Query:
    """Parse a JQL query.

    Raises:
        JqlError: with Jira's message for a malformed query.
    """
    return _Parser(text).query()
