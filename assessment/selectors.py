"""Reads for the THRIVE Assessment Tool. Callers pass a site already resolved
through sites.selectors, so everything here is scoped to that site."""

from typing import Any
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from sites.models import Site

from .models import AgreedScore, Instrument, Item, Principle, Rating, Round, RoundStatus
from .principles import FALLBACK_PRINCIPLES
from .results import Axis, Comparison, RoundResults, ScoredItem, compare_rounds, round_results


def instruments_all() -> QuerySet[Instrument]:
    return Instrument.objects.annotate(item_count=Count("items")).order_by("-loaded_at", "-pk")


def instrument_items(*, instrument: Instrument) -> QuerySet[Item]:
    return Item.objects.filter(instrument=instrument).select_related("part", "principle").order_by("order")


def rounds_for_site(*, site: Site) -> QuerySet[Round]:
    return (
        Round.objects.filter(site=site)
        .select_related("instrument", "created_by", "submitted_by", "locked_by")
        .annotate(
            scored=Count("agreed_scores", filter=Q(agreed_scores__score__isnull=False), distinct=True),
            item_total=Count("instrument__items", distinct=True),
        )
        .order_by("sequence")
    )


def round_get(*, site: Site, public_id: UUID | str) -> Round:
    try:
        return rounds_for_site(site=site).get(public_id=public_id)
    except (Round.DoesNotExist, ValueError):
        raise Http404("No such round") from None


def ratings_of_round(*, round_: Round, item_code: str | None = None) -> QuerySet[Rating]:
    """Participants' ratings of the round, in the tool's order, then by participant."""
    ratings = Rating.objects.filter(round=round_).select_related("item", "recorded_by")
    if item_code is not None:
        ratings = ratings.filter(item__code=item_code)
    return ratings.order_by("item__order", "participant")


def rating_get(*, round_: Round, public_id: UUID | str) -> Rating:
    try:
        return ratings_of_round(round_=round_).get(public_id=public_id)
    except (Rating.DoesNotExist, ValueError):
        raise Http404("No such rating in this round") from None


def rating_removal(*, round_: Round, item: Item, public_id: UUID | str) -> Any | None:
    """The history record of the removal of one of the round's ratings of the item
    (who removed it and when), or None if it never was one."""
    return (
        Rating.history.filter(round_id=round_.pk, item_id=item.pk, public_id=public_id, history_type="-")
        .select_related("history_user")
        .order_by("-history_date")
        .first()
    )


def round_items_with_scores(*, round_: Round, part_code: str | None = None) -> list[Item]:
    """The round's items in order, each with `.agreed` (AgreedScore or None) and
    `.round_ratings` (list of Rating) attached, in a fixed number of queries."""
    items = instrument_items(instrument=round_.instrument)
    if part_code is not None:
        items = items.filter(part__code=part_code)
    items = items.prefetch_related(
        Prefetch(
            "agreed_scores",
            queryset=AgreedScore.objects.filter(round=round_).select_related("updated_by"),
            to_attr="round_agreed",
        ),
        Prefetch(
            "ratings", queryset=Rating.objects.filter(round=round_).order_by("participant"), to_attr="round_ratings"
        ),
    )
    result: list[Item] = list(items)
    for item in result:
        item.agreed = item.round_agreed[0] if item.round_agreed else None  # type: ignore[attr-defined]
    return result


def round_progress(*, round_: Round) -> tuple[int, int]:
    scored = AgreedScore.objects.filter(round=round_, score__isnull=False).count()
    total = Item.objects.filter(instrument_id=round_.instrument_id).count()
    return scored, total


def _evidence_text(agreed: AgreedScore | None, item: Item) -> str:
    if agreed is None:
        return ""
    parts = []
    if agreed.evidence_value is not None:
        value = f"{agreed.evidence_value.normalize():f}"
        parts.append(f"{value} {item.evidence_unit}".strip())
    if agreed.evidence_text:
        parts.append(agreed.evidence_text)
    return " – ".join(parts)


def round_result(*, round_: Round) -> RoundResults:
    items = round_items_with_scores(round_=round_)
    parts: dict[str, Axis] = {}
    principles: dict[str, Axis] = {}
    scored = []
    for item in items:
        part = parts.setdefault(item.part.code, Axis(item.part.code, item.part.label))
        principle = principles.setdefault(item.principle.code, Axis(item.principle.code, item.principle.label))
        agreed = item.agreed  # type: ignore[attr-defined]
        scored.append(
            ScoredItem(
                code=item.code,
                part=part,
                principle=principle,
                order=item.order,
                score=agreed.score if agreed else None,
                description=item.description,
                evidence=_evidence_text(agreed, item),
            )
        )
    return round_results(
        items=scored,
        parts=list(parts.values()),
        principles=list(principles.values()),
        threshold=round_.instrument.threshold,
    )


def rounds_compared(*, site: Site) -> list[tuple[Round, Round, Comparison]]:
    """The baseline against each later submitted or locked round."""
    rounds = [r for r in rounds_for_site(site=site) if r.status != RoundStatus.DRAFT]
    if len(rounds) < 2:
        return []
    baseline, *later = rounds
    baseline_result = round_result(round_=baseline)
    return [(baseline, r, compare_rounds(baseline_result, round_result(round_=r))) for r in later]


def principles_current() -> list[tuple[str, str]]:
    """Codes and labels of the THRIVE principles, in order, from the latest loaded
    instrument; the fallback list while none is loaded."""
    instrument = Instrument.objects.order_by("-loaded_at", "-pk").first()
    if instrument is not None:
        loaded = list(instrument.principles.order_by("order").values_list("code", "label"))
        if loaded:
            return loaded
    return list(FALLBACK_PRINCIPLES)


def principle_labels() -> dict[str, str]:
    """Every principle code any loaded instrument has used, with the wording of the
    latest instrument that has it (the fallback labels for codes none has)."""
    labels = dict(FALLBACK_PRINCIPLES)
    # Oldest instrument first, so the latest loaded wording is the one kept.
    labels.update(Principle.objects.order_by("instrument__loaded_at", "instrument_id").values_list("code", "label"))
    return labels
