"""Coordinates for the timeline picture: when relief may start and how long it
may last, per therapy, on one time axis from an hour to twelve weeks.

Each therapy with figures gets one bar. It begins at the earliest time relief
may start; its first part (the onset window, drawn differently) runs to the
latest start; relief then runs on from there, fading out between the
shortest and the longest time it lasted in the studies. So relief is drawn as
lasting from when it starts, never as a separate later point.

Horizontal positions are percentages of the picture's width and vertical ones
are pixels, so the SVG fills whatever width it has while its text keeps its
CSS size (no viewBox scaling that would shrink labels on a phone).

The axis is logarithmic, because the ranges differ by a factor of a thousand
(hours for ketamine's onset, weeks for psilocybin's relief) and on a straight
scale the hour-long parts would vanish. The template draws what this computes.
"""

import math
from dataclasses import dataclass

AXIS_MIN_HOURS = 1
AXIS_MAX_HOURS = 12 * 7 * 24
BAR_HEIGHT = 16
NAME_HEIGHT = 22  # the therapy's name above its bar
NOTE_HEIGHT = 22  # a "not known" line
THERAPY_GAP = 16
MIN_WIDTH = 1.0  # percent: a range of a single value still shows
TICKS = [
    (1, "1 hour"),
    (6, "6 hours"),
    (24, "1 day"),
    (7 * 24, "1 week"),
    (12 * 7 * 24, "12 weeks"),
]
# On a phone there is no room for every tick label on one line: 6 hours is
# left out and 1 week drops to a second line (site.css).
NARROW = {6: "hidden", 7 * 24: "lower"}
# Short enough to fit on one line at 320 px.
NOT_KNOWN = "Not known: no figures yet"
LASTING_NOT_KNOWN = "How long it lasts: not known"
START_NOT_KNOWN = "When it starts: not known"


def x_at(hours):
    """Horizontal position of a time, in percent of the width, clamped to the axis."""
    hours = min(max(hours, AXIS_MIN_HOURS), AXIS_MAX_HOURS)
    share = math.log(hours / AXIS_MIN_HOURS) / math.log(AXIS_MAX_HOURS / AXIS_MIN_HOURS)
    return round(share * 100, 1)


@dataclass
class Segment:
    x: float  # percent
    width: float  # percent


@dataclass
class Row:
    name: str
    name_y: int
    bar_y: int | None
    onset: Segment | None  # the window in which relief may start
    relief: Segment | None  # relief, from the latest start to the longest it lasted
    fade_from: float  # 0-1 along `relief`: where the shortest relief ends
    continues: bool  # relief runs past the end of the axis
    note: str  # "" or what is not known
    note_y: int | None


def _segment(low_hours, high_hours):
    x1, x2 = x_at(low_hours), x_at(high_hours)
    width = max(round(x2 - x1, 1), MIN_WIDTH)
    return Segment(x=min(x1, round(100 - width, 1)), width=width)


def _known(low, high):
    return low is not None and high is not None


def layout(therapies):
    """Rows and height (pixels) for `therapies`."""
    rows, top = [], 0
    for therapy in therapies:
        name_y = top + 16
        top += NAME_HEIGHT
        onset_known = _known(therapy.onset_min_hours, therapy.onset_max_hours)
        lasting_known = _known(therapy.duration_min_days, therapy.duration_max_days)
        onset = relief = bar_y = None
        fade_from, continues, note = 1.0, False, ""
        if onset_known:
            bar_y = top
            top += BAR_HEIGHT + 6
            onset = _segment(therapy.onset_min_hours, therapy.onset_max_hours)
            if lasting_known:
                start = therapy.onset_max_hours
                shortest_end = therapy.onset_min_hours + therapy.duration_min_days * 24
                longest_end = start + therapy.duration_max_days * 24
                relief = _segment(start, longest_end)
                continues = longest_end > AXIS_MAX_HOURS
                span = x_at(longest_end) - x_at(start)
                if span > 0 and shortest_end > start:
                    fade_from = round(min((x_at(shortest_end) - x_at(start)) / span, 1.0), 3)
                else:
                    fade_from = 0.0
            else:
                note = LASTING_NOT_KNOWN
        else:
            note = START_NOT_KNOWN if lasting_known else NOT_KNOWN
        note_y = None
        if note:
            note_y = top + 15
            top += NOTE_HEIGHT
        rows.append(
            Row(therapy.name, name_y, bar_y, onset, relief, fade_from, continues, note, note_y)
        )
        top += THERAPY_GAP
    axis_y = top
    ticks = [
        {"x": x_at(hours), "label": label, "anchor": anchor, "narrow": NARROW.get(hours, "")}
        for (hours, label), anchor in zip(
            TICKS, ["start", "middle", "middle", "middle", "end"], strict=True
        )
    ]
    return {
        "height": axis_y + 68,
        "rows": rows,
        "axis_y": axis_y,
        "tick_label_y": axis_y + 20,
        "caption_y": axis_y + 60,
        "ticks": ticks,
    }
