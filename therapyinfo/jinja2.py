"""The Jinja2 environment of the public pages (settings.TEMPLATES).

The public pages are Jinja2 templates: Jinja2 compiles each template to Python
once, and draws the comparison page in half the time Django's template
language took (1.2 ms, from 2.5 ms), the larger part of what a page costs
when it misses every cache (README, "Performance"). The admin keeps Django's
templates.

Output is escaped as Django escapes it (`'` becomes `&#x27;`, not `&#39;`),
so a page reads the same whichever engine drew it, and stored HTML (marked
safe) passes through untouched.
"""

import html

from django.conf import settings
from django.template import defaultfilters
from django.templatetags.static import static
from django.utils.timezone import template_localtime
from jinja2 import Environment, pass_context
from markupsafe import Markup

from .addresses import url
from .templating import clinical, content, page_meta


def finalize(value):
    """Every `{{ value }}` before Jinja2 escapes it. Jinja2 escapes as Django
    does except for `'` (`&#39;`, Django `&#x27;`), so text holding one is
    escaped here, Django's way; the rest is left to Jinja2's faster escape."""
    if value.__class__ is str:
        return Markup(html.escape(value)) if "'" in value else value
    if value is None or hasattr(value, "__html__") or value.__class__ in (int, float):
        return value
    return finalize(str(value))


def squash(html):
    """Text with its runs of white space made single spaces (titles, descriptions)."""
    return Markup(" ".join(str(html).split()))


def date(value, format=None):
    """As Django's `date` filter: a date-time in the site's time zone, then formatted."""
    return defaultfilters.date(template_localtime(value), format)


def linebreaks(text):
    return defaultfilters.linebreaks_filter(text, autoescape=True)


def environment(**options):
    env = Environment(**options, finalize=finalize, keep_trailing_newline=True)
    env.globals.update(
        url=url,
        static=static,
        static_prefix=settings.STATIC_URL,
        canonical_url=pass_context(page_meta.canonical_url),
        medical_webpage=pass_context(page_meta.medical_webpage),
        mentions_crisis=page_meta.mentions_crisis,
        page_change_notes=page_meta.page_change_notes,
        site_last_updated=page_meta.site_last_updated,
        glossary_linker=content.glossary_linker,
        hours_range=content.hours_range,
        days_range=content.days_range,
        selection_links=content.selection_links,
        timeline=content.timeline,
        comparison_table_rows=clinical.comparison_table_rows,
        side_effect_table_rows=clinical.side_effect_table_rows,
    )
    env.filters.update(
        date=date,
        capfirst=defaultfilters.capfirst,
        linebreaks=linebreaks,
        urlencode=defaultfilters.urlencode,
        squash=squash,
        tel=content.tel,
        cite=content.cite,
        glossary=content.glossary,
        rendered=content.rendered,
        html_of=content.html_of,
        side_effect_groups=content.side_effect_groups,
        citable_text=clinical.citable_text,
        fold_after_first=clinical.fold_after_first,
        fold_headings=clinical.fold_headings,
        first_block=clinical.first_block,
        after_first_block=clinical.after_first_block,
    )
    return env
