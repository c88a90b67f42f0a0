"""The site's activity feed and each record's History page. Everyone who can read
the site can read them; another site's records are a 404 (sites.views)."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.urls import reverse
from django.views.generic import TemplateView

from sites.views import SiteScopedMixin

from .forms import ActivityFilterForm
from .selectors import (
    PER_PAGE,
    ActivityList,
    RecordHistory,
    areas_history,
    assumptions_history,
    decision_history,
    organisation_history,
    people_in_activity,
    population_history,
    round_history,
    service_history,
    site_activity,
)


def _page(request: HttpRequest, activity: ActivityList) -> Page[Any]:
    return Paginator(activity, PER_PAGE).get_page(request.GET.get("page"))


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class SiteActivityView(SiteScopedMixin, TemplateView):
    template_name = "activity/site_activity.html"
    nav = "activity"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = ActivityFilterForm(self.request.GET, people=people_in_activity(site=self.site))
        page = None
        if form.is_valid():
            activity = site_activity(site=self.site, kinds=form.chosen_kinds, person=form.chosen_person)
            page = _page(self.request, activity)
        context.update(form=form, page_obj=page, querystring_base=_querystring_without_page(self.request))
        return context


class _RecordHistoryView(SiteScopedMixin, TemplateView):
    """A History page: the record's changes, newest first, a page at a time."""

    template_name = "activity/record_history.html"

    def load(self) -> RecordHistory:
        raise NotImplementedError

    def crumbs(self) -> list[tuple[str, str]]:
        return []

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        history = self.load()
        site_crumb = (self.site.name, reverse("sites:overview", kwargs={"site_slug": self.site.slug}))
        context.update(
            history=history,
            page_obj=_page(self.request, history.activity),
            querystring_base="",
            crumbs=[site_crumb, *self.crumbs()],
        )
        return context

    def _url(self, name: str) -> str:
        return reverse(name, kwargs={"site_slug": self.site.slug})


class ServiceHistoryView(_RecordHistoryView):
    nav = "services"

    def load(self) -> RecordHistory:
        return service_history(site=self.site, public_id=self.kwargs["public_id"])

    def crumbs(self) -> list[tuple[str, str]]:
        return [("Services", self._url("mapping:service-list"))]


class OrganisationHistoryView(_RecordHistoryView):
    nav = "organisations"

    def load(self) -> RecordHistory:
        return organisation_history(site=self.site, public_id=self.kwargs["public_id"])

    def crumbs(self) -> list[tuple[str, str]]:
        return [("Organisations", self._url("mapping:organisation-list"))]


class RoundHistoryView(_RecordHistoryView):
    nav = "assessment"

    def load(self) -> RecordHistory:
        return round_history(site=self.site, public_id=self.kwargs["public_id"])

    def crumbs(self) -> list[tuple[str, str]]:
        return [("THRIVE assessment", self._url("assessment:round-list"))]


class DecisionHistoryView(_RecordHistoryView):
    nav = "gaps"

    def load(self) -> RecordHistory:
        return decision_history(site=self.site, key=self.kwargs["key"])

    def crumbs(self) -> list[tuple[str, str]]:
        return [("Gap analysis", self._url("gaps:gaps-home"))]


class AssumptionsHistoryView(_RecordHistoryView):
    nav = "gaps"

    def load(self) -> RecordHistory:
        return assumptions_history(site=self.site)

    def crumbs(self) -> list[tuple[str, str]]:
        return [("Gap analysis", self._url("gaps:gaps-home"))]


class PopulationHistoryView(AssumptionsHistoryView):
    def load(self) -> RecordHistory:
        return population_history(site=self.site)


class AreasHistoryView(_RecordHistoryView):
    nav = "activity"

    def load(self) -> RecordHistory:
        return areas_history(site=self.site)

    def crumbs(self) -> list[tuple[str, str]]:
        return [("Activity", self._url("activity:site-activity"))]
