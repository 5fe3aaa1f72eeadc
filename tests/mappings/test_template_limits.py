"""Templates render within limits: a hostile one fails with a MappingError, promptly."""

from __future__ import annotations

import pytest

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.templating import (
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_SOURCE,
    MAX_STEPS,
    render_template,
    template_error,
)


@pytest.mark.parametrize(
    ("template", "tag"),
    [
        ("{% include 'other.txt' %}", "include"),
        ("{% import 'macros.txt' as m %}{{ m.x() }}", "import"),
        ("{% from 'macros.txt' import x %}{{ x() }}", "from ... import"),
        ("{% extends 'base.txt' %}", "extends"),
        ("Hello\n{% if a %}{% include a %}{% endif %}", "include"),
    ],
)
def test_templates_cannot_load_other_templates(template: str, tag: str) -> None:
    error = template_error(template)
    assert error is not None
    assert f"{{% {tag} %}} is not allowed: a template cannot load another" in error
    assert error.startswith("template refused (template line ")
    with pytest.raises(MappingError, match=f"{{% {tag} %}} is not allowed"):
        render_template(template, {"a": "x"})


def test_include_is_refused_at_its_line() -> None:
    error = template_error("Hello\n{% if a %}{% include a %}{% endif %}")
    assert error is not None and error.startswith("template refused (template line 2)")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ range(10**8)|list|length }}", "range() of 100,000,000 items"),
        ("{% for i in range(10**8) %}x{% endfor %}", "range() of 100,000,000 items"),
        (
            "{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}",
            f"more than {MAX_STEPS:,} steps",
        ),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(60) }}",
            f"more than {MAX_STEPS:,} steps",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macros call each other too deep"),
        ("{% for i in range(9000) %}{{ 'x' * 200 }}{% endfor %}", "the output is longer than"),
        ("{{ 'x' * 10**8 }}", "'*' would build about 100,000,000 characters"),
        ("{{ [0] * 10**8 }}", "'*' would build about 100,000,000 characters"),
        ("{{ 2 ** (10**8) }}", "'**' would build a number of more than 100,000 bits"),
        ("{% set s = 'x' * 999999 %}{{ s ~ s }}", "'~' would build about 1,999,998 characters"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
            "'+' would build about",
        ),
        ("{{ 'x'|center(10**9) }}", "the center filter would build about 1,000,000,000"),
        ("{{ ('a\n' * 400000)|indent(100) }}", "the indent filter would build about"),
        ("{{ range(9000)|join('-' * 9000) }}", "the join filter would build about"),
        ("{{ ('a' * 99999)|replace('a', 'bbbbbbbbbbbb') }}", "the replace filter would build"),
        ("{{ '%999999999s' % 'x' }}", "'%' would build about 1,000,000,0"),
        ("{{ '%*s' % (10**9, 'x') }}", "a '*' width in a % format is not allowed"),
        ("{{ '%999999999d'|format(1) }}", "the format filter would build about"),
        ("{{ '{:>999999999}'.format(1) }}", "str.format() would build about"),
        ("{{ '{:>{}}'.format(1, 10**9) }}", "a nested {} in a format spec is not allowed"),
        ("{{ 'x'.ljust(10**9) }}", "str.ljust() would build about 1,000,000,000"),
        ("{{ ('\t' * 99999).expandtabs(9999) }}", "str.expandtabs() would build about"),
        ("{{ ','.join(range(9000)|map('string')) * 200 }}", "'*' would build about"),
        ("{{ 'x'.translate({120: 'y'}) }}", "access to attribute 'translate'"),
        ("{{ [1]|batch(10**9, 0)|list }}", f"batch(1,000,000,000) (the limit is {MAX_RANGE:,})"),
        ("{{ [1]|slice(10**9)|list }}", f"slice(1,000,000,000) (the limit is {MAX_RANGE:,})"),
        ("{{ lipsum(10**6) }}", "'lipsum' is undefined"),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        ("{{ 'a' + 1 }}", "TypeError"),
        ("{{ '{:%}'.format('x') }}", "ValueError"),
    ],
)
def test_a_runaway_template_fails_with_a_mapping_error(template: str, problem: str) -> None:
    with pytest.raises(MappingError) as caught:
        render_template(template, {})
    assert problem in str(caught.value)
    assert str(caught.value).startswith("template ")


def test_a_long_template_is_refused() -> None:
    source = "{{ opportunity.name }}" + "x" * MAX_SOURCE
    error = template_error(source)
    assert error is not None
    assert f"the template is {len(source):,} characters long (the limit is {MAX_SOURCE:,})" in (
        error
    )
    with pytest.raises(MappingError, match="characters long"):
        render_template(source, {"opportunity": {"name": "Deal"}})


def test_long_values_from_the_context_render_up_to_the_output_limit() -> None:
    text = "y" * (MAX_OUTPUT - 10)
    assert render_template("{{ t }}", {"t": text}) == text
    with pytest.raises(MappingError, match="the output is longer than"):
        render_template("{{ t }}{{ t }}", {"t": text})


CONTEXT = {
    "opportunity": {"name": "Deal", "amount": {"amount": "1250.50", "currency": "EUR"}},
    "account": {"name": "Acme"},
    "items": [{"n": "a", "c": [{"n": "b", "c": []}]}, {"n": "c", "c": []}],
    "amount": 1234567,
    "tags": ["x", "y"],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ account.name }} - {{ opportunity.name }}", "Acme - Deal"),
        (
            "{% if account.name %}{{ account.name }} - {% endif %}{{ opportunity.name }}",
            "Acme - Deal",
        ),
        ("{{ account.name ~ ': ' ~ opportunity.name|upper }}", "Acme: DEAL"),
        ("{{ opportunity.amount.amount }} {{ opportunity.amount.currency }}", "1250.50 EUR"),
        (
            "{% for t in tags %}{{ loop.index }}{{ t }}"
            "{% if not loop.last %},{% endif %}{% endfor %}",
            "1x,2y",
        ),
        ("{% for t in [] %}{{ t }}{% else %}none{% endfor %}", "none"),
        ("{% for i in items recursive %}{{ i.n }}{{ loop(i.c) }}{% endfor %}", "abc"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ tags|join(', ') }} {{ ', '.join(tags) }}", "x, y x, y"),
        (
            "{{ '%s-%05d' % (account.name, 42) }} {{ '{:,}'.format(amount) }}",
            "Acme-00042 1,234,567",
        ),
        (
            "{{ '%.1f'|format(2.25) }} {{ 'ab'|replace('b', 'c') }} {{ 'x'|center(5) }}",
            "2.2 ac   x  ",
        ),
        ("{{ account|tojson }}", '{"name": "Acme"}'),
        ("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ [1] + [2] }}", "ababab 1024 [1, 2]"),
        (
            "{% set ns = namespace(n=0) %}{% for t in tags %}{% set ns.n = ns.n + 1 %}"
            "{% endfor %}{{ ns.n }}",
            "2",
        ),
        ("{% macro greet(who) %}Hi {{ who }}{% endmacro %}{{ greet(account.name) }}", "Hi Acme"),
        ("{{ 'a\nb'|indent(2, first=true) }}", "  a\n  b"),
        ("{{ (items|map(attribute='n')|list)|length }}", "2"),
    ],
)
def test_ordinary_templates_still_render(template: str, expected: str) -> None:
    assert template_error(template) is None
    assert render_template(template, CONTEXT) == expected


def test_the_budget_is_per_rendering() -> None:
    template = "{% for i in range(5000) %}{% for j in range(9) %}{% endfor %}{% endfor %}"
    for _ in range(3):
        assert render_template(template, {}) == ""
