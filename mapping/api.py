"""API endpoints for a site's register (organisations, services) and its THRIVE
mapping (offers), plus the reference lists clients need to know valid codes.

Endpoints parse input, call one selector or service, and serialise the result.
Every write goes through services.py with source="api" and the requesting user,
so a record's history shows who changed it and that it came through the API.
"""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import (
    IF_MATCH,
    PreconditionRequired,
    etag_header,
    if_match_version,
    precondition_responses,
    with_etag,
)
from sites.api import SITE_SLUG, SiteScopedApi, request_user

from . import services
from .filters import ServiceFilter
from .models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Service
from .selectors import (
    areas_for_site,
    delivery_settings_in_order,
    groupings_in_order,
    organisation_get,
    organisations_for_site,
    referral_routes_in_order,
    service_get,
    services_for_site,
)
from .serializers import (
    AreaSerializer,
    DeliverySettingSerializer,
    GroupingSerializer,
    OfferInputSerializer,
    OfferSerializer,
    OrganisationInputSerializer,
    OrganisationSerializer,
    ReferralRouteSerializer,
    ServiceInputSerializer,
    ServiceSerializer,
)

PUBLIC_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The record's id.")
SERVICE_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The service's id.")
GROUPING_CODE = OpenApiParameter(
    "grouping_code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="A THRIVE grouping's code, as listed by /api/groupings/ (for example getting-help).",
)
WRITE_METHODS = ("POST", "PUT", "PATCH")
# ServiceFilter's method filters carry no type the schema generator can read.
FILTER_TYPES = [
    OpenApiParameter("age", OpenApiTypes.INT, description="Only services that serve children of this age (0 to 25)."),
    OpenApiParameter(
        "mapped",
        OpenApiTypes.BOOL,
        description="Only services mapped to at least one grouping (or, if false, only those mapped to none).",
    ),
    OpenApiParameter(
        "stale",
        OpenApiTypes.BOOL,
        description="Only services not checked for a year (or, if false, only those checked).",
    ),
    OpenApiParameter(
        "archived",
        OpenApiTypes.BOOL,
        description="Only archived services (true) or only services in the register (false, as when left out).",
    ),
    OpenApiParameter(
        "include_archived",
        OpenApiTypes.BOOL,
        description="Services in the register and archived ones together (archived services are left out otherwise).",
    ),
]
INVALID_FILTER = OpenApiResponse(
    description="A filter's value is not one of its choices: the body names the filter, as {filter: [message]}."
)


# Reference data: the same for every site, read by any signed-in user.


