"""Template filters for the clinical parts of a page: plain text that cites
sources (comparison cells), and the labels that say what kind of source a
reader is looking at."""

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import normalize_newlines

from therapyinfo.models import CITATION

register = template.Library()


@register.filter(is_safe=True)
def cited_text(text, sources=None):
    """Plain text with "[@slug]" citations as numbered links to the page's source
    list; a source the page does not list links to its entry on the sources page."""
    numbers = {source.slug: number for number, source in enumerate(sources or [], start=1)}

    def link(match):
        slug = match[1]
        if slug in numbers:
            return f'<a href="#source-{numbers[slug]}" class="cite">[{numbers[slug]}]</a>'
        return format_html(
            '<a href="{}#{}" class="cite">[source]</a>', reverse("sources"), escape(slug)
        )

    html = escape(normalize_newlines(str(text or ""))).replace("\n", "<br>")
    return mark_safe(CITATION.sub(link, html).replace(" <a", "&nbsp;<a"))


@register.filter
def cites(text):
    """The slugs a text cites, in order of first mention."""
    return list(dict.fromkeys(CITATION.findall(str(text or ""))))


FIRST_BLOCK = re.compile(r"\A\s*(<p>.*?</p>)(.*)\Z", re.S)
HEADED_PART = re.compile(r"<h3>(.*?)</h3>(.*?)(?=<h3>|\Z)", re.S)


@register.filter(is_safe=True)
def fold_after_first(html, label):
    """Keep the first paragraph in view and fold the rest under `label`."""
    match = FIRST_BLOCK.match(str(html))
    if not match or not match[2].strip():
        return html
    return mark_safe(
        f'{match[1]}<details class="more"><summary>{escape(label)}</summary>{match[2]}</details>'
    )


@register.filter(is_safe=True)
def fold_headings(html):
    """Each <h3> part of rendered Markdown becomes a <details> that the heading opens,
    so a reader sees every question at a glance and opens the ones that matter."""
    html = str(html)
    start = html.find("<h3>")
    if start < 0:
        return html
    parts = HEADED_PART.findall(html[start:])
    folded = "".join(
        f'<details class="more more--part"><summary>{heading}</summary>{body}</details>'
        for heading, body in parts
    )
    return mark_safe(html[:start] + folded)


@register.filter(is_safe=True)
def first_block(html):
    """The first paragraph of rendered Markdown."""
    match = FIRST_BLOCK.match(str(html))
    return mark_safe(match[1]) if match else html


@register.filter(is_safe=True)
def after_first_block(html):
    """Everything after the first paragraph of rendered Markdown."""
    match = FIRST_BLOCK.match(str(html))
    return mark_safe(match[2]) if match else ""


@register.simple_tag(takes_context=True)
def cell_text(context, cell):
    """A comparison cell's text, numbered by the page's `sources` if it has them."""
    return cited_text(cell.text, context.get("sources"))
