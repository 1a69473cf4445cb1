"""Chart geometry for the gradebook, drawn server-side as inline SVG.

No JavaScript and no external assets: the server often runs on a campus
network without internet access. These functions only compute coordinates;
the templates turn them into SVG with titles and labels for screen readers.
"Rubric order" is the order of the checks in the server's rubric (the JSON
document it scores from).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .queries import PassRate
from .student_queries import SubmissionRow

#: Below this pass rate a check is where the class gets stuck.
STUCK_BELOW = 0.5
#: At or above this pass rate most of the class has it.
FINE_FROM = 0.8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    task: str
    passed: int
    total: int
    percent: int
    y: float
    width: float
    level: str  # "stuck" | "middling" | "fine": the bar's colour class


@dataclass(frozen=True, slots=True)
class TaskBand:
    task: str
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class PassRateChart:
    bars: tuple[Bar, ...]
    bands: tuple[TaskBand, ...]
    width: int
    height: int
    label_width: int
    plot_width: int
    row_height: int
    ticks: tuple[tuple[int, float], ...]  # (percent, x)


def pass_rate_chart(
    rates: Sequence[PassRate], *, label_width: int = 210, plot_width: int = 700, row: int = 24
) -> PassRateChart:
    """Horizontal bars, one per check, grouped by task in rubric order."""
    top = 8
    bars: list[Bar] = []
    bands: list[TaskBand] = []
    y = float(top)
    for i, rate in enumerate(rates):
        if i == 0 or rates[i - 1].task != rate.task:
            if bands:
                y += row / 3  # a little air between tasks
            bands.append(TaskBand(rate.task, y, 0.0))
        level = (
            "stuck" if rate.rate < STUCK_BELOW else "middling" if rate.rate < FINE_FROM else "fine"
        )
        bars.append(
            Bar(
                label=rate.check_id,
                task=rate.task,
                passed=rate.passed,
                total=rate.total,
                percent=round(rate.rate * 100),
                y=y,
                width=round(rate.rate * plot_width, 1),
                level=level,
            )
        )
        y += row
        last = bands[-1]
        bands[-1] = TaskBand(last.task, last.y, y - last.y)
    ticks = tuple((p, label_width + plot_width * p / 100) for p in (0, 25, 50, 75, 100))
    return PassRateChart(
        bars=tuple(bars),
        bands=tuple(bands),
        width=label_width + plot_width + 56,
        height=int(y) + 28,
        label_width=label_width,
        plot_width=plot_width,
        row_height=row,
        ticks=ticks,
    )


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    score: int
    max_score: int
    when: datetime
    submission_id: int
    flagged: bool


@dataclass(frozen=True, slots=True)
class ScoreChart:
    points: tuple[Point, ...]
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    max_score: int
    y_ticks: tuple[tuple[int, float], ...]  # (score, y)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def score_chart(
    history: Sequence[SubmissionRow], *, plot_width: int = 900, plot_height: int = 200
) -> ScoreChart:
    """A student's score for each report, oldest to newest, evenly spaced."""
    left, top = 44, 12
    max_score = max((s.max_score for s in history), default=0) or 1
    n = len(history)
    step = plot_width / (n - 1) if n > 1 else 0.0
    points = tuple(
        Point(
            x=left + (i * step if n > 1 else plot_width / 2),
            y=top + plot_height * (1 - s.score / max_score),
            score=s.score,
            max_score=s.max_score,
            when=s.received_at,
            submission_id=s.id,
            flagged=s.flagged,
        )
        for i, s in enumerate(history)
    )
    tick_values = sorted({0, max_score // 2, max_score})
    y_ticks = tuple((v, top + plot_height * (1 - v / max_score)) for v in tick_values)
    return ScoreChart(
        points=points,
        width=left + plot_width + 24,
        height=top + plot_height + 30,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        max_score=max_score,
        y_ticks=y_ticks,
    )
