"""Template filters and tags that turn editors' text into safe, readable HTML
(`{% load content %}`).

A record's Markdown is rendered when it is saved (models.RenderedMarkdown), and
`rendered` reads it. `cite` then links citations like [@murrough-2013] to the
page's numbered sources list, and `glossary` explains a page's first use of
each glossary term. The plain-word tags keep number formatting out of the
templates.
"""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from therapyinfo.cache import cached
from therapyinfo.markup import TAG, link_citations, render_markdown
from therapyinfo.models import Frequency, GlossaryTerm
from therapyinfo.timeline import layout

register = template.Library()


@register.filter
def rendered(record, field):
    """`{{ therapy|rendered:"body" }}`: a Markdown field as rendered when it was saved."""
    html = record.rendered.get(field)
    if html is None:  # loaded raw (loaddata) or bulk-written: until render_content runs
        return render_markdown(getattr(record, field) or "")
    return mark_safe(html)


@register.filter
def cite(html, sources):
    """`{{ therapy|rendered:"body"|cite:sources }}`: number citations by the
    page's source list."""
    return mark_safe(link_citations(str(html), source_numbers(sources)))


def source_numbers(sources):
    """{slug: number} of a page's sources, numbered as its list shows them."""
    return {source.slug: number for number, source in enumerate(sources, start=1)}


# Glossary links are never put inside these: a link cannot hold a link, a
# heading is not the place for one, and code is shown exactly as written.
NO_GLOSSARY_INSIDE = {"a", "code", "h1", "h2", "h3", "h4", "h5", "h6"}


def term_spellings(term):
    """The ways a glossary term appears in running text.

    "Serotonin 2A (5-HT2A) receptor" is also "serotonin 2A receptor" and
    "5-HT2A receptor"; "Response and remission" is also "remission".
    """
    spellings = {term}
    bracketed = re.fullmatch(r"(.*?)\s*\((.+?)\)\s*(.*)", term)
    if bracketed:
        before, inside, after = bracketed.groups()
        spellings |= {f"{before} {after}".strip(), f"{inside} {after}".strip()}
    if " and " in term:
        spellings.add(term.split(" and ", 1)[1])
    return spellings


def glossary_index(terms):
    """(spelling -> term, one pattern matching every spelling) for the given terms."""
    by_spelling = {}
    for term in terms:
        for spelling in term_spellings(term.term):
            by_spelling[spelling.lower()] = term
    if not by_spelling:
        return by_spelling, None
    # Longest first, so "treatment-resistant depression" wins over a shorter term.
    body = "|".join(re.escape(s) for s in sorted(by_spelling, key=len, reverse=True))
    return by_spelling, re.compile(rf"(?<![\w-])({body})(s?)(?![\w-])", re.IGNORECASE)


def site_glossary_index(request):
    """The whole glossary's index, kept for the content version (cache.py)."""
    return cached(request, "glossary-index", lambda: glossary_index(GlossaryTerm.objects.all()))


def explained_term(term, words):
    """`words` (already escaped text) as a button that shows the term's
    definition in place, with a link to the glossary.

    The HTML popover attribute does the showing, so it works with no script
    (and with the strict CSP); phrasing elements only, so it stays valid
    inside a <p>. A browser without popovers shows the definition inline."""
    target = f"term-{term.slug}"
    return (
        f'<button type="button" class="term" popovertarget="{target}">{words}</button>'
        f'<span class="term__popover" id="{target}" popover>'
        f"<strong>{escape(term.term)}</strong>: {escape(term.definition)} "
        f'<a href="{term.get_absolute_url()}">More in the glossary</a> '
        f'<button type="button" class="term__close" popovertarget="{target}" '
        f'popovertargetaction="hide">Close</button></span>'
    )


class GlossaryLinker:
    """Explains the first use on a page of each glossary term in place.

    One linker per page render: it remembers which terms it has explained, so
    later uses, in this section or the next, stay plain text (and each
    popover's id is used once).
    """

    def __init__(self, terms=None, request=None):
        self._terms = terms
        self._request = request
        self._pattern = None
        self.linked = set()

    def _compile(self):
        if self._terms is None:
            self._by_spelling, self._pattern = site_glossary_index(self._request)
        else:
            self._by_spelling, self._pattern = glossary_index(self._terms)

    def link(self, html):
        if self._pattern is None:
            self._compile()
            if self._pattern is None:
                return html

        def replace(match):
            term = self._by_spelling[match[1].lower()]
            if term.slug in self.linked:
                return match[0]
            self.linked.add(term.slug)
            return explained_term(term, match[0])

        parts = TAG.split(html)
        inside = 0
        for index, part in enumerate(parts):
            if index % 2:
                name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
                if name in NO_GLOSSARY_INSIDE:
                    inside += -1 if part.startswith("</") else 1
            elif part and not inside:
                parts[index] = self._pattern.sub(replace, part)
        return "".join(parts)


@register.simple_tag(takes_context=True)
def glossary_linker(context):
    """`{% glossary_linker as terms %}`, then `{{ html|glossary:terms }}`."""
    return GlossaryLinker(request=context.get("request"))


@register.filter
def glossary(html, linker):
    """Explain the page's first use of each glossary term; `html` must already be safe."""
    if not linker:
        return html
    return mark_safe(linker.link(str(html)))


