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
character outside a string is an error, as in Jira, and so is a control
character (but for a line break) or a Unicode non-character anywhere, even
inside quotes (the grammar's ``CONTROLCHARS``). Nothing here evaluates a
query: a value is a :class:`Literal` whatever it contains.
"""

from __future__ import annotations

import re
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
    "TextClause",
    "TextQuery",
    "TextTerm",
    "parse",
    "parse_text",
]

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", " ": " "}
_RESERVED = set("+.,;?|*/%^$#@[]")
_SPECIAL = set("\"'()=!<>~,") | set(" \t\r\n")
_OPERATORS = ("!=", "!~", ">=", "<=", "=", ">", "<", "~", "!")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
_WHITESPACE = frozenset(" \t\r\n")
_CONTROL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


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


def _illegal(char: str, position: int) -> JqlError:
    shown = "TAB" if char == "\t" else f"U+{ord(char):04X}"
    escape = "\\t" if char == "\t" else f"\\u{ord(char):04x}"
    return _error(
        f"The character '{shown}' must be escaped. Use the escape '{escape}' instead.", position
    )


def tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens.

    Raises:
        JqlError: on an unterminated string, a bad escape, a reserved or illegal character.
    """
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif _CONTROL.match(ch):
            raise _illegal(ch, i + 1)
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
        if _CONTROL.match(ch):
            raise _illegal(ch, i + 1)
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
        if _CONTROL.match(text[i]):
            raise _illegal(text[i], i + 1)
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


# Text search: the operand of ``~`` is itself a Lucene query ---------------------------


@dataclass(frozen=True)
class TextTerm:
    """A word or a quoted phrase; each character with whether it was escaped.

    An unescaped ``*`` or ``?`` in a word is a wildcard; a phrase has none.
    """

    chars: tuple[tuple[str, bool], ...]
    phrase: bool = False

    @property
    def text(self) -> str:
        """The characters, escapes removed."""
        return "".join(c for c, _ in self.chars)


@dataclass(frozen=True)
class TextClause:
    """One term (or parenthesised query), required or excluded."""

    item: TextTerm | TextQuery
    excluded: bool = False


@dataclass(frozen=True)
class TextQuery:
    """Groups joined by OR; the clauses of a group are all required (Jira's default AND)."""

    groups: tuple[tuple[TextClause, ...], ...]


_TEXT_SYNTAX = frozenset(':[]{}/"()~^')
_TEXT_PREFIX = frozenset("+-!")


def _bad_text(text: str, field: str) -> JqlError:
    return JqlError(
        f"The text query '{text}' for field '{field}' is not valid: probably your query"
        " contains invalid syntax."
    )


def _text_tokens(text: str, field: str) -> list[tuple[str, TextTerm | None]]:
    """``(kind, term)`` pairs: WORD/PHRASE with a term, or AND, OR, NOT, MUST, LPAREN, RPAREN."""
    tokens: list[tuple[str, TextTerm | None]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(("AND" if ch == "&" else "OR", None))
            i += 2
        elif ch in _TEXT_PREFIX:
            tokens.append(("MUST" if ch == "+" else "NOT", None))
            i += 1
        elif ch in "()":
            tokens.append(("LPAREN" if ch == "(" else "RPAREN", None))
            i += 1
        elif ch == '"':
            chars, i = _text_chars(text, i + 1, field, phrase=True)
            tokens.append(("PHRASE", TextTerm(chars, phrase=True)))
            i = _text_suffix(text, i, field)
        elif ch in _TEXT_SYNTAX or ch in "*?":
            raise _bad_text(text, field)  # a range, a field, a regex, a leading wildcard
        else:
            chars, i = _text_chars(text, i, field, phrase=False)
            word = "".join(c for c, _ in chars)
            operator = word if not any(e for _, e in chars) else ""
            if operator in {"AND", "OR", "NOT"}:
                tokens.append((operator, None))
            else:
                tokens.append(("WORD", TextTerm(chars)))
            i = _text_suffix(text, i, field)
    return tokens


def _text_chars(
    text: str, i: int, field: str, *, phrase: bool
) -> tuple[tuple[tuple[str, bool], ...], int]:
    chars: list[tuple[str, bool]] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 == len(text):
                raise _bad_text(text, field)
            chars.append((text[i + 1], True))
            i += 2
            continue
        if phrase and ch == '"':
            return tuple(chars), i + 1
        if not phrase and (ch.isspace() or ch in _TEXT_SYNTAX or text.startswith(("&&", "||"), i)):
            break
        chars.append((ch, False))
        i += 1
    if phrase:
        raise _bad_text(text, field)
    return tuple(chars), i


def _text_suffix(text: str, i: int, field: str) -> int:
    """Skip a fuzzy/proximity ``~n`` and a boost ``^n`` after a term."""
    for mark in "~^":
        if i < len(text) and text[i] == mark:
            i += 1
            start = i
            while i < len(text) and (text[i].isdigit() or text[i] == "."):
                i += 1
            if mark == "^" and i == start:
                raise _bad_text(text, field)
    return i


class _TextParser:
    def __init__(self, text: str, field: str) -> None:
        self.text, self.field = text, field
        self.tokens = _text_tokens(text, field)
        self.at = 0

    def kind(self) -> str:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else "EOF"

    def query(self) -> TextQuery:
        groups = [self.group()]
        while self.kind() == "OR":
            self.at += 1
            groups.append(self.group())
        return TextQuery(tuple(groups))

    def group(self) -> tuple[TextClause, ...]:
        clauses = [self.clause()]
        while self.kind() not in {"OR", "RPAREN", "EOF"}:
            if self.kind() == "AND":
                self.at += 1
            clauses.append(self.clause())
        return tuple(clauses)

    def clause(self) -> TextClause:
        excluded = False
        while self.kind() in {"NOT", "MUST"}:
            excluded = excluded or self.kind() == "NOT"
            self.at += 1
        kind = self.kind()
        if kind in {"WORD", "PHRASE"}:
            term = self.tokens[self.at][1]
            assert term is not None
            self.at += 1
            return TextClause(term, excluded)
        if kind == "LPAREN":
            self.at += 1
            inner = self.query()
            if self.kind() != "RPAREN":
                raise _bad_text(self.text, self.field)
            self.at += 1
            return TextClause(inner, excluded)
        raise _bad_text(self.text, self.field)


def parse_text(text: str, field: str) -> TextQuery:
    """Read the operand of ``~`` as Jira's (Lucene) text search does.

    Unescaped ``AND OR NOT && || + - ! ( ) "`` are operators, ``* ?``
    wildcards, ``~ ^`` fuzziness and boost; ``: [ ] { } /`` (fields, ranges,
    regular expressions) and a leading wildcard are refused here, as is an
    empty search. A backslash makes the next character plain text.

    Raises:
        JqlError: with Jira's message for the field.
    """
    if not text.strip():
        raise JqlError(f"The field '{field}' does not support searching for an empty string.")
    parser = _TextParser(text, field)
    query = parser.query()
    if parser.kind() != "EOF":
        raise _bad_text(text, field)
    return query
