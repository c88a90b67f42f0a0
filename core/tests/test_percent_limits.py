"""A limit whose unit is a percentage says "%" in its messages: form and serializer
fields built from it show those messages, instead of failing while filling them in."""

from decimal import Decimal

import pytest
from django import forms
from rest_framework import serializers

from core.limits import CAPACITY_SHARE, PERCENT_MEASURE, measure_limit
from core.serializers import decimal_field, integer_field


def test_a_form_field_from_a_percentage_limit_says_what_to_do() -> None:
    field = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=PERCENT_MEASURE.minimum,
        max_value=PERCENT_MEASURE.maximum,
        error_messages=PERCENT_MEASURE.form_messages(whole=False),
    )
    for value, message in (("-1", "Measure must be 0% or more"), ("150", "Measure must be 100% or less")):
        with pytest.raises(forms.ValidationError) as raised:
            field.clean(value)
        assert raised.value.messages == [message]
    with pytest.raises(forms.ValidationError) as raised:
        field.clean("nearly half")
    assert raised.value.messages == ["Measure must be a number, like 45"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (decimal_field(PERCENT_MEASURE, max_digits=12, decimal_places=2), "-1", "Measure must be 0% or more"),
        (decimal_field(PERCENT_MEASURE, max_digits=12, decimal_places=2), "150", "Measure must be 100% or less"),
        (integer_field(CAPACITY_SHARE), 101, "Share of capacity must be 100% or less"),
    ],
)
def test_a_serializer_field_from_a_percentage_limit_says_what_to_do(field: object, value: object, message: str) -> None:
    assert isinstance(field, serializers.Field)
    with pytest.raises(serializers.ValidationError) as raised:
        field.run_validation(value)
    assert raised.value.detail == [message]


def test_a_measure_in_a_percentage_of_something_is_a_percentage() -> None:
    for unit in ("%", "% of services", "percent", "Percentage of schools", "per cent of CYP"):
        assert measure_limit(unit) is PERCENT_MEASURE, unit
    for unit in ("weeks", "number of agencies", ""):
        assert measure_limit(unit).maximum == Decimal(1_000_000_000), unit