@register.filter
def tel(number):
    """A phone number as a tel: or sms: link target: digits and a leading +."""
    number = str(number or "").strip()
    digits = re.sub(r"\D", "", number)
    return ("+" if number.startswith("+") else "") + digits


def _plural(count, unit):
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _days_in_units(days):
    """(count, unit) in the largest unit a person would use."""
    if days < 14:
        return days, "day"
    if days < 60:
        return round(days / 7), "week"
    if days < 365:
        return round(days / 30), "month"
    return round(days / 365), "year"


def _hours_in_units(hours):
    if hours < 24:
        return hours, "hour"
    return _days_in_units(round(hours / 24))


def _words(amount, unit):
    return "about " + _plural(amount, unit)


def _range_in_words(low, high):
    """'about 2 hours', 'about 2 to 24 hours' or 'from about 2 hours to about 3 days'."""
    (low_amount, low_unit), (high_amount, high_unit) = low, high
    if (low_amount, low_unit) == (high_amount, high_unit):
        return _words(low_amount, low_unit)
    if low_unit == high_unit:
        return f"about {low_amount} to {_plural(high_amount, high_unit)}"
    return f"from {_words(low_amount, low_unit)} to {_words(high_amount, high_unit)}"


def hours_to_words(hours):
    """6 -> 'about 6 hours', 24 -> 'about 1 day', 0 -> 'less than an hour'."""
    hours = _as_int(hours)
    if hours is None:
        return ""
    if hours < 1:
        return "less than an hour"
    return _words(*_hours_in_units(hours))


def days_to_words(days):
    """3 -> 'about 3 days', 21 -> 'about 3 weeks', 90 -> 'about 3 months'."""
    days = _as_int(days)
    if days is None:
        return ""
    if days < 1:
        return "less than a day"
    return _words(*_days_in_units(days))


@register.simple_tag
def hours_range(low, high):
    """The onset range of a therapy in words, e.g. 'about 2 to 24 hours'."""
    low, high = _as_int(low), _as_int(high)
    if low is None or high is None:
        return ""
    if low < 1:
        return f"within {hours_to_words(high)}" if high >= 1 else "less than an hour"
    return _range_in_words(_hours_in_units(low), _hours_in_units(high))


@register.simple_tag
def days_range(low, high):
    """The duration range of a therapy in words, e.g. 'about 3 to 7 days'."""
    low, high = _as_int(low), _as_int(high)
    if low is None or high is None:
        return ""
    if low < 1:
        return f"up to {days_to_words(high)}" if high >= 1 else "less than a day"
    return _range_in_words(_days_in_units(low), _days_in_units(high))


@register.filter
def side_effect_groups(entries):
    """Split a therapy's side effects into the three groups a patient needs:
    serious (get help), common and less common."""
    groups = {"serious": [], "common": [], "less_common": []}
    for entry in entries:
        if entry.severity == "serious":
            groups["serious"].append(entry)
        elif entry.frequency in ("very-common", "common"):
            groups["common"].append(entry)
        else:
            groups["less_common"].append(entry)
    # "Other" must not read as "rare" when our sources simply give no figure.
    groups["how_often_not_known"] = bool(groups["less_common"]) and all(
        entry.frequency == Frequency.NOT_MEASURED for entry in groups["less_common"]
    )
    return groups


@register.simple_tag
def selection_links(available, columns=()):
    """Links for each pair of therapies, for the comparison page.

    Each item has `label`, `query` (for ?therapies=) and `current`.
    """
    chosen = [therapy.slug for therapy in columns]
    links = []
    for index, first in enumerate(available):
        for second in available[index + 1 :]:
            slugs = [first.slug, second.slug]
            links.append(
                {
                    "label": f"{first.short_name} and {second.short_name} only",
                    "query": ",".join(slugs),
                    "current": chosen == slugs,
                }
            )
    return links


@register.simple_tag
def timeline(therapies, heading_id="timeline-title", words=None):
    """The timeline picture for `therapies`, with the same timings in words
    beside it, drawn from their numeric ranges on every render, so an edit in
    the admin redraws it.

    `words` defaults to listing the timings only when there are several
    therapies: a therapy's own page states its timings just above the picture
    (includes/timing.html), and saying them twice would only add length."""
    therapies = list(therapies)
    if words is None:
        words = len(therapies) > 1
    picture = layout(therapies)
    listed, described = [], []
    for therapy in therapies:
        onset = hours_range(therapy.onset_min_hours, therapy.onset_max_hours)
        lasting = days_range(therapy.duration_min_days, therapy.duration_max_days)
        listed.append({"name": therapy.name, "onset": onset, "lasting": lasting})
        if onset or lasting:
            described.append(
                f"{therapy.name}: starts to help {onset or 'at a time not known'} after a dose; "
                f"relief lasts {lasting or 'for a time not known'}."
            )
        else:
            described.append(f"{therapy.name}: not known, there are no figures yet.")
    return {
        "picture": picture,
        "words": listed if words else [],
        "description": " ".join(described),
        "id": heading_id,
    }


@register.filter
def in_minutes(duration):
    """A timedelta as a whole number of minutes (the lockout page's wait)."""
    return round(duration.total_seconds() / 60)
