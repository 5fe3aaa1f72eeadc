"""The direct path readers answer exactly as jmespath does."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handoff_hub.hub.mapping.paths import compile_path

PATHS = [
    "Name",
    "Account.Name",
    "fields.status.name",
    "a.b.a.b",
    "Account.a || b.Name.a",
    "IsWon && 'won' || IsClosed && 'lost' || 'open'",
    "a || b",
    "a && b",
    "a.b || 'none'",
    "custom_fields[?gid=='1'].display_value | [0]",
    "tags[0].name",
    "length(items)",
]

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from(["", "x", "won"]),
    st.just([]),
    st.just({}),
)
_records = st.recursive(
    _leaf,
    lambda inner: st.dictionaries(
        st.sampled_from(["a", "b", "Name", "Account", "IsWon", "IsClosed", "fields", "status"]),
        inner,
        max_size=4,
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("path", PATHS)
@given(record=_records)
def test_reader_matches_jmespath(path: str, record: Any) -> None:
    try:
        expected: Any = jmespath.search(path, record)
    except jmespath.exceptions.JMESPathError as exc:
        with pytest.raises(type(exc)):
            compile_path(path)(record)
        return
    assert compile_path(path)(record) == expected


def test_zero_is_true_for_jmespath() -> None:
    assert compile_path("a || 'fallback'")({"a": 0}) == 0
    assert compile_path("a && 'then'")({"a": 0}) == "then"
    assert compile_path("a || 'fallback'")({"a": False}) == "fallback"


def test_a_bad_path_raises_a_parse_error() -> None:
    with pytest.raises(jmespath.exceptions.ParseError):
        compile_path("a..b")
