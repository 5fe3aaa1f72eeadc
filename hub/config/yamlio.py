"""Line-aware YAML loading: data plus the line of every node, for file:line errors.

A document is composed once (libyaml's ``CSafeLoader`` where available, ~8x
faster than the pure-Python loader) and its node tree is walked to record the
line of each node path, e.g. ``("systems", "crm", "connector") -> 7``, before
the same tree is constructed into plain Python data. Syntax errors, unreadable
files and duplicate keys become :class:`~hub.errors.Issue` values, never a
traceback.

Every later check (JSON Schema, pydantic) walks the data with aliases expanded,
so the walk counts the nodes an expansion would give and stops at a budget: a
"billion laughs" file of nested anchors is refused after a few thousand steps
instead of growing to gigabytes. Files over :data:`MAX_FILE_BYTES`, more than
:data:`MAX_NODES` nodes and nesting deeper than :data:`MAX_DEPTH` are refused
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff_hub.hub.errors import ConfigError, Issue

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "NodePath",
    "YamlDocument",
    "format_path",
    "line_of",
    "load_yaml",
    "parse_yaml",
]

NodePath = tuple[str | int, ...]
"""Keys and list indexes from the document root to one node."""

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_FILE_BYTES = 1024 * 1024
"""Largest file read; real hub configs and mappings are a few kilobytes."""
MAX_NODES = 100_000
"""Most nodes a document may have, counting each alias as the nodes it stands for."""
MAX_ALIAS_NODES = 10_000
"""Most nodes all aliases and merge keys of a document may stand for together."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and lists."""


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the (1-based) line of every node path."""

    file: str
    data: Any
    lines: Mapping[NodePath, int] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

    def line(self, path: NodePath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        return line_of(self.lines, path)

    def issue(self, path: NodePath, message: str, hint: str | None = None) -> Issue:
        """An issue about the node at ``path``, with its file and line."""
        return Issue(self.file, self.line(path), format_path(path), message, hint)


def line_of(lines: Mapping[NodePath, int], path: NodePath) -> int | None:
    """The line of ``path`` in ``lines``, falling back to its nearest ancestor."""
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return None


def format_path(path: NodePath) -> str:
    """A node path as admins write it: ``templates.std.tasks[2].name``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in part or " " in part:
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


