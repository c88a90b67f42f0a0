"""API endpoints for a site's gap analysis: asking for a run and reading its progress
and results, the site's decisions on improvement items and their PDSA steps, the
assumptions and population the analysis uses, and the prevalence figures.

Endpoints parse input, call gaps.services / gaps.selectors (sites.services for the
population) and serialise the result. Runs are carried out by the Celery worker;
the request that asks for one answers at once with the run to poll.
"""

from typing import Any
from uuid import UUID

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import IF_MATCH, etag_header, precondition_responses, with_etag
from sites import services as site_services
from sites.api import SITE_SLUG, CanChangeSiteOrReadOnly, SiteScopedApi, request_user
from sites.selectors import Population, population_get

from . import services
from .models import ImprovementDecision, RunStatus, RunTrigger, SiteAssumptions
from .results import decision_result, failure_in_plain_words, improvement_page, pdsa_result, run_results
from .selectors import assumptions_for_site, improvement_run_get, prevalence_figures, run_get, runs_with_gap_counts
from .serializers import (
    DecisionInputSerializer,
    GapAssumptionsInputSerializer,
    GapAssumptionsSerializer,
    GapRunDetailSerializer,
    GapRunRequestSerializer,
    GapRunSerializer,
    ImprovementDecisionSerializer,
    PdsaEntrySerializer,
    PdsaInputSerializer,
    PopulationByAgeBandSerializer,
    PrevalenceFigureSerializer,
)

RUN_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The run's id.")
IMPROVEMENT_KEY = OpenApiParameter(
    "key",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The improvement item's key, as a run lists it (for example grow:getting-risk-support). "
    "Keys stay the same from run to run.",
)


class CanChangeGapAnalysisOrReadOnly(CanChangeSiteOrReadOnly):
    message = "Only commissioners of this site can run its gap analysis or change its plans and assumptions."


class _GapApi(SiteScopedApi):
    permission_classes = [IsAuthenticated, CanChangeGapAnalysisOrReadOnly]


# Runs


@extend_schema(tags=["gap analysis"], parameters=[SITE_SLUG])
class GapRunListCreateApi(_GapApi):
    """The site's gap analysis runs, newest first. Asking for a run needs a commissioner
    of the site. Reading them first recovers a run left stuck (a worker or server that
    died mid-run): it is sent again, or failed once it has used up its attempts."""

    serializer_class = GapRunSerializer

    @extend_schema(responses=GapRunSerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        services.runs_recover(site=self.get_site())
        page = self.paginate_queryset(runs_with_gap_counts(site=self.get_site()))
        return self.get_paginated_response(
            GapRunSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                GapRunRequestSerializer,
                description="This request made a new run; poll its link for progress and results. If the job "
                "service cannot be reached, `enqueued` is false: the run is kept and starts automatically when "
                "the service is back, and `message` says so. Of simultaneous requests, exactly one gets 202.",
            ),
            200: OpenApiResponse(
                GapRunRequestSerializer,
                description="An analysis of the site is already queued or running: that run is returned, "
                "no second one is made, and `message` says so.",
            ),
        },
        description="Ask for a gap analysis of the site. The answer comes at once; the run is carried out "
        "by a worker. Only one run per site is queued or running at a time.",
    )
    def post(self, request: Request, site_slug: str) -> Response:
        outcome = services.run_request(site=self.get_site(), user=request_user(request), trigger=RunTrigger.API)
        run = outcome.run
        if run.status == RunStatus.SUCCEEDED:  # in the embedded mode: it has gaps to count
            run = runs_with_gap_counts(site=self.get_site()).get(pk=run.pk)
        body = GapRunRequestSerializer(
            {"run": run, "enqueued": outcome.enqueued, "message": outcome.message},
            context=self.get_serializer_context(),
        ).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if outcome.created else status.HTTP_200_OK,
            headers={"Location": body["run"]["links"]["run"]},
        )


@extend_schema(tags=["gap analysis"], parameters=[SITE_SLUG, RUN_ID])
class GapRunDetailApi(_GapApi):
    """One run: its progress while it is queued or running; once it has succeeded, the
    same structure as the run's page: a `summary` (the first improvements in the site's
    order and the gaps by THRIVE grouping), then the details: every improvement with the
    site's decision, every gap, the comparison with the site's previous run and what the
    run used. Results never change after the run; decisions are the site's current ones."""

    serializer_class = GapRunDetailSerializer

    @extend_schema(responses=GapRunDetailSerializer)
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        services.runs_recover(site=self.get_site())
        run = run_get(site=self.get_site(), public_id=public_id)
        context = {
            **self.get_serializer_context(),
            "results": run_results(run=run) if run.status == RunStatus.SUCCEEDED else None,
            "failure": failure_in_plain_words(run),
        }
        return Response(GapRunDetailSerializer(run, context=context).data)


# Improvement items: the site's decisions, kept across runs by the item's key


