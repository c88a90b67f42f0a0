"""API endpoints for sites, and the base every site-scoped endpoint builds on.

Every object under /api/sites/<site_slug>/ is reached through the access selector:
a site the user may not see is a 404, and writes need a commissioner of the site.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import if_match_version, stale_response
from core.versioning import StaleSave

from .models import Site
from .selectors import site_get_for_user, sites_visible_to, user_can_edit_site
from .serializers import SiteSerializer

SITE_SLUG = OpenApiParameter(
    "site_slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The site's slug, as listed by /api/sites/ (for example northbridge).",
)


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user. IsAuthenticated has already turned anonymous requests away;
    this only narrows the type for the selectors and services."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


class CanChangeSiteOrReadOnly(BasePermission):
    """Anyone who can see the site may read it; only its commissioners may write.

    The site is resolved first, so someone who cannot see it gets a 404, never a 403
    that would confirm it exists."""

    message = "Only commissioners of this site can change its register."

    def has_permission(self, request: Request, view: APIView) -> bool:
        assert isinstance(view, SiteScopedApi)
        site = view.get_site()
        return request.method in SAFE_METHODS or user_can_edit_site(user=request_user(request), site=site)


class EndpointMetadata(SimpleMetadata):
    """What OPTIONS answers: the endpoint's name, description and formats. DRF would
    also describe the fields of each write by looking the object up through
    get_queryset(), which these endpoints do not use (they go through the access
    selector); the fields are in the schema at /api/schema/."""

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        return {}


class SiteScopedApi(GenericAPIView[Any]):
    """Base for endpoints under /api/sites/<site_slug>/.

    Handlers name the serializers they read and write with; serializer_class and
    get_serializer_class only feed the browsable API's forms."""

    permission_classes = [IsAuthenticated, CanChangeSiteOrReadOnly]
    metadata_class = EndpointMetadata
    # Only the service list filters; it names its backend itself.
    filter_backends = []
    _site: Site | None = None

    def get_site(self) -> Site:
        if self._site is None:
            self._site = site_get_for_user(user=request_user(self.request), slug=self.kwargs["site_slug"])
        return self._site

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "site": self.get_site()}

    def expected_version(self, *, fallback: int | None = None) -> int:
        """The version the client read, from If-Match (core.api); 428 without it."""
        return if_match_version(self.request, fallback=fallback)

    def represent(self, obj: Any) -> dict[str, Any] | None:
        """The resource as a GET shows it: the `current` of a 412. Endpoints that
        change a versioned resource say how."""
        raise NotImplementedError(f"{type(self).__name__} changes a versioned resource but cannot show it")

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StaleSave):
            return stale_response(exc, self.represent(exc.current) if exc.current is not None else None)
        return super().handle_exception(exc)


@extend_schema(tags=["sites"])
class SiteListApi(GenericAPIView[Site]):
    """The sites the signed-in user may see."""

    serializer_class = SiteSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Site]:
        return sites_visible_to(user=request_user(self.request)).prefetch_related("population").order_by("name")

    @extend_schema(responses=SiteSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SiteSerializer(page, many=True).data)


@extend_schema(tags=["sites"], parameters=[SITE_SLUG])
class SiteDetailApi(SiteScopedApi):
    """One site the signed-in user may see, with its population by age band."""

    serializer_class = SiteSerializer

    @extend_schema(responses=SiteSerializer)
    def get(self, request: Request, site_slug: str) -> Response:
        return Response(SiteSerializer(self.get_site()).data)
