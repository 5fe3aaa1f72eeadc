"""Import rules of DESIGN.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "handoff_hub."
PARTS = ("hub", "connectors", "flows", "sandboxes")


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, named inside the namespace (``hub.model``)."""
    return {n.removeprefix(NAMESPACE) for n in _imported(path)}


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _is_composition_root(path: Path) -> bool:
    """The hub command (``hub/cli/``): its commands and the demo they run."""
    return path.relative_to(ROOT).parts[:2] == ("hub", "cli")


@pytest.mark.parametrize("path", _files("hub"), ids=lambda p: str(p.relative_to(ROOT)))
def test_hub_imports_no_connector_sandbox_flow_or_prefect(path: Path) -> None:
    if _is_composition_root(path):
        return
    bad = {
        n
        for n in _imports(path)
        if n.split(".")[0] in {"connectors", "sandboxes", "flows", "prefect"}
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("connectors"), ids=lambda p: str(p.relative_to(ROOT)))
def test_connectors_import_only_hub_and_themselves(path: Path) -> None:
    own = path.relative_to(ROOT / "connectors").parts[0]
    for name in _imports(path):
        top = name.split(".")
        if top[0] in {"flows", "prefect", "sandboxes"}:
            pytest.fail(f"{path} imports {name}")
        if top[0] == "connectors" and len(top) > 1 and top[1] != own:
            pytest.fail(f"{path} imports a sibling connector: {name}")


@pytest.mark.parametrize("path", _files("sandboxes"), ids=lambda p: str(p.relative_to(ROOT)))
def test_sandboxes_import_no_connector_flow_or_prefect(path: Path) -> None:
    """A sandbox emulates the product, not our client: they meet only on the wire."""
    own = path.relative_to(ROOT / "sandboxes").parts[0]
    for name in _imports(path):
        top = name.split(".")
        if top[0] in {"connectors", "flows", "prefect"}:
            pytest.fail(f"{path} imports {name}")
        if top[0] == "sandboxes" and len(top) > 1 and top[1] not in {own, "kit"}:
            pytest.fail(f"{path} imports another product's sandbox: {name}")


def _all_code() -> list[Path]:
    return sorted(p for part in (*PARTS, "tests", "bench", "tools") for p in _files(part))


@pytest.mark.parametrize("path", _all_code(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_names_the_namespace(path: Path) -> None:
    """``import hub.x`` would load a second copy of the module beside ``handoff_hub.hub.x``."""
    bare = {n for n in _imported(path) if n.split(".")[0] in PARTS}
    assert not bare, f"{path.relative_to(ROOT)} imports {sorted(bare)} outside handoff_hub"


def test_the_namespace_links_to_the_folders() -> None:
    for part in PARTS:
        link = ROOT / "handoff_hub" / part
        assert link.is_symlink() and link.resolve() == (ROOT / part).resolve(), link


def test_no_sandbox_is_left_among_the_connectors() -> None:
    assert sorted((ROOT / "connectors").glob("*/sandbox*.py")) == []
    assert sorted((ROOT / "hub").glob("sandbox*.py")) == []
