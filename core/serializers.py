"""Serializer fields built from core.limits, so the API refuses what the pages
refuse, with the same plain messages."""

from datetime import date
from typing import Any

from rest_framework import serializers

from .limits import DateWindow, NumberLimit, TextLimit


def _messages(limit: NumberLimit, *, whole: bool) -> dict[str, str]:
    # DRF hands the range messages to Django's validators, which fill them in with
    # %-formatting: a literal % (a percentage's unit) is doubled, or it fails.
    return {
        code: message.replace("%", "%%") if code in ("min_value", "max_value") else message
        for code, message in limit.messages(whole=whole).items()
    }


def integer_field(limit: NumberLimit, **kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=int(limit.minimum),
        max_value=int(limit.maximum),
        error_messages={**_messages(limit, whole=True), **kwargs.pop("error_messages", {})},
        **kwargs,
    )


def decimal_field(limit: NumberLimit, *, max_digits: int, decimal_places: int, **kwargs: Any) -> Any:
    return serializers.DecimalField(
        max_digits=max_digits,
        decimal_places=decimal_places,
        min_value=limit.minimum,
        max_value=limit.maximum,
        error_messages={**_messages(limit, whole=False), **kwargs.pop("error_messages", {})},
        **kwargs,
    )


def text_field(limit: TextLimit, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=limit.max_length, error_messages={**limit.messages(), **kwargs.pop("error_messages", {})}, **kwargs
    )


class WindowDateField(serializers.DateField):
    """A date that must fall in its window (core.limits)."""

    def __init__(self, *, window: DateWindow, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages", {"invalid": f"The {window.what} must be a real date in the form 2027-03-31"}
        )
        super().__init__(**kwargs)
        self.window = window

    def to_internal_value(self, value: Any) -> date:
        parsed: date = super().to_internal_value(value)
        errors = self.window.errors(parsed)
        if errors:
            raise serializers.ValidationError(errors)
        return parsed


def date_field(window: DateWindow, **kwargs: Any) -> WindowDateField:
    return WindowDateField(window=window, **kwargs)
