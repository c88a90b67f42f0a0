"""Pages of a site's register, mapping and matrix. Views parse input, call one
service or selector, and render; rules live in services.py and selectors.py."""

from typing import Any

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django_filters.views import FilterView

from core.forms import OUT_OF_DATE, VersionField, add_service_errors, model_values, stale_notice
from core.versioning import StaleSave, last_change
from sites.views import SiteScopedMixin

from . import services
from .filters import ServiceFilter
from .forms import OfferForm, OrganisationForm, ServiceForm, ServiceOffersForm
from .models import Grouping, Offer, Organisation, Sector, Service, ServiceStatus
from .selectors import (
    groupings_in_order,
    organisation_get,
    organisations_for_site,
    service_get,
    service_is_stale,
    services_with_offers,
    stale_cutoff,
)

PAGE_SIZE = 25


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class ServiceListView(SiteScopedMixin, FilterView):
    """The register, filtered. A filter value that is not one of its choices is shown as
    an error by that filter, never as an empty register."""

    template_name = "mapping/service_list.html"
    filterset_class = ServiceFilter
    paginate_by = PAGE_SIZE
    nav = "services"
    context_object_name = "services"

    def get_queryset(self) -> Any:
        # ServiceFilter leaves archived services out unless asked for them.
        return services_with_offers(site=self.site, include_archived=True)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = self.filterset.form
        # Gives the GOV.UK error summary (crispy-forms-gds) its settings.
        form.helper = FormHelper()
        context["stale_cutoff"] = stale_cutoff()
        context["groupings"] = list(groupings_in_order())
        context["querystring_base"] = _querystring_without_page(self.request)
        context["filtered"] = any(v for k, v in self.request.GET.items() if k not in ("page", "ordering"))
        context["filter_errors"] = bool(form.errors)
        context["filter_fields"] = _filter_fields(form, context["groupings"])
        context["archived_listed"] = bool(form.is_valid() and form.cleaned_data.get("archived"))
        return context


def _filter_fields(form: forms.Form, groupings: list[Grouping]) -> list[dict[str, Any]]:
    """The service list's filters in the order the page shows them, with their choices."""
    return [
        {"field": form["q"], "label": "Search", "input_type": "search"},
        {
            "field": form["grouping"],
            "label": "THRIVE grouping",
            "choices": [("", "Any grouping"), *((g.code, g.label) for g in groupings)],
        },
        {
            "field": form["mapped"],
            "label": "Mapping",
            "choices": [("", "Mapped or not"), ("true", "Mapped to a grouping"), ("false", "Not mapped")],
        },
        {"field": form["sector"], "label": "Sector", "choices": [("", "Any sector"), *Sector.choices]},
        {"field": form["age"], "label": "Serves age", "numeric": True},
        {"field": form["status"], "label": "Status", "choices": [("", "Any status"), *ServiceStatus.choices]},
        {
            "field": form["stale"],
            "label": "Last checked",
            "choices": [("", "Any time"), ("true", "More than a year ago"), ("false", "Within the last year")],
        },
        {
            "field": form["archived"],
            "label": "Archived",
            "choices": [("", "Not archived"), ("true", "Archived only")],
        },
        {"field": form["ordering"], "label": "Sort by", "choices": list(form.fields["ordering"].choices)},  # type: ignore[attr-defined]
    ]


def _service_page_context(service: Service) -> dict[str, Any]:
    return {
        "service": service,
        "is_stale": service_is_stale(service=service),
    }


class ServiceDetailView(SiteScopedMixin, TemplateView):
    template_name = "mapping/service_detail.html"
    nav = "services"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(_service_page_context(service_get(site=self.site, public_id=kwargs["public_id"])))
        return context


class _ServiceFormView(SiteScopedMixin, FormView[ServiceForm]):
    template_name = "mapping/service_form.html"
    form_class = ServiceForm
    edit = True
    nav = "services"

    def get_service(self) -> Service | None:
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["site"] = self.site
        kwargs["instance"] = self.get_service()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["service"] = self.get_service()
        return context


