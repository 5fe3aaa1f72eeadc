"""The data files the package ships: its default mappings, their JSON Schemas, the examples.

In the repository ``mappings/`` and ``examples/`` are top-level folders that
``handoff_hub/`` links to, like the code; the wheel carries them as package data
(``handoff_hub/mappings``, ``handoff_hub/examples``). Both are found here through
``importlib.resources``, so a checkout and an installed wheel answer alike. A
user's hub config never uses these: its ``mapping:`` paths are relative to it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["bundled_dir", "examples_dir", "mappings_dir"]


def bundled_dir(name: str) -> Path:
    """The folder ``name`` shipped inside the ``handoff_hub`` package.

    Raises:
        FileNotFoundError: The installation lacks it (a wheel built without its data).
    """
    folder = Path(str(files("handoff_hub") / name)).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"handoff_hub is installed without its {name}/ folder: {folder}")
    return folder


def mappings_dir() -> Path:
    """The default mappings and the JSON Schemas (``mappings/`` in the repository)."""
    return bundled_dir("mappings")


def examples_dir() -> Path:
    """The example hub configs, one per pairing (``examples/`` in the repository)."""
    return bundled_dir("examples")
