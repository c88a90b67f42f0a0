"""The site's activity feed in the API: the same entries as the Activity page, read-only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from sites.api import SITE_SLUG, SiteScopedApi

from .forms import ActivityFilterForm
from .selectors import PER_PAGE, people_in_activity, site_activity
from .serializers import EntrySerializer


class ActivityPagination(PageNumberPagination):
    page_size = PER_PAGE


@extend_schema(
    tags=["activity"],
    parameters=[
        SITE_SLUG,
        OpenApiParameter("kind", OpenApiTypes.STR, description="Only changes to this kind of record."),
        OpenApiParameter("person", OpenApiTypes.STR, description="Only changes made by the person with this username."),
    ],
)
class ActivityApi(SiteScopedApi):
    """Every recorded change to the site's records, newest first: who made it, when,
    how (through the website, the API, an import...) and each changed field before and
    after, in the words the pages use. Anyone who can read the site can read it."""

    serializer_class = EntrySerializer
    pagination_class = ActivityPagination

    @extend_schema(responses=EntrySerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        site = self.get_site()
        form = ActivityFilterForm(request.query_params, people=people_in_activity(site=site))
        if not form.is_valid():
            errors = {name: [str(error) for error in messages] for name, messages in form.errors.items()}
            raise serializers.ValidationError(errors)
        activity = site_activity(site=site, kinds=form.chosen_kinds, person=form.chosen_person)
        page = self.paginate_queryset(activity)  # type: ignore[arg-type]
        return self.get_paginated_response(EntrySerializer(page, many=True).data)
