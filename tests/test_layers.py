"""Import rules of DESIGN.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _files("hub"), ids=lambda p: str(p.relative_to(ROOT)))
def test_hub_imports_no_connector_flow_or_prefect(path: Path) -> None:
    imported = _imports(path)
    if path.name == "cli.py" or path.name.startswith("cli_"):
        return  # the composition root: the hub command and its command modules
    bad = {n for n in imported if n.split(".")[0] in {"connectors", "flows", "prefect"}}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("connectors"), ids=lambda p: str(p.relative_to(ROOT)))
def test_connectors_import_only_hub_and_themselves(path: Path) -> None:
    own = path.relative_to(ROOT / "connectors").parts[0]
    for name in _imports(path):
        top = name.split(".")
        if top[0] == "flows" or top[0] == "prefect":
            pytest.fail(f"{path} imports {name}")
        if top[0] == "connectors" and len(top) > 1 and top[1] != own:
            pytest.fail(f"{path} imports a sibling connector: {name}")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "connectors").glob("*/sandbox*.py")), ids=lambda p: p.parent.name
)
def test_sandboxes_do_not_use_the_client(path: Path) -> None:
    own = path.parent.name
    for name in _imports(path):
        assert name not in {f"connectors.{own}.client", f"connectors.{own}.connector"}, name