@extend_schema(tags=["reference data"])
class GroupingListApi(GenericAPIView[Grouping]):
    """The five THRIVE needs-based groupings, in THRIVE order."""

    serializer_class = GroupingSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Grouping]:
        return groupings_in_order()

    @extend_schema(responses=GroupingSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(GroupingSerializer(self.get_queryset(), many=True).data)


@extend_schema(tags=["reference data"])
class DeliverySettingListApi(GenericAPIView[DeliverySetting]):
    """Where services can be delivered: valid codes for a service's delivery_settings."""

    serializer_class = DeliverySettingSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[DeliverySetting]:
        return delivery_settings_in_order()

    @extend_schema(responses=DeliverySettingSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(DeliverySettingSerializer(self.get_queryset(), many=True).data)


@extend_schema(tags=["reference data"])
class ReferralRouteListApi(GenericAPIView[ReferralRoute]):
    """How children and families reach services: valid codes for a service's referral_routes."""

    serializer_class = ReferralRouteSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ReferralRoute]:
        return referral_routes_in_order()

    @extend_schema(responses=ReferralRouteSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ReferralRouteSerializer(self.get_queryset(), many=True).data)


@extend_schema(tags=["reference data"], parameters=[SITE_SLUG])
class AreaListApi(SiteScopedApi):
    """The site's areas: valid names for a service's areas."""

    serializer_class = AreaSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Area]:
        return areas_for_site(site=self.get_site())

    @extend_schema(responses=AreaSerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        return Response(AreaSerializer(self.get_queryset(), many=True).data)


# Organisations


class _OrganisationApi(SiteScopedApi):
    def get_serializer_class(self) -> type[serializers.BaseSerializer[Organisation]]:
        if self.request.method in WRITE_METHODS:
            return OrganisationInputSerializer
        return OrganisationSerializer


@extend_schema(tags=["organisations"], parameters=[SITE_SLUG])
class OrganisationListCreateApi(_OrganisationApi):
    """The providers in the site's register. Adding one needs a commissioner of the site."""

    def get_queryset(self) -> QuerySet[Organisation]:
        return organisations_for_site(site=self.get_site())

    @extend_schema(responses=OrganisationSerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OrganisationSerializer(page, many=True).data)

    @extend_schema(request=OrganisationInputSerializer, responses={201: OrganisationSerializer})
    def post(self, request: Request, site_slug: str) -> Response:
        serializer = OrganisationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation = services.organisation_create(
            site=self.get_site(), user=request_user(request), source="api", **serializer.validated_data
        )
        return Response(OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisations"], parameters=[SITE_SLUG, PUBLIC_ID])
class OrganisationDetailApi(_OrganisationApi):
    """One provider in the site's register. Changing it needs a commissioner of the site
    and the ETag last read, in If-Match."""

    def represent(self, obj: Organisation) -> dict[str, Any]:
        return OrganisationSerializer(obj).data

    @extend_schema(responses=OrganisationSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        organisation = organisation_get(site=self.get_site(), public_id=public_id)
        return with_etag(Response(self.represent(organisation)), organisation.version)

    @extend_schema(
        request=OrganisationInputSerializer,
        responses={200: OrganisationSerializer, **precondition_responses("Organisation", OrganisationSerializer())},
        parameters=[IF_MATCH, etag_header(200, 412)],
    )
    def put(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        return self._update(request, public_id, partial=False)

    @extend_schema(
        request=OrganisationInputSerializer,
        responses={200: OrganisationSerializer, **precondition_responses("Organisation", OrganisationSerializer())},
        parameters=[IF_MATCH, etag_header(200, 412)],
    )
    def patch(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        return self._update(request, public_id, partial=True)

    def _update(self, request: Request, public_id: UUID, *, partial: bool) -> Response:
        organisation = organisation_get(site=self.get_site(), public_id=public_id)
        expected = self.expected_version()
        serializer = OrganisationInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        organisation = services.organisation_update(
            organisation=organisation,
            user=request_user(request),
            source="api",
            data=serializer.validated_data,
            expected_version=expected,
        )
        return with_etag(Response(self.represent(organisation)), organisation.version)


# Services


class _ServiceApi(SiteScopedApi):
    def get_serializer_class(self) -> type[serializers.BaseSerializer[Service]]:
        if self.request.method in WRITE_METHODS:
            return ServiceInputSerializer
        return ServiceSerializer

    def get_service(self, public_id: UUID, *, include_archived: bool = True) -> Service:
        return service_get(site=self.get_site(), public_id=public_id, include_archived=include_archived)

    def represent(self, obj: Service) -> dict[str, Any]:
        return ServiceSerializer(self.get_service(obj.public_id)).data


@extend_schema(tags=["services"], parameters=[SITE_SLUG])
class ServiceListCreateApi(_ServiceApi):
    """The site's services, filtered and sorted like the register page (archived
    services only on request). Registering one needs a commissioner of the site."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = ServiceFilter
    # Lets the schema generator find the model behind ServiceFilter's query parameters
    # without a request; requests read services through get_queryset().
    queryset = Service.objects.none()

    def get_queryset(self) -> QuerySet[Service]:
        # ServiceFilter leaves archived services out unless asked for them.
        return services_for_site(site=self.get_site(), include_archived=True)

    @extend_schema(parameters=FILTER_TYPES, responses={200: ServiceSerializer(many=True), 400: INVALID_FILTER})
    def get(self, request: Request, site_slug: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ServiceSerializer(page, many=True).data)

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceSerializer}, parameters=[etag_header(201)])
    def post(self, request: Request, site_slug: str) -> Response:
        site = self.get_site()
        serializer = ServiceInputSerializer(data=request.data, context={"site": site})
        serializer.is_valid(raise_exception=True)
        service = services.service_create(
            site=site, user=request_user(request), source="api", data=serializer.validated_data
        )
        return with_etag(Response(self.represent(service), status=status.HTTP_201_CREATED), service.version)


SERVICE_CHANGED = {200: ServiceSerializer, **precondition_responses("Service", ServiceSerializer())}
CHANGE_PARAMETERS = [IF_MATCH, etag_header(200, 412)]


@extend_schema(tags=["services"], parameters=[SITE_SLUG, SERVICE_ID])
class ServiceDetailApi(_ServiceApi):
    """One service, archived or not. Changing it needs a commissioner of the site and
    the ETag last read, in If-Match. Deleting a service archives it: it leaves the
    register and the mapping but keeps its history, and can be restored."""

    @extend_schema(responses=ServiceSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        service = self.get_service(public_id)
        return with_etag(Response(ServiceSerializer(service).data), service.version)

    @extend_schema(
        request=ServiceInputSerializer, responses=SERVICE_CHANGED, parameters=[IF_MATCH, etag_header(200, 412)]
    )
    def put(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        return self._update(request, public_id, partial=False)

    @extend_schema(
        request=ServiceInputSerializer, responses=SERVICE_CHANGED, parameters=[IF_MATCH, etag_header(200, 412)]
    )
    def patch(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        return self._update(request, public_id, partial=True)

    @extend_schema(
        responses={204: None, **precondition_responses("Service", ServiceSerializer())},
        parameters=[IF_MATCH, etag_header(204, 412)],
        description="Archive the service (archiving an archived service changes nothing).",
    )
    def delete(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        service = self.get_service(public_id)
        service = services.service_archive(
            service=service, user=request_user(request), source="api", expected_version=self.expected_version()
        )
        return with_etag(Response(status=status.HTTP_204_NO_CONTENT), service.version)

    def _update(self, request: Request, public_id: UUID, *, partial: bool) -> Response:
        service = self.get_service(public_id)
        expected = self.expected_version()
        serializer = ServiceInputSerializer(data=request.data, partial=partial, context={"site": self.get_site()})
        serializer.is_valid(raise_exception=True)
        service = services.service_update(
            service=service,
            user=request_user(request),
            source="api",
            data=serializer.validated_data,
            expected_version=expected,
        )
        return with_etag(Response(self.represent(service)), service.version)


@extend_schema(tags=["services"], parameters=[SITE_SLUG, SERVICE_ID])
class ServiceRestoreApi(_ServiceApi):
    """Bring an archived service back to the register and the mapping, with the offers
    it had. Needs a commissioner of the site and the service's ETag in If-Match."""

    @extend_schema(
        request=None,
        responses=SERVICE_CHANGED,
        parameters=[IF_MATCH, etag_header(200, 412)],
        description="Restore the service (restoring a service in the register changes nothing).",
    )
    def post(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        service = self.get_service(public_id)
        service = services.service_restore(
            service=service, user=request_user(request), source="api", expected_version=self.expected_version()
        )
        return with_etag(Response(self.represent(service)), service.version)


# Offers: a service's mapping to the THRIVE groupings. As on the mapping page, an
# archived service has left the mapping, so its offers are not reachable here.


class _OfferApi(_ServiceApi):
    pagination_class = None

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.request.method in WRITE_METHODS:
            return OfferInputSerializer
        return OfferSerializer

    def get_current_service(self, public_id: UUID) -> Service:
        return self.get_service(public_id, include_archived=False)

    def represent(self, obj: Offer) -> dict[str, Any]:  # type: ignore[override]
        return OfferSerializer(obj).data


@extend_schema(tags=["offers"], parameters=[SITE_SLUG, SERVICE_ID])
class OfferListApi(_OfferApi):
    """The service's offers in the THRIVE groupings, in THRIVE order."""

    def get_queryset(self) -> QuerySet[Offer]:
        return self.get_current_service(self.kwargs["public_id"]).offers.all()

    @extend_schema(responses=OfferSerializer(many=True))
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        return Response(OfferSerializer(self.get_queryset(), many=True).data)


CREATE_OR_CHANGE = (
    "Send If-Match with the ETag you last read to change this offer, or If-None-Match: * to create it only if "
    "there is none yet, so that a change someone else made since is not overwritten."
)
OFFER_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='To change the offer: its ETag as you last read it, for example "3". '
    "No longer current: 412 with the offer as it is now, and nothing changes.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="To create the offer: `*`, so it is made only if the service has no offer in this grouping yet "
    "(if someone made one since you looked: 412 with it). Without If-Match or If-None-Match: 428.",
)


@extend_schema(tags=["offers"], parameters=[SITE_SLUG, SERVICE_ID, GROUPING_CODE])
class OfferDetailApi(_OfferApi):
    """The service's offer in one THRIVE grouping. Changing it needs a commissioner of
    the site; a change sends the offer's ETag in If-Match, a creation If-None-Match: *."""

    @extend_schema(responses=OfferSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID, grouping_code: str) -> Response:
        service = self.get_current_service(public_id)
        offer = _offer_in(service, _grouping(grouping_code))
        if offer is None:
            raise Http404("This service has no offer in this grouping")
        return with_etag(Response(self.represent(offer)), offer.version)

    @extend_schema(
        request=OfferInputSerializer,
        responses={200: OfferSerializer, 201: OfferSerializer, **precondition_responses("Offer", OfferSerializer())},
        parameters=[OFFER_IF_MATCH, IF_NONE_MATCH, etag_header(200, 201, 412)],
        description="Create the service's offer in this grouping (201, with If-None-Match: *) or replace it "
        "(200, with If-Match). The shares of all the service's offers must add up to 100% or less.",
    )
    def put(self, request: Request, site_slug: str, public_id: UUID, grouping_code: str) -> Response:
        service = self.get_current_service(public_id)
        grouping = _grouping(grouping_code)
        expected = self._expected_offer_version(request)
        serializer = OfferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer, created = services.offer_set(
            service=service,
            grouping=grouping,
            user=request_user(request),
            source="api",
            expected_version=expected,
            **serializer.validated_data,
        )
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return with_etag(Response(self.represent(offer), status=answer), offer.version)

    @extend_schema(
        responses={204: None, **precondition_responses("Offer", OfferSerializer())},
        parameters=[IF_MATCH],
        description='Unmap the service from this grouping. If-Match "0" (there is no offer) changes nothing.',
    )
    def delete(self, request: Request, site_slug: str, public_id: UUID, grouping_code: str) -> Response:
        service = self.get_current_service(public_id)
        grouping = _grouping(grouping_code)
        services.offer_remove(
            service=service,
            grouping=grouping,
            user=request_user(request),
            source="api",
            expected_version=self.expected_version(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _expected_offer_version(self, request: Request) -> int:
        """The offer's version the client read (If-Match), or 0 for "create it only
        if there is none" (If-None-Match: *); 428 with neither."""
        if (request.headers.get("If-Match") or "").strip():
            return if_match_version(request)
        if (request.headers.get("If-None-Match") or "").strip() == "*":
            return 0
        raise PreconditionRequired(CREATE_OR_CHANGE)


def _grouping(code: str) -> Grouping:
    grouping = groupings_in_order().filter(code=code).first()
    if grouping is None:
        raise Http404("No such grouping")
    return grouping


def _offer_in(service: Service, grouping: Grouping) -> Offer | None:
    # service_get prefetched the offers; no query per lookup.
    return next((offer for offer in service.offers.all() if offer.grouping_id == grouping.pk), None)