@extend_schema(tags=["improvements"], parameters=[SITE_SLUG, IMPROVEMENT_KEY])
class ImprovementDecisionApi(_GapApi):
    """The site's decision on an improvement item: accepted or dismissed (with a
    reason), who owns it, when it is due, where the site placed it in the list, and
    its PDSA steps. Kept by the item's key, so it shows on every later run that
    suggests the same improvement. Changing it needs a commissioner of the site and
    the ETag last read, in If-Match ("0" while nobody has decided)."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.request.method == "PATCH":
            return DecisionInputSerializer
        return ImprovementDecisionSerializer

    def represent(self, obj: ImprovementDecision) -> dict[str, Any]:
        return ImprovementDecisionSerializer(decision_result(obj, key=obj.key)).data

    @extend_schema(responses=ImprovementDecisionSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, key: str) -> Response:
        decision = improvement_page(site=self.get_site(), key=key).item.decision
        return with_etag(Response(ImprovementDecisionSerializer(decision).data), decision.version)

    @extend_schema(
        request=DecisionInputSerializer,
        responses={
            200: ImprovementDecisionSerializer,
            **precondition_responses("ImprovementDecision", ImprovementDecisionSerializer()),
        },
        parameters=[IF_MATCH, etag_header(200, 412)],
        description="Change the decision. Only the fields sent change; null clears the owner, the due date "
        "or the position. Dismissing needs a reason. A reason sent on its own applies to the current status.",
    )
    def patch(self, request: Request, site_slug: str, key: str) -> Response:
        improvement_run_get(site=self.get_site(), key=key)
        expected = self.expected_version()
        serializer = DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.decision_update(
            site=self.get_site(),
            key=key,
            user=request_user(request),
            source="api",
            changes=serializer.validated_data,
            expected_version=expected,
        )
        return with_etag(Response(self.represent(decision)), decision.version)


@extend_schema(tags=["improvements"], parameters=[SITE_SLUG, IMPROVEMENT_KEY])
class ImprovementPdsaApi(_GapApi):
    """Plan-do-study-act steps recorded against an improvement item. Recording one
    needs a commissioner of the site. Steps are only added, never changed, so they
    need no If-Match."""

    serializer_class = PdsaInputSerializer

    @extend_schema(request=PdsaInputSerializer, responses={201: PdsaEntrySerializer})
    def post(self, request: Request, site_slug: str, key: str) -> Response:
        improvement_run_get(site=self.get_site(), key=key)
        serializer = PdsaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.pdsa_record(
            site=self.get_site(),
            key=key,
            user=request_user(request),
            source="api",
            stage=data["stage"],
            note=data["note"],
            recorded_on=data.get("recorded_on") or timezone.localdate(),
        )
        return Response(PdsaEntrySerializer(pdsa_result(entry)).data, status=status.HTTP_201_CREATED)


# What the analysis uses


@extend_schema(tags=["gap analysis inputs"], parameters=[SITE_SLUG])
class GapAssumptionsApi(_GapApi):
    """The site's local assumptions: how need divides across the groupings, the
    access targets and the principle weights. The project's defaults (version 0)
    until the site sets its own; a change is used from the next run. Changing them
    needs a commissioner of the site and the ETag last read, in If-Match."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.request.method == "PUT":
            return GapAssumptionsInputSerializer
        return GapAssumptionsSerializer

    def represent(self, obj: SiteAssumptions) -> dict[str, Any]:
        return GapAssumptionsSerializer(obj).data

    @extend_schema(responses=GapAssumptionsSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str) -> Response:
        assumptions = assumptions_for_site(site=self.get_site())
        return with_etag(Response(self.represent(assumptions)), assumptions.version)

    @extend_schema(
        request=GapAssumptionsInputSerializer,
        responses={
            200: GapAssumptionsSerializer,
            **precondition_responses("GapAssumptions", GapAssumptionsSerializer()),
        },
        parameters=[IF_MATCH, etag_header(200, 412)],
        description="Replace the assumptions. The four shares of need must add up to 100.",
    )
    def put(self, request: Request, site_slug: str) -> Response:
        expected = self.expected_version()
        serializer = GapAssumptionsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assumptions = services.assumptions_update(
            site=self.get_site(),
            user=request_user(request),
            source="api",
            data=serializer.validated_data,
            expected_version=expected,
        )
        return with_etag(Response(self.represent(assumptions)), assumptions.version)


@extend_schema(tags=["gap analysis inputs"], parameters=[SITE_SLUG])
class PopulationApi(_GapApi):
    """Children and young people living in the site by age band, which with the
    prevalence figures gives the estimated need. The five bands are one resource:
    changing it sets all five at once, and needs a commissioner of the site and the
    ETag last read, in If-Match ("0" while no band is set)."""

    serializer_class = PopulationByAgeBandSerializer

    def represent(self, obj: Population) -> dict[str, Any]:
        return PopulationByAgeBandSerializer({**obj.people, "version": obj.version}).data

    @extend_schema(responses=PopulationByAgeBandSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str) -> Response:
        population = population_get(site=self.get_site())
        return with_etag(Response(self.represent(population)), population.version)

    @extend_schema(
        request=PopulationByAgeBandSerializer,
        responses={
            200: PopulationByAgeBandSerializer,
            **precondition_responses("Population", PopulationByAgeBandSerializer()),
        },
        parameters=[IF_MATCH, etag_header(200, 412)],
    )
    def put(self, request: Request, site_slug: str) -> Response:
        expected = self.expected_version()
        serializer = PopulationByAgeBandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        population = site_services.population_set(
            site=self.get_site(),
            user=request_user(request),
            source="api",
            people=serializer.validated_data,
            expected_version=expected,
        )
        return with_etag(Response(self.represent(population)), population.version)


@extend_schema(tags=["reference data"])
class PrevalenceListApi(APIView):
    """Share of children and young people with a probable mental disorder by age band,
    with the survey wave, measure and caveat behind each figure. Staff edit them."""

    @extend_schema(responses=PrevalenceFigureSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PrevalenceFigureSerializer(prevalence_figures(), many=True).data)