def load_yaml(path: str | Path) -> YamlDocument:
    """Read and parse one YAML file.

    Args:
        path: The file to read.

    Returns:
        The document with its node lines.

    Raises:
        ConfigError: The file cannot be read, is not UTF-8 or is not valid YAML.
    """
    file = str(path)
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError([_too_large(file, raw[:MAX_FILE_BYTES].count(b"\n") + 1)])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([Issue(file, None, "(file)", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Issue(file, None, "(file)", f"cannot read the file: {exc}")]) from None
    return parse_yaml(text, file=file)


def _too_large(file: str, line: int) -> Issue:
    return Issue(
        file,
        line,
        "(file)",
        f"the file is larger than {MAX_FILE_BYTES:,} bytes (the limit is crossed at this line)",
        "hub configs and mappings are a few kilobytes; is this the right file?",
    )


def parse_yaml(text: str, *, file: str = "<string>") -> YamlDocument:
    """Parse YAML text, keeping the line of every node.

    Args:
        text: The YAML source.
        file: Name used in issues.

    Returns:
        The document with its node lines and any duplicate-key issues.

    Raises:
        ConfigError: The text is not valid YAML (the issue carries the parser's line),
            is too large, nests too deep or its aliases expand beyond the budget.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError([_too_large(file, text.count("\n", 0, MAX_FILE_BYTES) + 1)])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        walk = _Walk(loader, file)
        if node is not None:
            walk.visit(node, ())
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_issue(exc, file)]) from None
    except _OverBudget as exc:
        raise ConfigError([walk.budget_issue(exc)]) from None
    finally:
        loader.dispose()
    return YamlDocument(file=file, data=data, lines=walk.lines, issues=tuple(walk.issues))


class _OverBudget(Exception):
    def __init__(self, path: NodePath, message: str, hint: str) -> None:
        super().__init__(message)
        self.path, self.message, self.hint = path, message, hint


class _Walk:
    """One pass over the composed node tree: lines, duplicate keys and the size budget.

    It runs before construction (the constructor rewrites merge keys in place)
    and visits an aliased node every time it is used, as every later check of
    the data will; merged mappings are visited only to count them.
    """

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[NodePath, int] = {(): 1}
        self.issues: list[Issue] = []
        self.visits = 0
        self.unique: set[int] = set()
        self.alias_at: NodePath | None = None  # where the outermost alias being expanded is used

    def visit(self, node: Node, path: NodePath, *, depth: int = 0, record: bool = True) -> None:
        """Visit ``node`` (at ``path``, ``depth`` nodes down) and everything below it."""
        first_use = self._count(node, path, depth)
        outermost = not first_use and self.alias_at is None
        if outermost:
            self.alias_at = path
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                if record:
                    self.lines[(*path, index)] = item.start_mark.line + 1
                self.visit(item, (*path, index), depth=depth + 1, record=record)
        elif isinstance(node, MappingNode):
            self._visit_mapping(node, path, depth=depth, record=record)
        if outermost:
            self.alias_at = None

    def _visit_mapping(
        self, node: MappingNode, path: NodePath, *, depth: int, record: bool
    ) -> None:
        seen: set[str | int] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._visit_merge(value_node, path, depth=depth + 1)
                continue
            key = _key(self.loader, key_node)
            if key is None:
                continue
            child = (*path, key)
            if record and key in seen:
                self.issues.append(
                    Issue(
                        self.file,
                        key_node.start_mark.line + 1,
                        format_path(child),
                        "duplicate key; the later value would silently win",
                    )
                )
            seen.add(key)
            if record:
                self.lines[child] = key_node.start_mark.line + 1
            self.visit(value_node, child, depth=depth + 1, record=record)

    def _visit_merge(self, node: Node, path: NodePath, *, depth: int) -> None:
        """Count what ``<<: *a`` or ``<<: [*a, *b]`` merges into the mapping at ``path``."""
        if isinstance(node, SequenceNode):
            self._count(node, path, depth)
            for item in node.value:
                self.visit(item, path, depth=depth + 1, record=False)
        else:
            self.visit(node, path, depth=depth, record=False)

    def _count(self, node: Node, path: NodePath, depth: int) -> bool:
        """Count one visit against the budget; True when ``node`` is visited for the first time."""
        self.visits += 1
        first_use = id(node) not in self.unique
        self.unique.add(id(node))
        if depth > MAX_DEPTH:
            raise _OverBudget(
                self.alias_at or path,
                f"nested deeper than {MAX_DEPTH} levels",
                "hub configs and mappings nest a few levels; check the indentation",
            )
        if self.visits - len(self.unique) > MAX_ALIAS_NODES:
            raise _OverBudget(
                self.alias_at or path,
                f"aliases (*name) and merge keys (<<) expand to more than {MAX_ALIAS_NODES:,} "
                "values; refused, as nested anchors multiply (a YAML alias bomb)",
                "use an anchor (&name) for a small block repeated a few times",
            )
        if self.visits > MAX_NODES:
            raise _OverBudget(
                path,
                f"the document has more than {MAX_NODES:,} values",
                "hub configs and mappings have a few hundred; is this the right file?",
            )
        return first_use

    def budget_issue(self, exc: _OverBudget) -> Issue:
        """The issue for a refused document, at the line of the node where the budget ran out.

        An alias in a list has the line of its anchor, so the list's own line is given.
        """
        path = exc.path
        line = line_of(self.lines, path[:-1] if path and isinstance(path[-1], int) else path)
        shown = path[:8]
        field = format_path(shown) + (" ..." if len(path) > len(shown) else "")
        return Issue(self.file, line, field, exc.message, exc.hint)


def _key(loader: yaml.SafeLoader, node: Node) -> str | int | None:
    if not isinstance(node, ScalarNode):
        return None
    value = loader.construct_object(node)
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value) if not isinstance(value, str) else value
    return value


def _syntax_issue(exc: yaml.YAMLError, file: str) -> Issue:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    start = getattr(exc, "context_mark", None)
    if context and start is not None and (mark is None or start.line != mark.line):
        context = f"{context} (from line {start.line + 1})"
    message = f"{context}, {problem}" if context else str(problem)
    return Issue(
        file,
        line,
        "(syntax)",
        f"invalid YAML: {message}",
        "check indentation, quotes and the ':' after each key",
    )
