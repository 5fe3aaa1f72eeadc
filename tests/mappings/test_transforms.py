"""Transform registry and the sandboxed template environment."""

from __future__ import annotations

import pytest

from handoff_hub.hub.errors import MappingError, RegistryError
from handoff_hub.hub.mapping.engine import from_unified, to_unified
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.mapping.transforms import (
    adf_to_text,
    apply_transform,
    get_transform,
    known_transforms,
    register,
    render_template,
    template_error,
    text_to_adf,
)


def test_unknown_transform_lists_the_known_ones() -> None:
    with pytest.raises(RegistryError) as caught:
        get_transform("rot13")
    message = str(caught.value)
    assert "'rot13'" in message
    for name in ("adf", "adf_text", "lower", "upper", "strip", "iso_date", "decimal_str"):
        assert name in message
        assert name in known_transforms()


def test_adf_round_trip() -> None:
    text = "Scope:\nphase one\n\nBudget approved."
    doc = text_to_adf(text)
    assert doc["type"] == "doc" and doc["version"] == 1
    assert [block["type"] for block in doc["content"]] == ["paragraph", "paragraph"]
    assert {"type": "hardBreak"} in doc["content"][0]["content"]
    assert adf_to_text(doc) == text
    assert apply_transform("adf_text", doc, "read") == text
    assert apply_transform("adf_text", "plain", "write") == "plain"


def test_adf_text_reads_lists_and_leaves_plain_text_alone() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    },
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "two"}]}
                        ],
                    },
                ],
            }
        ],
    }
    assert adf_to_text(doc) == "one\ntwo"
    assert adf_to_text("already text") == "already text"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("lower", "ABC", "abc"),
        ("upper", "abc", "ABC"),
        ("strip", "  a ", "a"),
        ("iso_date", "2026-11-20T10:15:00.000+0000", "2026-11-20"),
        ("decimal_str", 1200.5, "1200.5"),
        ("lower", 5, 5),
        ("lower", None, None),
    ],
)
def test_scalar_transforms(name, value, expected) -> None:
    assert apply_transform(name, value, "read") == expected


def test_registered_transform_is_usable_from_a_mapping() -> None:
    register(
        "reverse_words", read=lambda v: " ".join(reversed(str(v).split())), description="test only"
    )
    spec = MappingSpec.model_validate(
        {
            "system": "x",
            "entities": {
                "User": {
                    "object": "U",
                    "fields": {"name": {"path": "n", "transform": "reverse_words"}},
                }
            },
        }
    )
    assert to_unified(spec, "User", {"Id": "1", "n": "Lovelace Ada"}).name == "Ada Lovelace"  # type: ignore[attr-defined]
    assert from_unified(spec, "User", {"name": "a b"}) == {"n": "a b"}  # no write side


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ record.__init__.__globals__ }}",
        "{{ record._secret }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ [].append(1) }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_templates_are_sandboxed(template) -> None:
    with pytest.raises(MappingError, match=r"unsafe|undefined"):
        render_template(template, {"record": {"_secret": "s3cr3t", "name": "x"}})


def test_strict_undefined_and_none_rendering() -> None:
    assert render_template("{{ a.b }}|{{ a.c }}", {"a": {"b": "x", "c": None}}) == "x|"
    with pytest.raises(MappingError, match="'nope' is undefined"):
        render_template("{{ nope }}", {})


def test_template_syntax_is_checked_without_rendering() -> None:
    assert template_error("{{ ok }}") is None
    error = template_error("{% if x %}unclosed")
    assert error is not None and "does not parse" in error


def test_sandboxed_template_in_a_mapping_fails_the_record_not_the_process() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "x",
            "entities": {
                "User": {"object": "U", "fields": {"name": {"template": "{{ Name.__class__ }}"}}}
            },
        }
    )
    with pytest.raises(MappingError, match=r"User 1: name <-> template.*unsafe"):
        to_unified(spec, "User", {"Id": "1", "Name": "x"})