class ServiceCreateView(_ServiceFormView):
    def form_valid(self, form: ServiceForm) -> HttpResponse:
        try:
            service = services.service_create(
                site=self.site,
                user=self.acting_user,
                source="page",
                data=form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{service.name} has been registered. Now map it to the THRIVE groupings.")
        return redirect("mapping:service-offers", site_slug=self.site.slug, public_id=service.public_id)


class ServiceUpdateView(_ServiceFormView):
    _service: Service | None = None

    def get_service(self) -> Service:
        if self._service is None:
            self._service = service_get(site=self.site, public_id=self.kwargs["public_id"])
        return self._service

    def form_valid(self, form: ServiceForm) -> HttpResponse:
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("mark_checked", "version")}
        if form.cleaned_data.get("mark_checked"):
            data["last_checked_on"] = timezone.localdate()
        # ModelForm validation already copied the values onto the instance; give the
        # service layer the stored record so the history shows what really changed.
        stored = service_get(site=self.site, public_id=self.kwargs["public_id"])
        try:
            service = services.service_update(
                service=stored,
                user=self.acting_user,
                source="page",
                data=data,
                expected_version=form.cleaned_data["version"],
            )
        except StaleSave as stale:
            shown = [name for name in form.fields if name not in ("mark_checked", "version")]
            notice = stale_notice(form, stale, theirs=model_values(stale.current, shown))
            return self.render_to_response(self.get_context_data(form=form, stale=notice))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Your changes to {service.name} have been saved.")
        return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)


