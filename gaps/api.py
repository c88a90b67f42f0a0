"""API endpoints for a site's gap analysis: asking for a run and reading its progress
and results, the site's decisions on improvement items and their PDSA steps, the
assumptions and population the analysis uses, and the prevalence figures.

Endpoints parse input, call gaps.services / gaps.selectors (sites.services for the
population) and serialise the result. Runs are carried out by the Celery worker;
the request that asks for one answers at once with the run to poll.
"""

from typing import Any
from uuid import UUID

from django.db.models import Count, Q, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sites import services as site_services
from sites.api import SITE_SLUG, CanChangeSiteOrReadOnly, SiteScopedApi, request_user

from . import services
from .models import AnalysisRun, Improvement, ImprovementDecision, RunStatus, RunTrigger
from .selectors import (
    assumptions_for_site,
    improvements_with_decisions,
    population_for_site,
    prevalence_figures,
    run_comparison,
    run_get,
    runs_for_site,
)
from .serializers import (
    DecisionInputSerializer,
    GapAssumptionsSerializer,
    GapRunDetailSerializer,
    GapRunRequestSerializer,
    GapRunSerializer,
    ImprovementDecisionSerializer,
    PdsaEntrySerializer,
    PdsaInputSerializer,
    PopulationByAgeBandSerializer,
    PrevalenceFigureSerializer,
    RunResults,
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
    of the site."""

    serializer_class = GapRunSerializer

    @extend_schema(responses=GapRunSerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        runs = runs_for_site(site=self.get_site()).annotate(gap_count=Count("gaps", filter=Q(gaps__data_quality=False)))
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(
            GapRunSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                GapRunRequestSerializer,
                description="A new run is queued; poll its link for progress and results. If the job service "
                "cannot be reached, `enqueued` is false: the run is kept and starts automatically when the "
                "service is back, and `message` says so.",
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
        asked_at = timezone.now()
        outcome = services.run_request(site=self.get_site(), user=request_user(request), trigger=RunTrigger.API)
        body = GapRunRequestSerializer(
            {"run": outcome.run, "enqueued": outcome.enqueued, "message": outcome.message},
            context=self.get_serializer_context(),
        ).data
        # run_request hands back the run already in progress rather than a second one;
        # only a run created after the request arrived is new.
        is_new = outcome.run.created_at >= asked_at
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if is_new else status.HTTP_200_OK,
            headers={"Location": body["run"]["links"]["run"]},
        )


@extend_schema(tags=["gap analysis"], parameters=[SITE_SLUG, RUN_ID])
class GapRunDetailApi(_GapApi):
    """One run: its progress while it is queued or running; once it has succeeded,
    everything it used and found, with the site's decisions and the comparison with
    the site's previous run. Results never change after the run."""

    serializer_class = GapRunDetailSerializer

    @extend_schema(responses=GapRunDetailSerializer)
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        run = run_get(site=self.get_site(), public_id=public_id)
        context = {**self.get_serializer_context(), "results": _results(run)}
        return Response(GapRunDetailSerializer(run, context=context).data)


def _results(run: AnalysisRun) -> RunResults | None:
    if run.status != RunStatus.SUCCEEDED:
        return None
    improvements = improvements_with_decisions(run=run)
    decisions = [item.decision for item in improvements if item.decision is not None]  # type: ignore[attr-defined]
    # One query for the people behind all decisions and PDSA steps, not one per row.
    prefetch_related_objects(decisions, "updated_by", "pdsa_entries__recorded_by")
    return RunResults(gaps=list(run.gaps.all()), improvements=improvements, comparison=run_comparison(run=run))


# Improvement items: the site's decisions, kept across runs by the item's key


class _ImprovementApi(_GapApi):
    def get_improvement(self, key: str) -> Improvement:
        """The item as the site's latest succeeded run that has it lists it, with the
        site's decision attached; 404 if no run of the site ever suggested it."""
        run = (
            runs_for_site(site=self.get_site())
            .filter(status=RunStatus.SUCCEEDED, improvements__key=key, improvements__data_quality=False)
            .first()
        )
        if run is None:
            raise Http404("No such improvement")
        return next(item for item in improvements_with_decisions(run=run) if item.key == key)


@extend_schema(tags=["improvements"], parameters=[SITE_SLUG, IMPROVEMENT_KEY])
class ImprovementDecisionApi(_ImprovementApi):
    """The site's decision on an improvement item: accepted or dismissed (with a
    reason), who owns it, when it is due, where the site placed it in the list, and
    its PDSA steps. Kept by the item's key, so it shows on every later run that
    suggests the same improvement. Changing it needs a commissioner of the site."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.request.method == "PATCH":
            return DecisionInputSerializer
        return ImprovementDecisionSerializer

    @extend_schema(responses=ImprovementDecisionSerializer)
    def get(self, request: Request, site_slug: str, key: str) -> Response:
        item = self.get_improvement(key)
        decision = item.decision or ImprovementDecision(key=key)  # type: ignore[attr-defined]
        return Response(ImprovementDecisionSerializer(decision).data)

    @extend_schema(
        request=DecisionInputSerializer,
        responses=ImprovementDecisionSerializer,
        description="Change the decision. Only the fields sent change; null clears the owner, the due date "
        "or the position. Dismissing needs a reason. A reason sent on its own applies to the current status.",
    )
    def patch(self, request: Request, site_slug: str, key: str) -> Response:
        item = self.get_improvement(key)
        serializer = DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        current = item.decision  # type: ignore[attr-defined]
        decision_status = data.get("status")
        if decision_status is None and "dismiss_reason" in data:
            decision_status = current.status if current is not None else None
        decision = services.decision_update(
            site=self.get_site(),
            key=key,
            user=request_user(request),
            status=decision_status,
            dismiss_reason=data.get("dismiss_reason"),
            owner=(data["owner"] or "") if "owner" in data else None,
            due_on=data.get("due_on"),
            clear_due_on="due_on" in data and data["due_on"] is None,
            manual_rank=data.get("manual_rank"),
            clear_rank="manual_rank" in data and data["manual_rank"] is None,
        )
        return Response(ImprovementDecisionSerializer(decision).data)


@extend_schema(tags=["improvements"], parameters=[SITE_SLUG, IMPROVEMENT_KEY])
class ImprovementPdsaApi(_ImprovementApi):
    """Plan-do-study-act steps recorded against an improvement item. Recording one
    needs a commissioner of the site."""

    serializer_class = PdsaInputSerializer

    @extend_schema(request=PdsaInputSerializer, responses={201: PdsaEntrySerializer})
    def post(self, request: Request, site_slug: str, key: str) -> Response:
        self.get_improvement(key)
        serializer = PdsaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.pdsa_record(
            site=self.get_site(),
            key=key,
            user=request_user(request),
            stage=data["stage"],
            note=data["note"],
            recorded_on=data.get("recorded_on") or timezone.localdate(),
        )
        return Response(PdsaEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


# What the analysis uses


@extend_schema(tags=["gap analysis inputs"], parameters=[SITE_SLUG])
class GapAssumptionsApi(_GapApi):
    """The site's local assumptions: how need divides across the groupings, the
    maximum wait target and the principle weights. The project's defaults until the
    site sets its own; a change is used from the next run. Changing them needs a
    commissioner of the site."""

    serializer_class = GapAssumptionsSerializer

    @extend_schema(responses=GapAssumptionsSerializer)
    def get(self, request: Request, site_slug: str) -> Response:
        return Response(GapAssumptionsSerializer(assumptions_for_site(site=self.get_site())).data)

    @extend_schema(
        request=GapAssumptionsSerializer,
        responses=GapAssumptionsSerializer,
        description="Replace the assumptions. The four shares of need must add up to 100.",
    )
    def put(self, request: Request, site_slug: str) -> Response:
        serializer = GapAssumptionsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assumptions = services.assumptions_update(
            site=self.get_site(), user=request_user(request), data=dict(serializer.validated_data)
        )
        return Response(GapAssumptionsSerializer(assumptions).data)


@extend_schema(tags=["gap analysis inputs"], parameters=[SITE_SLUG])
class PopulationApi(_GapApi):
    """Children and young people living in the site by age band, which with the
    prevalence figures gives the estimated need. Changing it needs a commissioner of
    the site; all five bands are set at once."""

    serializer_class = PopulationByAgeBandSerializer

    @extend_schema(responses=PopulationByAgeBandSerializer)
    def get(self, request: Request, site_slug: str) -> Response:
        return Response(PopulationByAgeBandSerializer(population_for_site(site=self.get_site())).data)

    @extend_schema(request=PopulationByAgeBandSerializer, responses=PopulationByAgeBandSerializer)
    def put(self, request: Request, site_slug: str) -> Response:
        serializer = PopulationByAgeBandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        people = site_services.population_set(
            site=self.get_site(), user=request_user(request), people=serializer.validated_data
        )
        return Response(PopulationByAgeBandSerializer(people).data)


@extend_schema(tags=["reference data"])
class PrevalenceListApi(APIView):
    """Share of children and young people with a probable mental disorder by age band,
    with the survey wave, measure and caveat behind each figure. Staff edit them."""

    @extend_schema(responses=PrevalenceFigureSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PrevalenceFigureSerializer(prevalence_figures(), many=True).data)
