"""Mappings: how each product's records map onto the unified model.

``spec`` holds the file format (pydantic, source of ``mapping.schema.json``),
``loader`` reads and checks a file, ``engine`` applies a spec to records and
``transforms`` holds the named transforms and the sandboxed templates.
"""

from __future__ import annotations

from handoff_hub.hub.mapping.engine import (
    FieldProblem,
    RecordMappingError,
    from_unified,
    to_unified,
    to_unified_many,
)
from handoff_hub.hub.mapping.loader import check_mapping, load_mapping
from handoff_hub.hub.mapping.spec import EntityMap, FieldRule, MappingSpec
from handoff_hub.hub.mapping.transforms import known_transforms, register, render_template

__all__ = [
    "EntityMap",
    "FieldProblem",
    "FieldRule",
    "MappingSpec",
    "RecordMappingError",
    "check_mapping",
    "from_unified",
    "known_transforms",
    "load_mapping",
    "register",
    "render_template",
    "to_unified",
    "to_unified_many",
]
