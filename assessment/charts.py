"""Geometry for the server-rendered SVG chart of the comparison page: paired bars per
principle, the baseline against a later round, on the tool's scale with the
THRIVE-like threshold drawn across."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .results import Change

CHART_WIDTH = 920
LABEL_WIDTH = 310
PLOT_WIDTH = 480
LEGEND_HEIGHT = 44
AXIS_HEIGHT = 40
ROW_HEIGHT = 62
BAR_HEIGHT = 20
BAR_GAP = 4


@dataclass(frozen=True)
class Tick:
    x: int
    label: str


@dataclass(frozen=True)
class PairedBar:
    label: str
    label_y: int
    before_y: int
    before_width: int
    before_text: str
    before_text_x: int
    after_y: int
    after_width: int
    after_text: str
    after_text_x: int


@dataclass(frozen=True)
class PairedBarChart:
    key: str
    width: int
    height: int
    label_width: int
    plot_width: int
    plot_top: int
    plot_bottom: int
    bar_height: int
    threshold: int
    threshold_x: int
    ticks: list[Tick]
    bars: list[PairedBar]
    before_label: str
    after_label: str


def _width(value: Decimal | int | None, scale_max: int) -> int:
    if value is None:
        return 0
    return round(PLOT_WIDTH * float(value) / scale_max)


def _text(value: Decimal | int | None) -> str:
    return "not scored" if value is None else f"{Decimal(value):.2f}"


def comparison_chart(
    changes: Sequence[Change],
    *,
    scale_max: int,
    threshold: int,
    before_label: str,
    after_label: str,
    key: str,
) -> PairedBarChart:
    """Bars start at zero so a mean of 1 still shows; `key` makes the chart's ids
    unique when a page has several."""
    plot_top = LEGEND_HEIGHT
    bars = []
    for index, change in enumerate(changes):
        top = plot_top + index * ROW_HEIGHT + 10
        before_width = _width(change.before, scale_max)
        after_width = _width(change.after, scale_max)
        bars.append(
            PairedBar(
                label=change.label,
                label_y=top + BAR_HEIGHT + BAR_GAP // 2 + 6,
                before_y=top,
                before_width=before_width,
                before_text=_text(change.before),
                before_text_x=LABEL_WIDTH + before_width + 8,
                after_y=top + BAR_HEIGHT + BAR_GAP,
                after_width=after_width,
                after_text=_text(change.after),
                after_text_x=LABEL_WIDTH + after_width + 8,
            )
        )
    plot_bottom = plot_top + len(bars) * ROW_HEIGHT + 10
    return PairedBarChart(
        key=key,
        width=CHART_WIDTH,
        height=plot_bottom + AXIS_HEIGHT,
        label_width=LABEL_WIDTH,
        plot_width=PLOT_WIDTH,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        bar_height=BAR_HEIGHT,
        threshold=threshold,
        threshold_x=LABEL_WIDTH + _width(threshold, scale_max),
        ticks=[Tick(x=LABEL_WIDTH + _width(s, scale_max), label=str(s)) for s in range(scale_max + 1)],
        bars=bars,
        before_label=before_label,
        after_label=after_label,
    )
