"""One filter set for the service register, shared by the list page and the API."""

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Grouping, Offer, Sector, Service, ServiceStatus
from .selectors import stale_cutoff


class ServiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")
    grouping = django_filters.ModelChoiceFilter(
        queryset=Grouping.objects.order_by("order"),
        to_field_name="code",
        method="filter_grouping",
        label="THRIVE grouping",
        empty_label="Any grouping",
    )
    mapped = django_filters.BooleanFilter(method="filter_mapped", label="Mapped to a grouping")
    sector = django_filters.ChoiceFilter(choices=Sector.choices, empty_label="Any sector")
    age = django_filters.NumberFilter(method="filter_age", label="Serves age", min_value=0, max_value=25)
    status = django_filters.ChoiceFilter(choices=ServiceStatus.choices, empty_label="Any status")
    stale = django_filters.BooleanFilter(method="filter_stale", label="Not checked for a year")
    ordering = django_filters.OrderingFilter(
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
    )

    class Meta:
        model = Service
        fields = ["q", "grouping", "mapped", "sector", "age", "status", "stale"]

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

    @property
    def qs(self) -> QuerySet[Service]:
        queryset = super().qs
        if not getattr(self.form, "cleaned_data", {}).get("ordering"):
            queryset = queryset.order_by("name", "pk")
        return queryset
