from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.views.generic import ListView, TemplateView

from accounts.models import User
from mapping.charts import overview_chart
from mapping.selectors import site_overview

from .models import Site
from .selectors import site_get_for_user, sites_visible_to, user_can_edit_site, user_role_label


class SiteScopedMixin:
    """Resolves the site in the URL through the access selector: another site's data
    is a 404. Views that change data set `edit = True`; people who may only read the
    site get a 403 there."""

    edit = False
    nav = ""
    request: HttpRequest
    site: Site
    can_edit: bool

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.site = site_get_for_user(user=request.user, slug=kwargs["site_slug"])
        self.can_edit = user_can_edit_site(user=request.user, site=self.site)
        if self.edit and not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can change its register.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    @property
    def acting_user(self) -> User:
        """The signed-in person; LoginRequiredMiddleware turns everyone else away."""
        return cast(User, self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(
            site=self.site,
            can_edit=self.can_edit,
            role_label=user_role_label(user=self.request.user, site=self.site),
            nav=self.nav,
        )
        return context


class HomeView(ListView[Site]):
    template_name = "sites/home.html"
    context_object_name = "sites"
    paginate_by = 25

    def get_queryset(self) -> Any:
        return (
            sites_visible_to(user=self.request.user)
            .annotate(
                service_count=Count("services", filter=Q(services__archived_at__isnull=True), distinct=True),
            )
            .order_by("name")
        )


class SiteOverviewView(SiteScopedMixin, TemplateView):
    template_name = "sites/overview.html"
    nav = "overview"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        overview = site_overview(site=self.site)
        context.update(overview=overview, chart=overview_chart(overview))
        return context
