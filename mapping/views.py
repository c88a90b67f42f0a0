"""Pages of a site's register, mapping and matrix. Views parse input, call one
service or selector, and render; rules live in services.py and selectors.py."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django_filters.views import FilterView

from core.forms import model_values, stale_notice
from core.versioning import StaleSave
from sites.views import SiteScopedMixin

from . import services
from .filters import ServiceFilter
from .forms import OfferForm, OrganisationForm, ServiceForm, ServiceOffersForm
from .models import Grouping, Organisation, Service
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


def _add_validation_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a rule broken in the service layer against the field it concerns."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class ServiceListView(SiteScopedMixin, FilterView):
    template_name = "mapping/service_list.html"
    filterset_class = ServiceFilter
    paginate_by = PAGE_SIZE
    nav = "services"
    context_object_name = "services"

    def get_queryset(self) -> Any:
        return services_with_offers(site=self.site)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["stale_cutoff"] = stale_cutoff()
        context["groupings"] = list(groupings_in_order())
        context["querystring_base"] = _querystring_without_page(self.request)
        context["filtered"] = any(v for k, v in self.request.GET.items() if k not in ("page", "ordering"))
        return context


class ServiceDetailView(SiteScopedMixin, TemplateView):
    template_name = "mapping/service_detail.html"
    nav = "services"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        service = service_get(site=self.site, public_id=kwargs["public_id"])
        context.update(service=service, is_stale=service_is_stale(service=service))
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
            _add_validation_errors(form, error)
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
        data = {k: v for k, v in form.cleaned_data.items() if k != "mark_checked"}
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
            )
        except ValidationError as error:
            _add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Your changes to {service.name} have been saved.")
        return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)


class ServiceOffersView(SiteScopedMixin, TemplateView):
    """Map one service to any of the five groupings, with a share of capacity each."""

    template_name = "mapping/service_offers.html"
    edit = True
    nav = "services"

    def _form(self, service: Service, data: Any = None) -> ServiceOffersForm:
        return ServiceOffersForm(
            data,
            groupings=list(groupings_in_order()),
            initial_offers={offer.grouping_id: offer for offer in service.offers.all()},
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        return self.render_to_response(self.get_context_data(service=service, form=self._form(service)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        form = self._form(service, request.POST)
        if form.is_valid():
            try:
                services.offers_replace(
                    service=service,
                    offers=[services.OfferInput(g, share, text) for g, share, text in form.chosen_offers()],
                    user=self.acting_user,
                    source="page",
                )
            except ValidationError as error:
                _add_validation_errors(form, error)
            else:
                messages.success(request, f"The THRIVE mapping of {service.name} has been saved.")
                return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)
        return self.render_to_response(self.get_context_data(service=service, form=form))


class _ServiceActionView(SiteScopedMixin, TemplateView):
    """A confirmation page (GET) and the action itself (POST)."""

    edit = True
    nav = "services"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["service"] = service_get(site=self.site, public_id=kwargs["public_id"])
        return context

    def act(self, service: Service) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        service = service_get(site=self.site, public_id=kwargs["public_id"])
        messages.success(request, self.act(service))
        return redirect("mapping:service-detail", site_slug=self.site.slug, public_id=service.public_id)


class ServiceArchiveView(_ServiceActionView):
    template_name = "mapping/service_archive.html"

    def act(self, service: Service) -> str:
        services.service_archive(service=service, user=self.acting_user, source="page")
        return f"{service.name} has been archived. It no longer appears in the register or the mapping."


class ServiceRestoreView(_ServiceActionView):
    http_method_names = ["post"]

    def act(self, service: Service) -> str:
        services.service_restore(service=service, user=self.acting_user, source="page")
        return f"{service.name} has been restored to the register."


class ServiceMarkCheckedView(_ServiceActionView):
    http_method_names = ["post"]

    def act(self, service: Service) -> str:
        services.service_mark_checked(service=service, user=self.acting_user, source="page")
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
        paginator = Paginator(services_with_offers(site=self.site).order_by("name", "pk"), PAGE_SIZE)
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
    returns the updated cell; without JavaScript the same URL is a full page."""

    def _load(self, **kwargs: Any) -> tuple[Service, Grouping]:
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        grouping = groupings_in_order().filter(code=kwargs["grouping_code"]).first()
        if grouping is None:
            raise Http404("No such grouping")
        return service, grouping

    def _render(self, request: HttpRequest, service: Service, grouping: Grouping, **extra: Any) -> HttpResponse:
        offer = next((o for o in service.offers.all() if o.grouping_id == grouping.pk), None)
        context = {
            "site": self.site,
            "can_edit": self.can_edit,
            "service": service,
            "grouping": grouping,
            "offer": offer,
            "cell_url": reverse("mapping:matrix-cell", args=[self.site.slug, service.public_id, grouping.code]),
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
        offer = next((o for o in service.offers.all() if o.grouping_id == grouping.pk), None)
        initial = {"capacity_share": offer.capacity_share, "description": offer.description} if offer else {}
        return self._render(request, service, grouping, form=OfferForm(initial=initial))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can change its mapping.")
        service, grouping = self._load(**kwargs)
        user = self.acting_user
        if "remove" in request.POST:
            services.offer_remove(service=service, grouping=grouping, user=user, source="page")
        else:
            form = OfferForm(request.POST)
            if not form.is_valid():
                return self._render(request, service, grouping, form=form)
            try:
                services.offer_set(
                    service=service,
                    grouping=grouping,
                    user=user,
                    source="page",
                    capacity_share=form.cleaned_data["capacity_share"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as error:
                _add_validation_errors(form, error)
                return self._render(request, service, grouping, form=form)
        service = service_get(site=self.site, public_id=kwargs["public_id"], include_archived=False)
        if request.htmx:  # type: ignore[attr-defined]
            total_share = sum(o.capacity_share for o in service.offers.all())
            return self._render(request, service, grouping, saved=True, total_share=total_share, oob=True)
        messages.success(request, f"The mapping of {service.name} to {grouping.label} has been saved.")
        return redirect(reverse("mapping:matrix", kwargs={"site_slug": self.site.slug}) + f"#row-{service.public_id}")


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
            _add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{organisation.name} has been saved.")
        return redirect("mapping:organisation-list", site_slug=self.site.slug)


class OrganisationCreateView(_OrganisationFormView):
    pass


class OrganisationUpdateView(_OrganisationFormView):
    pass
