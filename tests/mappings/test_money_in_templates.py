"""Money in templates and messages reads as people write it, never as a dict."""

from __future__ import annotations

from decimal import Decimal

from handoff_hub.hub.mapping.templating import render_template
from handoff_hub.hub.model import Account, Money, Opportunity, blank_view, template_view


def _opp(amount: Money | None) -> Opportunity:
    return Opportunity(name="Pilot", amount=amount, account=Account(name="Tyrell"))


def test_an_amount_renders_with_its_currency_first() -> None:
    view = template_view(_opp(Money(amount=Decimal("480500"), currency="EUR")))
    text = render_template("{{ name }} ({{ amount }})", view)
    assert text == "Pilot (EUR 480,500.00)"


def test_its_parts_stay_readable() -> None:
    view = template_view(_opp(Money(amount=Decimal("419100.0"), currency="USD")))
    assert render_template("{{ amount.currency }} {{ amount.amount }}", view) == "USD 419100.0"


def test_an_amount_of_unknown_currency_says_so() -> None:
    view = template_view(_opp(Money(amount=Decimal("7"))))
    assert render_template("{{ amount }}", view) == "7.00 (currency unknown)"


def test_no_amount_renders_empty() -> None:
    assert render_template("[{{ amount }}]", template_view(_opp(None))) == "[]"
    assert render_template("[{{ amount }}]", blank_view(Opportunity)) == "[]"


def test_a_plain_str_of_money_is_the_same_text() -> None:
    assert str(Money(amount=Decimal("1234.5"), currency="gbp")) == "GBP 1,234.50"
