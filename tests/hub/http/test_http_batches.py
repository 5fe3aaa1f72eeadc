"""Batches: consecutive slices of a product's batch size, nothing lost or repeated."""

from __future__ import annotations

import pytest

from handoff_hub.hub.http import chunks


@pytest.mark.parametrize(("count", "size"), [(0, 3), (1, 3), (3, 3), (7, 3), (200, 200)])
def test_chunks_are_consecutive_slices_of_at_most_size(count: int, size: int) -> None:
    items = list(range(count))

    batches = list(chunks(items, size))

    assert [i for batch in batches for i in batch] == items
    assert all(0 < len(batch) <= size for batch in batches)
    assert len(batches) == -(-count // size)


def test_chunks_keep_the_sequence_type() -> None:
    assert list(chunks("abcde", 2)) == ["ab", "cd", "e"]


@pytest.mark.parametrize("size", [0, -1])
def test_a_batch_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        list(chunks([1, 2], size))
