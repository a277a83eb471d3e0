"""Natural frequencies and icon arrays (`{% load outcomes %}`), to the
International Patient Decision Aid Standards (docs/decision-aid.md).

Every chance the site gives is "about X in 100 people", for the treatment
group and the trial's own comparison group, at the time point the trial
measured, and both ways round (how many had the outcome and how many did
not). Each icon array is 100 figures of one group of one trial: filled
figures had the outcome, outlined ones did not, so the picture reads without
colour; its text alternative and its caption give the same counts.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from therapyinfo.models import OutcomeKind

register = template.Library()

PER = 100  # one denominator for every figure on the site
COLUMNS = 10
CELL_WIDTH, CELL_HEIGHT = 12, 14  # user units of one figure's place in the grid


def in_100(count):
    """'about 69 in 100', or 'none of 100' for zero."""
    return f"about {count} in {PER}" if count else f"none of {PER}"


def frequency_sentences(outcome):
    """(what happened, what did not happen) as two plain sentences."""
    treated, compared = outcome.treatment_rate, outcome.comparator_rate
    happened = (
        f"{in_100(treated).capitalize()} people who had {outcome.treatment} {outcome.measure} "
        f"{outcome.time_point}; so did {in_100(compared)} who had {outcome.comparator}."
    )
    did_not = (
        f"That leaves {in_100(PER - treated)} in the first group, and "
        f"{in_100(PER - compared)} in the comparison group, who did not."
    )
    return happened, did_not


@register.simple_tag
def natural_frequency(outcome):
    """Both framings of an outcome, as the paragraph a page shows."""
    happened, did_not = frequency_sentences(outcome)
    return format_html(
        '<p class="outcome__sentence">{} {}</p>'
        '<p class="outcome__definition">What “{}” means here: {}.</p>',
        happened,
        did_not,
        outcome.measure,
        outcome.definition,
    )


def array_text(outcome, group):
    """The counts of one array in words: its text alternative and its caption."""
    count = outcome.rate(group)
    who = outcome.treatment if group == "treatment" else outcome.comparator
    return (
        f"{count} in {PER} people who had {who} {outcome.measure}; {PER - count} in {PER} did not."
    )


@register.simple_tag
def icon_array(outcome, group):
    """One group's 100 figures, filled first in reading order."""
    count = outcome.rate(group)
    places = [
        {"x": (n % COLUMNS) * CELL_WIDTH, "y": (n // COLUMNS) * CELL_HEIGHT, "had": n < count}
        for n in range(PER)
    ]
    return mark_safe(
        render_to_string(
            "includes/icon_array.html",
            {
                "id": f"ia-{outcome.therapy_id}-{outcome.slug}-{group}",
                "text": array_text(outcome, group),
                "had": [p for p in places if p["had"]],
                "had_not": [p for p in places if not p["had"]],
                "count": count,
                "rest": PER - count,
                "who": outcome.treatment if group == "treatment" else outcome.comparator,
                "width": COLUMNS * CELL_WIDTH,
                "height": PER // COLUMNS * CELL_HEIGHT,
                "outcome": outcome,
            },
        )
    )


@register.simple_tag
def outcome_groups(outcomes):
    """A therapy's outcomes as the page shows them: benefits, side-effect figures
    shown inside their side effect, and the other side-effect figures; and how
    many trials each part draws on (more than one: not comparable)."""
    outcomes = list(outcomes)
    benefits = [o for o in outcomes if o.kind == OutcomeKind.BENEFIT]
    harms = [o for o in outcomes if o.kind == OutcomeKind.HARM]
    return {
        "benefits": benefits,
        "harms": harms,
        "other_harms": [o for o in harms if o.side_effect_id is None],
        "benefit_trials": len({o.trial for o in benefits}),
        "any": bool(outcomes),
    }


@register.simple_tag
def harms_for(outcomes, entry):
    """The side-effect figures about one of the page's side effects (`entry`)."""
    if not outcomes:
        return []
    return [o for o in outcomes["harms"] if o.side_effect_id == entry.side_effect_id]


@register.simple_tag
def source_link(source, sources):
    """'[3]' linking to the source's entry in the page's numbered list."""
    for number, listed in enumerate(sources, start=1):
        if listed.pk == source.pk:
            return format_html('<a href="#source-{}" class="cite">[{}]</a>', number, number)
    return ""
