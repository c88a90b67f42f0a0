"""Geometry for the server-rendered SVG chart on the site overview."""

from dataclasses import dataclass

from .selectors import SiteOverview

CHART_WIDTH = 920
LABEL_WIDTH = 330
BAR_AREA = 320
ROW_HEIGHT = 56
BAR_HEIGHT = 32
# THRIVE's own colours are not specified; these GOV.UK palette colours keep at least
# 3:1 contrast against white and differ in lightness for readers who cannot tell hues apart.
BAR_COLOURS = ["#00703c", "#1d70b8", "#4c2c92", "#912b88", "#d4351c"]


@dataclass(frozen=True)
class Bar:
    label: str
    services: int
    capacity: int
    y: int
    text_y: int
    width: int
    value_x: int
    colour: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]


def overview_chart(overview: SiteOverview) -> Chart:
    top = max(overview.max_capacity, 1)
    bars = []
    for index, summary in enumerate(overview.groupings):
        width = round(BAR_AREA * summary.capacity / top) if summary.capacity else 0
        y = index * ROW_HEIGHT + 8
        bars.append(
            Bar(
                label=summary.grouping.label,
                services=summary.services,
                capacity=summary.capacity,
                y=y,
                text_y=y + BAR_HEIGHT // 2 + 6,
                width=max(width, 2) if summary.services else 0,
                value_x=LABEL_WIDTH + max(width, 2) + 10,
                colour=BAR_COLOURS[index % len(BAR_COLOURS)],
            )
        )
    return Chart(
        width=CHART_WIDTH,
        height=len(bars) * ROW_HEIGHT + 16,
        label_width=LABEL_WIDTH,
        bars=bars,
    )
