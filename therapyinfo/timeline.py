"""Coordinates for the timeline picture: when relief may start and how long it
may last, per therapy, on one time axis from an hour to twelve weeks.

The axis is logarithmic, because the ranges differ by a factor of a thousand
(hours for ketamine's onset, weeks for psilocybin's relief) and on a straight
scale the hour-long bars would vanish. The template draws what this computes;
nothing here knows about SVG markup beyond numbers.
"""

import math
from dataclasses import dataclass

WIDTH = 400  # viewBox units; the picture scales to its container
LEFT, RIGHT = 12, 388
AXIS_MIN_HOURS = 1
AXIS_MAX_HOURS = 12 * 7 * 24
BAR_HEIGHT = 12
LINE = 22  # one line of label text
THERAPY_GAP = 14
TICKS = [
    (1, "1 hour"),
    (6, "6 hours"),
    (24, "1 day"),
    (7 * 24, "1 week"),
    (12 * 7 * 24, "12 weeks"),
]


def x_at(hours):
    """Horizontal position of a time, clamped to the axis."""
    hours = min(max(hours, AXIS_MIN_HOURS), AXIS_MAX_HOURS)
    share = math.log(hours / AXIS_MIN_HOURS) / math.log(AXIS_MAX_HOURS / AXIS_MIN_HOURS)
    return round(LEFT + share * (RIGHT - LEFT), 1)


@dataclass
class Bar:
    label: str  # the words shown above the bar, also read out
    x: float
    y: float
    width: float
    label_y: float


@dataclass
class Row:
    name: str
    name_y: float
    onset: Bar | None
    duration: Bar | None
    unknown_y: float | None  # where "not known" is written, when there are no figures


def _bar(low_hours, high_hours, label, top):
    x1, x2 = x_at(low_hours), x_at(high_hours)
    # A range of a single value still gets a visible mark.
    width = max(round(x2 - x1, 1), 4)
    return Bar(
        label=label, x=min(x1, RIGHT - width), y=top + LINE - 4, width=width, label_y=top + 13
    )


def layout(therapies, onset_words, duration_words):
    """Rows and height for `therapies`. `onset_words(t)` / `duration_words(t)` give the
    ranges in words ("" when unknown), so the picture says what the table says."""
    rows, top = [], 4
    for therapy in therapies:
        name_y = top + 16
        top += LINE + 2
        onset = duration = unknown_y = None
        if therapy.onset_min_hours is not None and therapy.onset_max_hours is not None:
            onset = _bar(
                therapy.onset_min_hours,
                therapy.onset_max_hours,
                f"Starts: {onset_words(therapy)}",
                top,
            )
            top += LINE + BAR_HEIGHT
        if therapy.duration_min_days is not None and therapy.duration_max_days is not None:
            duration = _bar(
                therapy.duration_min_days * 24,
                therapy.duration_max_days * 24,
                f"Lasts: {duration_words(therapy)}",
                top,
            )
            top += LINE + BAR_HEIGHT
        if onset is None and duration is None:
            unknown_y = top + 12
            top += LINE
        rows.append(Row(therapy.name, name_y, onset, duration, unknown_y))
        top += THERAPY_GAP
    axis_y = top + 2
    ticks = [
        {"x": x_at(hours), "label": label, "anchor": anchor}
        for (hours, label), anchor in zip(
            TICKS, ["start", "middle", "middle", "middle", "end"], strict=True
        )
    ]
    return {
        "width": WIDTH,
        "height": axis_y + 48,
        "rows": rows,
        "axis_y": axis_y,
        "tick_label_y": axis_y + 20,
        "caption_y": axis_y + 40,
        "grid_top": 4,
        "left": LEFT,
        "right": RIGHT,
        "ticks": ticks,
    }
