"""Template filters and tags (`{% load clinical %}`) for the clinical parts
of a page: plain text that cites sources (comparison cells), and the labels
that say what kind of source a reader is looking at."""

import re
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines

from therapyinfo.markup import CITATION
from therapyinfo.models import THERAPY_PARTS

register = template.Library()


@register.simple_tag
def therapy_parts():
    """Every part of a therapy page, in order (`models.THERAPY_PARTS`)."""
    return THERAPY_PARTS


@register.simple_tag
def therapy_part(anchor):
    """One part of a therapy page by its anchor: its heading comes from the one list."""
    return next(part for part in THERAPY_PARTS if part.anchor == anchor)


@register.filter
def citable_text(text):
    """Plain text as HTML, its "[@slug]" citations kept as markers (each bound to
    the word before it) for `number_citations` to number when a page shows it."""
    html = escape(normalize_newlines(str(text or ""))).replace("\n", "<br>")
    return mark_safe(html.replace(" [@", "&nbsp;[@"))


@register.filter
def number_citations(html, numbers):
    """`{{ cell.text|citable_text|number_citations:numbers }}`: each "[@slug]"
    marker as a numbered link to the page's source list (`numbers`: {slug:
    number}); a source the page does not list links to its entry on the sources page."""

    def link(match):
        slug = match[1]
        if slug in numbers:
            return f'<a href="#source-{numbers[slug]}" class="cite">[{numbers[slug]}]</a>'
        return f'<a href="{reverse("sources")}#{escape(slug)}" class="cite">[source]</a>'

    return SafeString(CITATION.sub(link, html)) if "[@" in html else html


FIRST_BLOCK = re.compile(r"\A\s*(<p>.*?</p>)(.*)\Z", re.S)
HEADED_PART = re.compile(r"<h3>(.*?)</h3>(.*?)(?=<h3>|\Z)", re.S)


@register.filter
def fold_after_first(html, label):
    """Keep the first paragraph in view and fold the rest under `label`."""
    match = FIRST_BLOCK.match(str(html))
    if not match or not match[2].strip():
        return html
    return mark_safe(
        f'{match[1]}<details class="more"><summary>{escape(label)}</summary>{match[2]}</details>'
    )


@register.filter
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


FIRST_LIST = re.compile(r"\A\s*<ul>\s*(<li>.*?</li>)(.*?)</ul>(.*)\Z", re.S)


@register.filter
def fold_after_first_item(html, label):
    """A text that starts with a list: keep its first item in view (the most
    important, by the editors' order) and fold the other items and the rest."""
    match = FIRST_LIST.match(str(html))
    if not match or not (match[2].strip() or match[3].strip()):
        return html
    rest = f"<ul>{match[2]}</ul>" if match[2].strip() else ""
    return mark_safe(
        f'<ul>{match[1]}</ul><details class="more"><summary>{escape(label)}</summary>'
        f"{rest}{match[3]}</details>"
    )


@register.filter
def fold_later_headings(html):
    """Keep everything up to the second <h3> part open and fold each later part
    under its heading: the first answer is read at once, the rest on a tap."""
    html = str(html)
    first = html.find("<h3>")
    second = html.find("<h3>", first + 1) if first >= 0 else -1
    if second < 0:
        return html
    return mark_safe(html[:second] + fold_headings(html[second:]))


@register.filter
def first_block(html):
    """The first paragraph of rendered Markdown."""
    match = FIRST_BLOCK.match(str(html))
    return mark_safe(match[1]) if match else html


@register.filter
def after_first_block(html):
    """Everything after the first paragraph of rendered Markdown."""
    match = FIRST_BLOCK.match(str(html))
    return mark_safe(match[2]) if match else ""
