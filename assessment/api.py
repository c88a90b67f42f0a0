"""API endpoints for the THRIVE Assessment Tool: the instrument versions, a site's
rounds, their agreed scores and participants' ratings, a round's results and the
comparison of the baseline with each later round.

Endpoints parse input, call one selector or service, and serialise the result; the
rules live in assessment.services. Rounds are reached through the site in the URL,
and items by their code within the round's own version of the tool, so a round of
another site, or an item of another version, is a 404.

Changes follow the API's one scheme (core.api): a round, an agreed score and a
rating send their version as an `ETag` with a GET and with every change; a PATCH,
PUT or DELETE sends it back in `If-Match` (missing: 428), and if someone has changed
the resource since, nothing changes and the answer is a 412 with the resource as it
is now in `current`. Agreed scores also accept the version in the body as `version`,
as they always have: either will do, and if both are sent they must agree (400).
Submitting, reopening and locking a round (POST) check `If-Match` when it is sent.
A new rating is made with POST only: a participant who has already rated the item
gets a 409 with their rating and its URL, to change with PUT or PATCH.

A change the round's state refuses (it is submitted or locked) is a 409 Conflict
with {"detail", "code"}. Other refusals (a round submitted with items not yet
scored, a score off the scale, a value out of its limits) are a 400 naming the field.
"""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api import (
    IF_MATCH,
    etag_header,
    if_match_version,
    precondition_responses,
    stale_response,
    with_etag,
)
from core.versioning import StaleSave
from sites.api import SITE_SLUG, CanChangeSiteOrReadOnly, SiteScopedApi, request_user

from . import services
from .models import AgreedScore, Instrument, Item, Rating, Round
from .results import Change, Mean, RoundResults, ScoredItem
from .selectors import (
    instrument_items,
    instruments_all,
    rating_get,
    ratings_of_round,
    round_get,
    round_items_with_scores,
    round_result,
    rounds_compared,
    rounds_for_site,
)
from .serializers import (
    ITEM_NOT_IN_ROUND,
    AgreedScoreInputSerializer,
    AgreedScoreSerializer,
    AssessmentComparisonSerializer,
    AssessmentConflictSerializer,
    AssessmentRefusalSerializer,
    InstrumentDetailSerializer,
    InstrumentSerializer,
    RatingCreateSerializer,
    RatingExistsSerializer,
    RatingListQuerySerializer,
    RatingSerializer,
    RatingUpdateSerializer,
    RoundCreateSerializer,
    RoundResultsSerializer,
    RoundSerializer,
    RoundUpdateSerializer,
)

VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="An instrument version, as listed by /api/instruments/ (for example draft-2026.1).",
)
ROUND_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The round's id.")
ITEM_CODE = OpenApiParameter(
    "item_code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The code of an item of the round's version of the tool (for example system-common-language).",
)
RATING_ID = OpenApiParameter("rating_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The rating's id.")
CONFLICT = {409: AssessmentConflictSerializer}
FIELD_ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="A value was refused (out of its limits, off the scale, or breaking a rule of the tool): "
        'the messages by field, for example {"notes": ["Notes must be 4,000 characters or fewer"]}. '
        "Nothing changes.",
    )
}
OPTIONAL_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='Optional: the ETag of the round as you last read it, for example "3". If sent and someone has '
    "changed the round since, nothing changes and the answer is a 412 with the round as it is now.",
)
AGREED_SCORE_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag of the agreed score as you last read it, for example "3" ("0" if never saved). '
    "Send it here or as `version` in the body (if both, they must agree: 400); neither: 428. If someone has "
    "saved the item since, nothing changes and the answer is a 412 with their value in `current`.",
)
BOTH_VERSIONS_DISAGREE = (
    "The If-Match header and the version in the body disagree. Send the version you last read in one of them, "
    "or the same in both."
)


