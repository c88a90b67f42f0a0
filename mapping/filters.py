"""One filter set for the service register, shared by the list page and the API.

A value that is not one of a filter's choices is an error naming the filter (the
page shows it in its error summary, the API answers 400 on the field), never an
empty list that looks like a real answer.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from core import limits

from .models import Grouping, Offer, Sector, Service, ServiceStatus
from .selectors import stale_cutoff

TRUE_VALUES = frozenset({"true", "1"})
FALSE_VALUES = frozenset({"false", "0"})


class YesOrNoField(forms.Field):
    """true or false (or 1 or 0); anything else is an error, where Django's
    NullBooleanField would quietly read it as "either"."""

    def to_python(self, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class YesOrNoFilter(django_filters.Filter):
    field_class = YesOrNoField


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def choose(what: str) -> dict[str, str]:
    """Messages for a filter whose value must be one of its choices."""
    return {"invalid_choice": f"Choose {what} from the list", "invalid": f"Choose {what} from the list"}


# Sort keys: names sort as people read them, whatever their case; numbers and dates
# put records with no value last either way.
NAME_ORDERINGS = frozenset({"name", "organisation__name"})


class CaseInsensitiveOrderingFilter(django_filters.OrderingFilter):
    def get_ordering_value(self, param: str) -> OrderBy:
        descending = param.startswith("-")
        name = self.param_map.get(param.lstrip("-"), param.lstrip("-"))
        expression = Lower(name) if name in NAME_ORDERINGS else F(name)
        return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)

    def filter(self, qs: QuerySet[Service], value: Any) -> QuerySet[Service]:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        # Then by name and id, so a page boundary never splits equal values differently.
        return qs.order_by(*(self.get_ordering_value(param) for param in value), Lower("name"), "pk")


class ServiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")
    grouping = django_filters.ModelChoiceFilter(
        queryset=Grouping.objects.order_by("order"),
        to_field_name="code",
        method="filter_grouping",
        label="THRIVE grouping",
        empty_label="Any grouping",
        error_messages=choose("a THRIVE grouping"),
    )
    mapped = YesOrNoFilter(
        method="filter_mapped",
        label="Mapping",
        error_messages=choose("whether services are mapped"),
    )
    sector = django_filters.ChoiceFilter(
        choices=Sector.choices, empty_label="Any sector", error_messages=choose("a sector")
    )
    age = WholeNumberFilter(
        method="filter_age",
        label="Serves age",
        min_value=int(limits.AGE.minimum),
        max_value=int(limits.AGE.maximum),
        error_messages=limits.AGE.messages(),
    )
    status = django_filters.ChoiceFilter(
        choices=ServiceStatus.choices, empty_label="Any status", error_messages=choose("a status")
    )
    stale = YesOrNoFilter(
        method="filter_stale",
        label="Last checked",
        error_messages=choose("when services were last checked"),
    )
    archived = YesOrNoFilter(
        method="filter_archived",
        label="Archived",
        error_messages=choose("archived only or not archived"),
    )
    include_archived = YesOrNoFilter(
        method="filter_include_archived",
        label="Include archived services",
        error_messages={"invalid": "include_archived must be true or false"},
    )
    ordering = CaseInsensitiveOrderingFilter(
        fields=(
            ("name", "name"),
            ("organisation__name", "organisation"),
            ("annual_capacity", "capacity"),
            ("typical_wait_weeks", "wait"),
            ("last_checked_on", "checked"),
        ),
        field_labels={
            "name": "Name",
            "organisation__name": "Organisation",
            "annual_capacity": "Capacity",
            "typical_wait_weeks": "Wait",
            "last_checked_on": "Last checked",
        },
        label="Sort by",
        empty_label="Name (A to Z)",
        error_messages=choose("how to sort the services"),
    )

    class Meta:
        model = Service
        fields = ["q", "grouping", "mapped", "sector", "age", "status", "stale", "archived", "include_archived"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("sector", "status", "ordering"):
            self.form.fields[name].widget.attrs["class"] = "govuk-select"

    def filter_search(self, queryset: QuerySet[Service], name: str, value: str) -> QuerySet[Service]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(organisation__name__icontains=value)
        )

    def filter_grouping(self, queryset: QuerySet[Service], name: str, value: Grouping | None) -> QuerySet[Service]:
        # EXISTS rather than a join, so no DISTINCT is needed over the whole row.
        if value is None:
            return queryset
        return queryset.filter(Exists(Offer.objects.filter(service=OuterRef("pk"), grouping=value)))

    def filter_mapped(self, queryset: QuerySet[Service], name: str, value: bool | None) -> QuerySet[Service]:
        if value is None:
            return queryset
        has_offer = Exists(Offer.objects.filter(service=OuterRef("pk")))
        return queryset.filter(has_offer) if value else queryset.exclude(has_offer)

    def filter_age(self, queryset: QuerySet[Service], name: str, value: Any) -> QuerySet[Service]:
        if value is None:
            return queryset
        return queryset.filter(min_age__lte=value, max_age__gte=value)

    def filter_stale(self, queryset: QuerySet[Service], name: str, value: bool | None) -> QuerySet[Service]:
        if value is None:
            return queryset
        stale = Q(last_checked_on__isnull=True) | Q(last_checked_on__lt=stale_cutoff())
        return queryset.filter(stale) if value else queryset.exclude(stale)

    def filter_archived(self, queryset: QuerySet[Service], name: str, value: bool | None) -> QuerySet[Service]:
        # Without this filter, only services in the register: see qs.
        return queryset if value is None else queryset.filter(archived_at__isnull=not value)

    def filter_include_archived(self, queryset: QuerySet[Service], name: str, value: bool | None) -> QuerySet[Service]:
        return queryset

    @property
    def qs(self) -> QuerySet[Service]:
        queryset = super().qs
        chosen = getattr(self.form, "cleaned_data", {})
        if chosen.get("archived") is None and not chosen.get("include_archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        if not chosen.get("ordering"):
            queryset = queryset.order_by(Lower("name"), "pk")
        return queryset
