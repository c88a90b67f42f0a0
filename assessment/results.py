"""Results of assessment rounds, as plain Python over plain data (no ORM here), so
every figure can be checked by hand in a unit test."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Axis:
    code: str
    label: str


@dataclass(frozen=True)
class ScoredItem:
    code: str
    part: Axis
    principle: Axis
    order: int
    score: int | None
    description: str = ""
    evidence: str = ""


@dataclass(frozen=True)
class Mean:
    """`value` is the mean to 2 decimal places, as shown; `exact` the mean itself, from
    which changes between rounds are worked out."""

    value: Decimal | None
    scored: int
    total: int
    thrive_like: bool
    exact: Fraction | None = None


@dataclass
class RoundResults:
    threshold: int
    parts: list[Axis]
    principles: list[Axis]
    items: list[ScoredItem]
    # grid[principle code][part code] -> item
    grid: dict[str, dict[str, ScoredItem]] = field(default_factory=dict)
    by_principle: dict[str, Mean] = field(default_factory=dict)
    by_part: dict[str, Mean] = field(default_factory=dict)
    overall: Mean = field(default_factory=lambda: Mean(None, 0, 0, False))
    below_threshold: list[ScoredItem] = field(default_factory=list)
    not_scored: list[ScoredItem] = field(default_factory=list)

    def rows(self) -> list[dict[str, object]]:
        """Heatmap rows for display: one per principle, cells in part order."""
        return [
            {
                "principle": principle,
                "cells": [self.grid.get(principle.code, {}).get(part.code) for part in self.parts],
                "mean": self.by_principle[principle.code],
            }
            for principle in self.principles
        ]


TWO_PLACES = Decimal("0.01")


def two_places(value: Fraction) -> Decimal:
    """A fraction to 2 decimal places, halves rounded away from zero (2.125 -> 2.13)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _mean(scores: Sequence[int | None], threshold: int) -> Mean:
    scored = [s for s in scores if s is not None]
    if not scored:
        return Mean(None, 0, len(scores), False)
    exact = Fraction(sum(scored), len(scored))
    value = two_places(exact)
    return Mean(value, len(scored), len(scores), value >= threshold, exact)


def round_results(
    *, items: Sequence[ScoredItem], parts: Sequence[Axis], principles: Sequence[Axis], threshold: int
) -> RoundResults:
    """Means per principle, per part and overall (of scored items), whether each is
    THRIVE-like (mean at or above the threshold), and the items below threshold,
    lowest first."""
    results = RoundResults(threshold=threshold, parts=list(parts), principles=list(principles), items=list(items))
    for item in items:
        results.grid.setdefault(item.principle.code, {})[item.part.code] = item
    for principle in principles:
        scores = [i.score for i in items if i.principle.code == principle.code]
        results.by_principle[principle.code] = _mean(scores, threshold)
    for part in parts:
        scores = [i.score for i in items if i.part.code == part.code]
        results.by_part[part.code] = _mean(scores, threshold)
    results.overall = _mean([i.score for i in items], threshold)
    results.below_threshold = sorted(
        (i for i in items if i.score is not None and i.score < threshold), key=lambda i: (i.score, i.order)
    )
    results.not_scored = [i for i in items if i.score is None]
    return results


@dataclass(frozen=True)
class Change:
    """A change from one round to a later one. For means, `before` and `after` are
    rounded for display and `exact_before` and `exact_after` are the means themselves:
    the change is the difference of those, then rounded, so 1.67 -> 2.33 (5/3 -> 7/3)
    is a change of +0.67, not the +0.66 the rounded figures would give."""

    label: str
    before: Decimal | int | None
    after: Decimal | int | None
    exact_before: Fraction | None = None
    exact_after: Fraction | None = None

    @property
    def delta(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        if self.exact_before is not None and self.exact_after is not None:
            return two_places(self.exact_after - self.exact_before)
        return Decimal(self.after) - Decimal(self.before)

    @property
    def direction(self) -> str:
        delta = self.delta
        if delta is None:
            return "not comparable"
        if delta > 0:
            return "improved"
        if delta < 0:
            return "worse"
        return "no change"


@dataclass
class Comparison:
    items: list[tuple[ScoredItem, Change]]
    principles: list[Change]
    parts: list[Change]
    overall: Change


def compare_rounds(before: RoundResults, after: RoundResults) -> Comparison:
    """Change from one round to a later one, per item, principle, part and overall.

    Items are matched by part and principle code, so rounds scored on different
    versions of the tool compare where they share items.
    """
    earlier = {(i.part.code, i.principle.code): i for i in before.items}
    items = [
        (
            item,
            Change(
                label=f"{item.principle.label} – {item.part.label}",
                before=earlier[(item.part.code, item.principle.code)].score
                if (item.part.code, item.principle.code) in earlier
                else None,
                after=item.score,
            ),
        )
        for item in after.items
    ]
    principles = [
        _mean_change(p.label, before.by_principle.get(p.code), after.by_principle[p.code]) for p in after.principles
    ]
    parts = [_mean_change(p.label, before.by_part.get(p.code), after.by_part[p.code]) for p in after.parts]
    return Comparison(
        items=items,
        principles=principles,
        parts=parts,
        overall=_mean_change("Overall", before.overall, after.overall),
    )


def _mean_change(label: str, before: Mean | None, after: Mean) -> Change:
    return Change(
        label=label,
        before=before.value if before is not None else None,
        after=after.value,
        exact_before=before.exact if before is not None else None,
        exact_after=after.exact,
    )
