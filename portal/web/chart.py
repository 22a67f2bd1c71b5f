"""The scan history chart: open findings by severity per scan, as stacked bars drawn in SVG on the
server (no chart library, no script). The template draws what `history_chart` lays out."""

from dataclasses import dataclass
from datetime import datetime

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 48
MAX_BAR_WIDTH = 36


@dataclass(frozen=True, slots=True)
class Segment:
    severity: str
    count: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    label: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    severities: tuple[str, ...] = SEVERITIES


def axis_top(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least `value`: a round top for the axis."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def history_chart(points: list[tuple[datetime, dict[str, int]]]) -> Chart:
    """`points` oldest first: each scan's time and its open findings per severity."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    highest = max((sum(counts.get(s, 0) for s in SEVERITIES) for _, counts in points), default=0)
    top = axis_top(max(highest, 1))
    scale = plot_height / top
    slot = plot_width / max(len(points), 1)
    bar_width = min(MAX_BAR_WIDTH, slot * 0.7)
    bars = []
    for index, (scanned_at, counts) in enumerate(points):
        x = LEFT + slot * index + (slot - bar_width) / 2
        y = baseline
        segments = []
        for severity in SEVERITIES:
            count = counts.get(severity, 0)
            if count:
                height = count * scale
                y -= height
                segments.append(Segment(severity, count, round(y, 2), round(height, 2)))
        total = sum(counts.get(s, 0) for s in SEVERITIES)
        bars.append(Bar(round(x, 2), round(bar_width, 2), scanned_at.strftime("%m-%d"), total, segments))
    values = sorted({0, top // 2, top})
    ticks = [Tick(round(baseline - value * scale, 2), value) for value in values]
    return Chart(WIDTH, HEIGHT, LEFT, float(WIDTH - RIGHT), baseline, bars, ticks)