def _optional_if_match(request: Request) -> int | None:
    """The version in If-Match, or None when the client did not send one."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return None
    return if_match_version(request)


class RoundConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This round cannot change."
    default_code = "conflict"


class CanScoreSiteOrReadOnly(CanChangeSiteOrReadOnly):
    message = "Only commissioners of this site can run and score its assessment rounds."


# Instruments: the same for every site, read by any signed-in user.


@extend_schema(tags=["assessment instruments"])
class InstrumentListApi(GenericAPIView[Instrument]):
    """The loaded versions of the THRIVE Assessment Tool, newest first: new rounds use the newest."""

    serializer_class = InstrumentSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self) -> QuerySet[Instrument]:
        return instruments_all()

    @extend_schema(responses=InstrumentSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(InstrumentSerializer(self.get_queryset(), many=True).data)


@extend_schema(tags=["assessment instruments"], parameters=[VERSION])
class InstrumentDetailApi(GenericAPIView[Instrument]):
    """One version of the tool with its parts of the system, principles and items."""

    serializer_class = InstrumentDetailSerializer
    filter_backends = []

    @extend_schema(responses=InstrumentDetailSerializer)
    def get(self, request: Request, version: str) -> Response:
        instrument = instruments_all().filter(version=version).first()
        if instrument is None:
            raise Http404("No such version of the tool")
        return Response(InstrumentDetailSerializer(instrument).data)


# Rounds


class _AssessmentApi(SiteScopedApi):
    permission_classes = [IsAuthenticated, CanScoreSiteOrReadOnly]
    # Lists of a round's parts are short and fixed; the rounds and ratings lists page.
    pagination_class: type[BasePagination] | None = None
    _round: Round | None = None

    def get_round(self, public_id: UUID) -> Round:
        if self._round is None:
            self._round = round_get(site=self.get_site(), public_id=public_id)
        return self._round

    def get_round_again(self, public_id: UUID) -> Round:
        """The round read afresh after a change, with its state and progress as saved."""
        self._round = None
        return self.get_round(public_id)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.RoundNotEditable):
            exc = RoundConflict({"detail": exc.messages[0], "code": exc.code or "locked"})
        return super().handle_exception(exc)


@extend_schema(tags=["assessment rounds"], parameters=[SITE_SLUG])
class RoundListCreateApi(_AssessmentApi):
    """The site's rounds: the baseline, then follow-ups. Starting one needs a commissioner
    of the site, and the round in progress (a draft) submitted first."""

    pagination_class = PageNumberPagination

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return RoundCreateSerializer if self.request.method == "POST" else RoundSerializer

    def get_queryset(self) -> QuerySet[Round]:
        return rounds_for_site(site=self.get_site())

    @extend_schema(responses=RoundSerializer(many=True))
    def get(self, request: Request, site_slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RoundSerializer(page, many=True).data)

    @extend_schema(
        request=RoundCreateSerializer, responses={201: RoundSerializer, **FIELD_ERRORS}, parameters=[etag_header(201)]
    )
    def post(self, request: Request, site_slug: str) -> Response:
        site = self.get_site()
        serializer = RoundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        round_ = services.round_create(
            site=site,
            user=request_user(request),
            source="api",
            held_on=data["held_on"],
            notes=data["notes"],
            instrument=data.get("instrument"),
        )
        return with_etag(
            Response(RoundSerializer(self.get_round(round_.public_id)).data, status=status.HTTP_201_CREATED),
            round_.version,
        )


class _OneRoundApi(_AssessmentApi):
    def represent(self, obj: Round) -> dict[str, Any]:
        return RoundSerializer(self.get_round_again(obj.public_id)).data

    def answer(self, public_id: UUID) -> Response:
        """The round as it now is, with its ETag."""
        round_ = self.get_round_again(public_id)
        return with_etag(Response(RoundSerializer(round_).data), round_.version)


@extend_schema(tags=["assessment rounds"], parameters=[SITE_SLUG, ROUND_ID])
class RoundDetailApi(_OneRoundApi):
    """One round with its progress. Its date and notes change only while it is a draft,
    with the ETag last read in If-Match."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return RoundUpdateSerializer if self.request.method == "PATCH" else RoundSerializer

    @extend_schema(responses=RoundSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        round_ = self.get_round(public_id)
        return with_etag(Response(RoundSerializer(round_).data), round_.version)

    @extend_schema(
        request=RoundUpdateSerializer,
        responses={
            200: RoundSerializer,
            **FIELD_ERRORS,
            **CONFLICT,
            **precondition_responses("Round", RoundSerializer()),
        },
        parameters=[IF_MATCH, etag_header(200, 412)],
    )
    def patch(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        round_ = self.get_round(public_id)
        expected = self.expected_version()
        serializer = RoundUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.round_update(
            round_=round_,
            user=request_user(request),
            source="api",
            held_on=data.get("held_on", round_.held_on),
            notes=data.get("notes", round_.notes),
            expected_version=expected,
        )
        return self.answer(public_id)


class _RoundTransitionApi(_OneRoundApi):
    serializer_class = RoundSerializer

    def transition(self, round_: Round, user: User, expected_version: int | None) -> None:
        raise NotImplementedError

    @extend_schema(
        request=None,
        responses={
            200: RoundSerializer,
            400: AssessmentRefusalSerializer,
            **CONFLICT,
            412: precondition_responses("Round", RoundSerializer())[412],
        },
        parameters=[OPTIONAL_IF_MATCH, etag_header(200, 412)],
    )
    def post(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        round_ = self.get_round(public_id)
        self.transition(round_, request_user(request), _optional_if_match(request))
        return self.answer(public_id)


@extend_schema(tags=["assessment rounds"], parameters=[SITE_SLUG, ROUND_ID])
class RoundSubmitApi(_RoundTransitionApi):
    """Submit a draft round. Every item needs an agreed score first: if any has none,
    the answer is a 400 naming them and the round stays a draft. With If-Match, a round
    changed since it was read is not submitted (412)."""

    def transition(self, round_: Round, user: User, expected_version: int | None) -> None:
        services.round_submit(round_=round_, user=user, source="api", expected_version=expected_version)


@extend_schema(tags=["assessment rounds"], parameters=[SITE_SLUG, ROUND_ID])
class RoundReopenApi(_RoundTransitionApi):
    """Return a submitted round to draft to correct it (a draft stays a draft). A locked
    round cannot be reopened (409). With If-Match, a round changed since it was read is
    not reopened (412)."""

    def transition(self, round_: Round, user: User, expected_version: int | None) -> None:
        services.round_reopen(round_=round_, user=user, source="api", expected_version=expected_version)


@extend_schema(tags=["assessment rounds"], parameters=[SITE_SLUG, ROUND_ID])
class RoundLockApi(_RoundTransitionApi):
    """Lock a submitted round for good (a locked round stays locked). A draft must be
    submitted first (400). With If-Match, a round changed since it was read is not
    locked (412)."""

    def transition(self, round_: Round, user: User, expected_version: int | None) -> None:
        services.round_lock(round_=round_, user=user, source="api", expected_version=expected_version)


# Agreed scores


def _agreed_row(item: Item, agreed: AgreedScore | None) -> dict[str, Any]:
    """The agreed score of an item, or its empty state (version 0) if never saved."""
    return {
        "item": item.code,
        "part": item.part.code,
        "principle": item.principle.code,
        "score": agreed.score if agreed else None,
        "evidence_value": agreed.evidence_value if agreed else None,
        "evidence_text": agreed.evidence_text if agreed else "",
        "notes": agreed.notes if agreed else "",
        "version": agreed.version if agreed else 0,
        "updated_by": agreed.updated_by.username if agreed and agreed.updated_by else None,
        "updated_at": agreed.updated_at if agreed else None,
    }


def _item_in(round_: Round, item_code: str) -> Item:
    """The round's item with this code, with its agreed score attached as `.agreed`."""
    item = next((i for i in round_items_with_scores(round_=round_) if i.code == item_code), None)
    if item is None:
        raise Http404("No such item in the version of the tool this round is scored on")
    return item


@extend_schema(tags=["agreed scores"], parameters=[SITE_SLUG, ROUND_ID])
class AgreedScoreListApi(_AssessmentApi):
    """Every item of the round, in the tool's order, with its agreed score (null while
    not yet scored) and the version to send back with a change."""

    serializer_class = AgreedScoreSerializer

    def get_queryset(self) -> QuerySet[Item]:
        # Only the browsable API asks (for filters it could offer): the list is built
        # from round_items_with_scores, which attaches each item's agreed score.
        return instrument_items(instrument=self.get_round(self.kwargs["public_id"]).instrument)

    @extend_schema(responses=AgreedScoreSerializer(many=True))
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        items = round_items_with_scores(round_=self.get_round(public_id))
        rows = [_agreed_row(item, item.agreed) for item in items]  # type: ignore[attr-defined]
        return Response(AgreedScoreSerializer(rows, many=True).data)  # type: ignore[arg-type]


@extend_schema(tags=["agreed scores"], parameters=[SITE_SLUG, ROUND_ID, ITEM_CODE])
class AgreedScoreDetailApi(_AssessmentApi):
    """The agreed score of one item: the score that counts in the round's results."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return AgreedScoreInputSerializer if self.request.method == "PUT" else AgreedScoreSerializer

    @extend_schema(responses=AgreedScoreSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID, item_code: str) -> Response:
        item = _item_in(self.get_round(public_id), item_code)
        row = _agreed_row(item, item.agreed)  # type: ignore[attr-defined]
        return with_etag(Response(AgreedScoreSerializer(row).data), row["version"])

    @extend_schema(
        request=AgreedScoreInputSerializer,
        responses={
            200: AgreedScoreSerializer,
            **FIELD_ERRORS,
            **CONFLICT,
            **precondition_responses("AgreedScore", AgreedScoreSerializer()),
        },
        parameters=[AGREED_SCORE_IF_MATCH, etag_header(200, 412)],
        description="Set the agreed score, evidence and notes of the item, sending the version last read in "
        "If-Match (or as `version` in the body). If someone has saved the item since, nothing changes and the "
        "answer is a 412 with code `stale` and their value in `current`; a submitted or locked round answers "
        "409 with code `submitted` or `locked`.",
    )
    def put(self, request: Request, site_slug: str, public_id: UUID, item_code: str) -> Response:
        round_ = self.get_round(public_id)
        item = _item_in(round_, item_code)
        serializer = AgreedScoreInputSerializer(data=request.data, context={"item": item})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        in_body = data.get("version")
        in_header = _optional_if_match(request)
        if in_header is not None and in_body is not None and in_header != in_body:
            raise serializers.ValidationError({"version": [BOTH_VERSIONS_DISAGREE]})
        expected = self.expected_version(fallback=in_body)
        try:
            agreed = services.agreed_score_save(
                round_=round_,
                item=item,
                user=request_user(request),
                source="api",
                data=services.AgreedScoreInput(
                    score=data["score"],
                    evidence_value=data["evidence_value"],
                    evidence_text=data["evidence_text"],
                    notes=data["notes"],
                ),
                expected_version=expected,
            )
        except StaleSave as stale:
            # An item never saved has a current value too: its empty state, version 0.
            return stale_response(stale, AgreedScoreSerializer(_agreed_row(item, stale.current)).data)
        return with_etag(Response(AgreedScoreSerializer(_agreed_row(item, agreed)).data), agreed.version)


# Ratings


@extend_schema(tags=["ratings"], parameters=[SITE_SLUG, ROUND_ID])
class RatingListCreateApi(_AssessmentApi):
    """Participants' own ratings of the round's items, to show the spread in the room.
    The round's agreed score, not these, is what counts in the results."""

    pagination_class = PageNumberPagination

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return RatingCreateSerializer if self.request.method == "POST" else RatingSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "round": self.get_round(self.kwargs["public_id"])}

    def get_queryset(self) -> QuerySet[Rating]:
        round_ = self.get_round(self.kwargs["public_id"])
        query = RatingListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        code = query.validated_data.get("item")
        if code is not None and not instrument_items(instrument=round_.instrument).filter(code=code).exists():
            raise serializers.ValidationError({"item": [ITEM_NOT_IN_ROUND]})
        return ratings_of_round(round_=round_, item_code=code)

    @extend_schema(parameters=[RatingListQuerySerializer], responses=RatingSerializer(many=True))
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RatingSerializer(page, many=True).data)

    @extend_schema(
        request=RatingCreateSerializer,
        responses={201: RatingSerializer, **FIELD_ERRORS, 409: RatingExistsSerializer},
        parameters=[etag_header(201)],
        description="Record a participant's rating of an item (201, with its URL in Location). A participant "
        "who has already rated the item (names compared ignoring case) is refused with a 409 (code `exists`) "
        "carrying their rating in `current` and its `url`: change it there with PUT or PATCH, sending its ETag "
        "in If-Match. A submitted or locked round answers 409 with code `submitted` or `locked`.",
    )
    def post(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        round_ = self.get_round(public_id)
        serializer = RatingCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            rating = services.rating_create(
                round_=round_,
                item=data["item"],
                user=request_user(request),
                source="api",
                participant=data["participant"],
                score=data["score"],
                notes=data["notes"],
            )
        except services.RatingExists as exists:
            body = {
                "detail": f"{exists.messages[0]} To change their rating, send PUT or PATCH to its url with its "
                "ETag in If-Match.",
                "code": "exists",
                "current": RatingSerializer(exists.current).data,
                "url": self._rating_url(request, exists.current),
            }
            return with_etag(Response(body, status=status.HTTP_409_CONFLICT), exists.current.version)
        response = with_etag(Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED), rating.version)
        response["Location"] = self._rating_url(request, rating)
        return response

    def _rating_url(self, request: Request, rating: Rating) -> str:
        kwargs = {"site_slug": self.get_site().slug, "public_id": rating.round.public_id, "rating_id": rating.public_id}
        url = reverse("api-rating-detail", kwargs=kwargs)
        return request.build_absolute_uri(url)


RATING_CHANGE = {
    200: RatingSerializer,
    **FIELD_ERRORS,
    **CONFLICT,
    **precondition_responses("Rating", RatingSerializer()),
}
RATING_CHANGE_HEADERS = [IF_MATCH, etag_header(200, 412)]


@extend_schema(tags=["ratings"], parameters=[SITE_SLUG, ROUND_ID, RATING_ID])
class RatingDetailApi(_AssessmentApi):
    """One participant's rating of one item. Changing or removing it needs the ETag
    last read, in If-Match."""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return RatingUpdateSerializer if self.request.method in ("PUT", "PATCH") else RatingSerializer

    def represent(self, obj: Rating) -> dict[str, Any]:
        return RatingSerializer(obj).data

    @extend_schema(responses=RatingSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, site_slug: str, public_id: UUID, rating_id: UUID) -> Response:
        rating = rating_get(round_=self.get_round(public_id), public_id=rating_id)
        return with_etag(Response(self.represent(rating)), rating.version)

    @extend_schema(request=RatingUpdateSerializer, responses=RATING_CHANGE, parameters=RATING_CHANGE_HEADERS)
    def put(self, request: Request, site_slug: str, public_id: UUID, rating_id: UUID) -> Response:
        return self._update(request, public_id, rating_id, partial=False)

    @extend_schema(request=RatingUpdateSerializer, responses=RATING_CHANGE, parameters=RATING_CHANGE_HEADERS)
    def patch(self, request: Request, site_slug: str, public_id: UUID, rating_id: UUID) -> Response:
        return self._update(request, public_id, rating_id, partial=True)

    @extend_schema(
        responses={204: None, **CONFLICT, **precondition_responses("Rating", RatingSerializer())},
        parameters=[IF_MATCH, etag_header(412)],
    )
    def delete(self, request: Request, site_slug: str, public_id: UUID, rating_id: UUID) -> Response:
        rating = rating_get(round_=self.get_round(public_id), public_id=rating_id)
        services.rating_delete(
            rating=rating, user=request_user(request), source="api", expected_version=self.expected_version()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: Request, public_id: UUID, rating_id: UUID, *, partial: bool) -> Response:
        rating = rating_get(round_=self.get_round(public_id), public_id=rating_id)
        expected = self.expected_version()
        serializer = RatingUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rating = services.rating_update(
            rating=rating,
            user=request_user(request),
            source="api",
            score=data.get("score", rating.score),
            notes=data.get("notes", rating.notes),
            expected_version=expected,
        )
        return with_etag(Response(self.represent(rating)), rating.version)


# Results


def _mean(mean: Mean) -> dict[str, Any]:
    return {"mean": mean.value, "scored": mean.scored, "total": mean.total, "thrive_like": mean.thrive_like}


def _cell(item: ScoredItem) -> dict[str, Any]:
    return {"principle": item.principle.code, "part": item.part.code, "item": item.code, "score": item.score}


def _results_data(results: RoundResults) -> dict[str, Any]:
    return {
        "threshold": results.threshold,
        "principles": [
            {"code": p.code, "label": p.label, **_mean(results.by_principle[p.code])} for p in results.principles
        ],
        "parts": [{"code": p.code, "label": p.label, **_mean(results.by_part[p.code])} for p in results.parts],
        "overall": _mean(results.overall),
        "heatmap": [_cell(item) for item in results.items],
        "below_threshold": [
            {**_cell(item), "description": item.description, "evidence": item.evidence}
            for item in results.below_threshold
        ],
        "not_scored": [item.code for item in results.not_scored],
    }


@extend_schema(tags=["assessment results"], parameters=[SITE_SLUG, ROUND_ID])
class RoundResultsApi(_AssessmentApi):
    """The round's results from its agreed scores: the mean per principle, per part of the
    system and overall (of the scored items) and whether each is THRIVE-like, the heatmap
    of principles × parts, and the items below the threshold, lowest first."""

    serializer_class = RoundResultsSerializer

    @extend_schema(responses=RoundResultsSerializer)
    def get(self, request: Request, site_slug: str, public_id: UUID) -> Response:
        results = round_result(round_=self.get_round(public_id))
        return Response(RoundResultsSerializer(_results_data(results)).data)


def _round_summary(round_: Round) -> dict[str, Any]:
    return {
        "id": round_.public_id,
        "label": round_.label,
        "held_on": round_.held_on,
        "status": round_.status,
        "instrument": round_.instrument.version,
    }


def _change(change: Change) -> dict[str, Any]:
    return {"before": change.before, "after": change.after, "change": change.delta, "direction": change.direction}


def _unique(axes: list[Any]) -> list[Any]:
    return list(dict.fromkeys(axes))


@extend_schema(tags=["assessment results"], parameters=[SITE_SLUG])
class ComparisonApi(_AssessmentApi):
    """The baseline against each later submitted or locked round: the change per item,
    per principle, per part of the system and overall. Empty until two rounds are
    submitted. Rounds on different versions of the tool compare where they share items
    (same part and principle)."""

    serializer_class = AssessmentComparisonSerializer

    @extend_schema(responses=AssessmentComparisonSerializer)
    def get(self, request: Request, site_slug: str) -> Response:
        compared = rounds_compared(site=self.get_site())
        comparisons = []
        for _, later, comparison in compared:
            after_items = [item for item, _ in comparison.items]
            # compare_rounds lists principles and parts in the order they first appear
            # among the later round's items, which names them by label only; the same
            # walk over its items recovers their codes.
            principles = _unique([item.principle for item in after_items])
            parts = _unique([item.part for item in after_items])
            comparisons.append(
                {
                    "round": _round_summary(later),
                    "items": [
                        {
                            "item": item.code,
                            "principle": item.principle.code,
                            "part": item.part.code,
                            "label": change.label,
                            **_change(change),
                        }
                        for item, change in comparison.items
                    ],
                    "principles": [
                        {"code": axis.code, "label": change.label, **_change(change)}
                        for axis, change in zip(principles, comparison.principles, strict=True)
                    ],
                    "parts": [
                        {"code": axis.code, "label": change.label, **_change(change)}
                        for axis, change in zip(parts, comparison.parts, strict=True)
                    ],
                    "overall": _change(comparison.overall),
                }
            )
        baseline = _round_summary(compared[0][0]) if compared else None
        return Response(AssessmentComparisonSerializer({"baseline": baseline, "comparisons": comparisons}).data)
