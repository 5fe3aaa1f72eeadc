"""Unpaired surrogates are found, and replaced for storage; paired text is left alone."""

from __future__ import annotations

from handoff_hub.hub.unicode_text import unpaired_surrogate, without_surrogates


def test_the_first_unpaired_surrogate_is_found() -> None:
    assert unpaired_surrogate("cut \ud83d here \udc00") == "\ud83d"
    assert unpaired_surrogate("caf\u00e9 \U0001f600") is None  # paired: one code point
    assert unpaired_surrogate("plain ascii") is None


def test_surrogates_become_the_replacement_character() -> None:
    assert without_surrogates("a\ud83db\udc00") == "a\ufffdb\ufffd"
    assert without_surrogates("caf\u00e9") == "caf\u00e9"
