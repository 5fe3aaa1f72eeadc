"""Copy the vendors' API descriptions the contract tests check against into tests/vendor-specs.

The tests must run from a clean clone, so the files they read live in the
repository. The Jira and Asana OpenAPI files are copied whole; Salesforce's
sObjects OpenAPI (19 MB, 1,088 types) is cut down to the generic paths and the
sObjects the hub reads and writes, with every schema those paths reference.
The Postman collection and the restforce fixtures are small and copied as
they are. HubSpot's files are proprietary and never copied.

Usage: python tools/vendor_specs.py [SOURCE]   (default: ../shared/vendor-specs)
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "vendor-specs"
SALESFORCE_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Task", "User", "Note")
SALESFORCE_GENERIC = ("/sobjects", "/sobjects/{sObject}/describe", "/sobjects/{sObject}/deleted")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def trim_openapi(spec: dict[str, Any], keep_paths: list[str]) -> dict[str, Any]:
    """``spec`` with only ``keep_paths`` and the components they reach through ``$ref``."""
    paths = {p: spec["paths"][p] for p in keep_paths if p in spec["paths"]}
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        _, _, section, name = ref.split("/", 3)
        if name in components.get(section, {}):
            continue
        node = spec["components"][section][name]
        components.setdefault(section, {})[name] = node
        pending.extend(_refs(node))
    for section, entries in spec["components"].items():
        if section not in ("schemas", "responses", "parameters", "requestBodies"):
            components[section] = entries
    trimmed = {k: v for k, v in spec.items() if k not in ("paths", "components")}
    trimmed["paths"] = paths
    trimmed["components"] = {s: dict(sorted(e.items())) for s, e in sorted(components.items())}
    return trimmed


def main(source: Path) -> None:
    """Refresh tests/vendor-specs from ``source``."""
    for product in ("jira", "asana"):
        for file in (source / product).iterdir():
            (TARGET / product).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, TARGET / product / file.name)
    salesforce = source / "salesforce"
    spec = json.loads((salesforce / "salesforce.oas.json").read_text())
    keep = [*SALESFORCE_GENERIC]
    for name in SALESFORCE_OBJECTS:
        keep += [f"/sobjects/{name}", f"/sobjects/{name}/{{id}}"]
    out = TARGET / "salesforce"
    out.mkdir(parents=True, exist_ok=True)
    (out / "salesforce.oas.json").write_text(
        json.dumps(trim_openapi(spec, keep), indent=1, sort_keys=True) + "\n"
    )
    for folder in ("postman-collection", "restforce-fixtures"):
        shutil.rmtree(out / folder, ignore_errors=True)
        shutil.copytree(salesforce / folder, out / folder)
    for path in TARGET.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "vendor-specs")
