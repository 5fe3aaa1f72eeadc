"""A field rule's compiled read does exactly the steps its rule asks for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from handoff_hub.hub.mapping.field_reader import MAX_TEXT_LENGTH, MISSING, compile_field_reader
from handoff_hub.hub.mapping.spec import FieldRule
from handoff_hub.hub.mapping.values import ValueProblem

LONG = "x" * (MAX_TEXT_LENGTH + 1)
LONE_SURROGATE = "cut \ud83d here"


def _read(rule: dict[str, Any], raw: dict[str, Any]) -> Any:
    return compile_field_reader(FieldRule(**rule))(raw)


def test_a_plain_copy_gives_the_value_or_missing() -> None:
    assert _read({"path": "A.B"}, {"A": {"B": 7}}) == 7
    assert _read({"path": "A.B"}, {"A": None}) is MISSING
    assert _read({"path": "A.B"}, {"A": "text"}) is MISSING


@pytest.mark.parametrize(
    "rule",
    [
        {"path": "A"},  # a plain copy
        {"path": "A", "type": "string"},  # with a type
        {"path": "A", "required": True},  # required, nothing else
        {"path": "A", "default": "d"},  # with a default
        {"path": "A", "transform": "lower"},  # transformed first
    ],
)
def test_text_no_product_can_hold_is_refused_whatever_the_rule(rule: dict[str, Any]) -> None:
    with pytest.raises(ValueProblem, match="longer than"):
        _read(rule, {"A": LONG})
    with pytest.raises(ValueProblem, match=r"unpaired surrogate \(U\+D83D\)"):
        _read(rule, {"A": LONE_SURROGATE})
    text = "caf\u00e9 \U0001f600 ok"  # non-ASCII, paired: fine
    assert _read(rule, {"A": text}) == (text.lower() if "transform" in rule else text)


def test_a_required_field_refuses_empty_and_blank_text() -> None:
    for raw in ({}, {"A": None}, {"A": "  "}):
        with pytest.raises(ValueProblem, match="required"):
            _read({"path": "A", "required": True}, raw)
    assert _read({"path": "A", "required": True}, {"A": 0}) == 0


def test_a_default_fills_an_empty_source_as_is() -> None:
    assert _read({"path": "A", "default": "open", "type": "integer"}, {}) == "open"
    assert _read({"path": "A", "default": 5, "required": True}, {"A": " "}) == 5
    assert _read({"default": "fixed"}, {"A": 1}) == "fixed"


def test_steps_run_in_order_transform_map_type() -> None:
    rule = {"path": "S", "transform": "lower", "map": {"won": "true"}, "type": "boolean"}
    assert _read(rule, {"S": "WON"}) is True
    with pytest.raises(ValueProblem, match="not in the value map"):
        _read(rule, {"S": "LOST"})
    assert _read({**rule, "map_default": "false"}, {"S": "LOST"}) is False


def test_typed_values_convert_and_a_bad_one_is_named() -> None:
    assert _read({"path": "D", "type": "date"}, {"D": "2026-11-30"}) == dt.date(2026, 11, 30)
    with pytest.raises(ValueProblem, match="whole number"):
        _read({"path": "N", "type": "integer"}, {"N": "1.5"})


def test_money_takes_the_record_currency_else_the_fixed_one() -> None:
    rule = {"path": "Amount", "type": "money", "currency_path": "Cur", "currency": "USD"}
    assert _read(rule, {"Amount": "10.50", "Cur": "EUR"}) == {
        "amount": Decimal("10.50"),
        "currency": "EUR",
    }
    assert _read(rule, {"Amount": 3})["currency"] == "USD"
    assert _read({"path": "Amount", "type": "money"}, {"Amount": 3})["currency"] is None


def test_a_template_renders_from_the_record() -> None:
    assert _read({"template": "{{ A }}-{{ B }}"}, {"A": "x", "B": 2}) == "x-2"
    with pytest.raises(ValueProblem):
        _read({"template": "{{ Missing.Deep }}"}, {})


def test_a_record_id_no_product_can_hold_is_no_usable_id() -> None:
    from handoff_hub.hub.mapping.engine import RecordMappingError, to_unified
    from handoff_hub.hub.mapping.spec import MappingSpec

    spec = MappingSpec.model_validate(
        {
            "system": "crm",
            "entities": {"Account": {"object": "A", "fields": {"name": {"path": "N"}}}},
        }
    )
    with pytest.raises(RecordMappingError, match="unpaired surrogate") as caught:
        to_unified(spec, "Account", {"Id": LONE_SURROGATE, "N": "Acme"})
    assert caught.value.record_id == "(no id)"