class ServiceOffersView(SiteScopedMixin, TemplateView):
    """Map one service to any of the five groupings, with a share of capacity each. The
    form carries the version of the service's whole mapping the person saw."""

    template_name = "mapping/service_offers.html"
    edit = True
    nav = "services"

    def _form(self, service: Service, data: Any = None) -> ServiceOffersForm:
        return ServiceOffersForm(
            data,
            groupings=list(groupings_in_order()),
            initial_offers={offer.grouping_id: offer for offer in service.offers.all()},
            mapping_version=service.mapping_version,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        return self.render_to_response(self.get_context_data(service=service, form=self._form(service)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        form = self._form(service, request.POST)
        notice = None
        if form.is_valid():
            try:
                services.offers_replace(
                    service=service,
                    offers=[services.OfferInput(g, share, text) for g, share, text in form.chosen_offers()],
                    user=self.acting_user,
                    source="page",
                    expected_mapping_version=form.cleaned_data["mapping_version"],
                )
            except StaleSave as stale:
                saved = {offer.grouping_id: offer for offer in Offer.objects.filter(service=service)}
                notice = stale_notice(
                    form,
                    stale,
                    theirs=form.mapping_values(saved),
                    yours=form.mapping_values(None),
                    version_field="mapping_version",
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"The THRIVE mapping of {service.name} has been saved.")
                return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)
        return self.render_to_response(self.get_context_data(service=service, form=form, stale=notice))


class ServiceActionForm(forms.Form):
    """An action on a service (archive, restore, mark as checked) posts the version of
    the service the person was shown when they chose it."""

    version = VersionField()


class _ServiceActionView(SiteScopedMixin, TemplateView):
    """An action on a service, confirmed on a page showing the service as it is. If
    the service changed after that page was shown, the action is refused and the page
    is shown again with the service as it is now and what happened, so choosing the
    action again is a decision made on what the person can see."""

    edit = True
    nav = "services"
    # The page that shows the service and offers the action.
    template_name = "mapping/service_detail.html"
    # Where the refusal's message links: the action's button.
    button_id = ""
    not_done = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(_service_page_context(service_get(site=self.site, public_id=self.kwargs["public_id"])))
        return context

    def act(self, service: Service, *, expected_version: int) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"])
        form = ServiceActionForm(request.POST)
        if not form.is_valid():
            return self._refused(OUT_OF_DATE)
        try:
            message = self.act(service, expected_version=form.cleaned_data["version"])
        except StaleSave as stale:
            who, when = last_change(stale.current)
            changed = services.changed_after_opening(who=who, when=when, thing="this service")
            return self._refused(f"{changed} {self.not_done}")
        except ValidationError as error:
            return self._refused(" ".join(error.messages))
        messages.success(request, message)
        return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)

    def _refused(self, reason: str) -> HttpResponse:
        refusal = {"message": reason, "target": self.button_id}
        return self.render_to_response(self.get_context_data(refusal=refusal))


class ServiceArchiveView(_ServiceActionView):
    template_name = "mapping/service_archive.html"
    button_id = "archive-button"
    not_done = "The service has not been archived: check it below, then archive it again if you still want to."

    def act(self, service: Service, *, expected_version: int) -> str:
        services.service_archive(
            service=service, user=self.acting_user, source="page", expected_version=expected_version
        )
        return f"{service.name} has been archived. It no longer appears in the register or the mapping."


class ServiceRestoreView(_ServiceActionView):
    http_method_names = ["post"]
    button_id = "restore-button"
    not_done = "The service has not been restored: check it below, then restore it again if you still want to."

    def act(self, service: Service, *, expected_version: int) -> str:
        services.service_restore(
            service=service, user=self.acting_user, source="page", expected_version=expected_version
        )
        return f"{service.name} has been restored to the register."


class ServiceMarkCheckedView(_ServiceActionView):
    http_method_names = ["post"]
    button_id = "checked-button"
    not_done = "The record has not been marked as checked: check it below, then mark it again if it is correct."

    def act(self, service: Service, *, expected_version: int) -> str:
        services.service_mark_checked(
            service=service, user=self.acting_user, source="page", expected_version=expected_version
        )
        return f"{service.name} has been marked as checked today."


# A UUID no service has, to reverse a URL once and fill in each service's id after.
_ANY_ID = "00000000-0000-0000-0000-000000000000"


def _matrix_links(site_slug: str) -> tuple[Any, Any]:
    """Functions giving a service's page and a matrix cell's URL without a reverse()
    per cell: a page of the matrix has 50 rows of five cells."""
    detail_before, _, detail_after = reverse("mapping:service-detail", args=[site_slug, _ANY_ID]).rpartition(_ANY_ID)
    cell = reverse("mapping:matrix-cell", args=[site_slug, _ANY_ID, "code"])
    cell_before, _, cell_after = cell.rpartition(_ANY_ID)
    cell_middle, _, cell_end = cell_after.rpartition("code")

    def detail_url(service: Service) -> str:
        return f"{detail_before}{service.public_id}{detail_after}"

    def cell_url(service: Service, grouping: Grouping) -> str:
        return f"{cell_before}{service.public_id}{cell_middle}{grouping.code}{cell_end}"

    return detail_url, cell_url


class MatrixView(SiteScopedMixin, TemplateView):
    """Services as rows, the five groupings as columns, each cell editable in place."""

    template_name = "mapping/matrix.html"
    nav = "matrix"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        groupings = list(groupings_in_order())
        paginator = Paginator(services_with_offers(site=self.site).order_by(Lower("name"), "pk"), PAGE_SIZE)
        page = paginator.get_page(self.request.GET.get("page"))
        detail_url, cell_url = _matrix_links(self.site.slug)
        rows = []
        for service in page.object_list:
            offers = {offer.grouping_id: offer for offer in service.offers.all()}
            rows.append(
                {
                    "service": service,
                    "url": detail_url(service),
                    "total_share": sum(o.capacity_share for o in offers.values()),
                    "cells": [
                        {"grouping": g, "offer": offers.get(g.pk), "url": cell_url(service, g)} for g in groupings
                    ],
                }
            )
        context.update(groupings=groupings, rows=rows, page_obj=page, querystring_base="")
        return context


class MatrixCellView(SiteScopedMixin, View):
    """One cell of the matrix. With htmx, GET returns the cell's edit form and POST
    returns the updated cell; without JavaScript the same URL is a full page. The
    form carries the offer's version as the person saw it (0 for an empty cell): a
    save after someone else changed the cell is refused, showing what they saved and
    keeping what this person typed."""

    def _load(self, **kwargs: Any) -> tuple[Service, Grouping]:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        grouping = groupings_in_order().filter(code=kwargs["grouping_code"]).first()
        if grouping is None:
            raise Http404("No such grouping")
        return service, grouping

    @staticmethod
    def _offer(service: Service, grouping: Grouping) -> Offer | None:
        return next((o for o in service.offers.all() if o.grouping_id == grouping.pk), None)

    def _render(self, request: HttpRequest, service: Service, grouping: Grouping, **extra: Any) -> HttpResponse:
        context = {
            "site": self.site,
            "can_edit": self.can_edit,
            "service": service,
            "grouping": grouping,
            "offer": self._offer(service, grouping),
            "cell_url": reverse("mapping:matrix-cell", args=[self.site.slug, service.public_id, grouping.code]),
            "cell_id": f"{service.public_id}-{grouping.code}",
            "nav": "matrix",
            **extra,
        }
        if request.htmx:  # type: ignore[attr-defined]
            partial = "matrix_cell_form" if "form" in extra else "matrix_cell"
            return render(request, f"mapping/includes/{partial}.html", context)
        return render(request, "mapping/matrix_cell.html", context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service, grouping = self._load(**kwargs)
        if request.GET.get("cancel") or not self.can_edit:
            return self._render(request, service, grouping)
        offer = self._offer(service, grouping)
        initial: dict[str, Any] = {"version": offer.version if offer else 0}
        if offer is not None:
            initial.update(capacity_share=offer.capacity_share, description=offer.description)
        return self._render(request, service, grouping, form=OfferForm(initial=initial))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can change its mapping.")
        service, grouping = self._load(**kwargs)
        form = OfferForm(request.POST)
        removing = "remove" in request.POST
        valid = form.is_valid()
        if (removing and "version" in form.errors) or (not removing and not valid):
            return self._render(request, service, grouping, form=form)
        try:
            if removing:
                services.offer_remove(
                    service=service,
                    grouping=grouping,
                    user=self.acting_user,
                    source="page",
                    expected_version=form.cleaned_data["version"],
                )
            else:
                services.offer_set(
                    service=service,
                    grouping=grouping,
                    user=self.acting_user,
                    source="page",
                    capacity_share=form.cleaned_data["capacity_share"],
                    description=form.cleaned_data["description"],
                    expected_version=form.cleaned_data["version"],
                )
        except StaleSave as stale:
            return self._refused(request, form, stale, grouping, public_id=kwargs["public_id"])
        except ValidationError as error:
            add_service_errors(form, error)
            return self._render(request, service, grouping, form=form)
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        if request.htmx:  # type: ignore[attr-defined]
            total_share = sum(o.capacity_share for o in service.offers.all())
            return self._render(request, service, grouping, saved=True, total_share=total_share, oob=True)
        messages.success(request, f"The mapping of {service.name} to {grouping.label} has been saved.")
        return redirect(reverse("mapping:matrix", kwargs={"site_slug": self.site.slug}) + f"#row-{service.public_id}")

    def _refused(
        self, request: HttpRequest, form: OfferForm, stale: StaleSave, grouping: Grouping, *, public_id: Any
    ) -> HttpResponse:
        """The cell's form again, keeping what was typed, with what the colleague saved
        in the cell (and the row's total as it is now)."""
        current: Offer | None = stale.current
        theirs: dict[str, Any] = {"capacity_share": None, "description": None}
        if current is not None:
            theirs = {"capacity_share": current.capacity_share, "description": current.description}
        typed = {name: form.cleaned_data.get(name) for name in ("capacity_share", "description")}
        notice = stale_notice(form, stale, theirs=theirs, yours=typed)
        service = service_get(site=self.site, public_id=public_id, include_archived=False)
        total_share = sum(o.capacity_share for o in service.offers.all())
        return self._render(
            request,
            service,
            grouping,
            form=form,
            stale=notice,
            saved_now=current,
            total_share=total_share,
            oob=bool(request.htmx),  # type: ignore[attr-defined]
        )


class OrganisationListView(SiteScopedMixin, ListView[Organisation]):
    template_name = "mapping/organisation_list.html"
    nav = "organisations"
    paginate_by = PAGE_SIZE
    context_object_name = "organisations"

    def get_queryset(self) -> Any:
        return organisations_for_site(site=self.site).annotate(
            service_count=Count("services", filter=Q(services__archived_at__isnull=True))
        )


class _OrganisationFormView(SiteScopedMixin, FormView[OrganisationForm]):
    template_name = "mapping/organisation_form.html"
    form_class = OrganisationForm
    edit = True
    nav = "organisations"
    organisation: Organisation | None = None

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if "public_id" in self.kwargs:
            self.organisation = organisation_get(site=self.site, public_id=self.kwargs["public_id"])
            kwargs["instance"] = self.organisation
        return kwargs

    def form_valid(self, form: OrganisationForm) -> HttpResponse:
        user = self.acting_user
        try:
            if self.organisation is None:
                organisation = services.organisation_create(
                    site=self.site,
                    user=user,
                    source="page",
                    **form.cleaned_data,
                )
            else:
                organisation = services.organisation_update(
                    organisation=self.organisation,
                    user=user,
                    source="page",
                    data=form.cleaned_data,
                    expected_version=form.cleaned_data["version"],
                )
        except StaleSave as stale:
            notice = stale_notice(form, stale, theirs=model_values(stale.current, services.ORGANISATION_FIELDS))
            return self.render_to_response(self.get_context_data(form=form, stale=notice))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{organisation.name} has been saved.")
        return redirect("mapping:organisation-list", site_slug=self.site.slug)


class OrganisationCreateView(_OrganisationFormView):
    pass


class OrganisationUpdateView(_OrganisationFormView):
    pass
