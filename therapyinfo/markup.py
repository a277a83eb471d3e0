"""Editors' Markdown as safe HTML.

`render_markdown` is the only way Markdown reaches a page: it renders and
sanitises with nh3 (an allow-list, so anything not named here is dropped).
`link_citations` then links citations like [@murrough-2013] to a page's
numbered sources list.
"""

import re
from functools import partial

import markdown as markdown_lib
import nh3
from django.utils.html import escape
from django.utils.safestring import mark_safe
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor

# Editors cite a source in Markdown by its slug: "[@murrough-2013]".
CITATION = re.compile(r"\[@([a-z0-9-]+)\]")

ALLOWED_TAGS = {
    "h2", "h3", "h4", "p", "ul", "ol", "li", "a", "em", "strong", "code",
    "blockquote", "table", "thead", "tbody", "tr", "th", "td", "br",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

# Split sanitised HTML into tags and text, so citations are only ever
# looked for in text and never inside an attribute.
TAG = re.compile(r"(<[^>]*>)")
# Pages own their <h1>, so Markdown headings start at <h2> or lower and
# anything deeper than <h4> becomes an <h4>.
HEADING_LEVEL = re.compile(r"<(/?)h([1-6])\b")
# Text inside these elements is left alone: a link cannot hold a link,
# and code is shown exactly as written.
NO_CITATIONS_INSIDE = {"a", "code"}


# Python-Markdown reads a link's text (up to its "]") and its address (up to
# its ")") from every "[" to the end of the paragraph, one character at a
# time: quadratic, so a paste of a few thousand "[" tied a worker up for
# seconds, in the live preview and again on save. Here a link's text and
# address are read at most this far, and text nested deeper than this is not
# a link, so rendering stays linear. Real links are far shorter (none in the
# content is near either limit); past them, the brackets are shown as typed.
#
# Other parts of Python-Markdown (and the html.parser it reads raw HTML with)
# are still super-linear on some pastes ("<a" repeated), so text longer than
# MARKDOWN_MAX_CHARS, about five times the longest field in the content, is
# not read as Markdown at all: it is shown as typed. tests/test_markup_bounds.py.
MARKDOWN_MAX_CHARS = 10_000
LINK_TEXT_LIMIT = 300
LINK_ADDRESS_LIMIT = 300
LINK_NESTING_LIMIT = 4
BRACKET = re.compile(r"[\[\]]")


def _bounded_link_text(data, index):
    """LinkInlineProcessor.getText, bounded: (text, end, found)."""
    depth, position, stop = 1, index, min(len(data), index + LINK_TEXT_LIMIT)
    while (bracket := BRACKET.search(data, position, stop)) is not None:
        depth += 1 if bracket[0] == "[" else -1
        if depth == 0:
            return data[index : bracket.start()], bracket.end(), True
        if depth > LINK_NESTING_LIMIT:
            break
        position = bracket.end()
    return "", index, False


def _bounded_link_address(processor, data, index):
    """LinkInlineProcessor.getLink, reading no further than LINK_ADDRESS_LIMIT
    (and not at all when no ")" is that near: it cannot be a link)."""
    window = data[: index + LINK_ADDRESS_LIMIT]
    if window.find(")", index) < 0:
        return "", None, index, False
    return LinkInlineProcessor.getLink(processor, window, index)


def _as_typed(text):
    """Text Markdown cannot read in bounded time, escaped, as one paragraph."""
    return f"<p>{escape(text)}</p>"


class BoundedLinks(Extension):
    """Every link and reference pattern reads with the bounded helpers above."""

    def extendMarkdown(self, md):
        for processor in md.inlinePatterns:
            if isinstance(processor, LinkInlineProcessor):
                processor.getText = _bounded_link_text
                processor.getLink = partial(_bounded_link_address, processor)


def link_citations(html, numbers):
    """Turn each "[@slug]" into a link to that source's place in the list."""

    def link(match):
        number = numbers.get(match[1])
        if number is None:  # validation keeps this from happening; never show raw syntax
            return ""
        return f'<a href="#source-{number}" class="cite">[{number}]</a>'

    parts = TAG.split(html)
    open_count = 0
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in NO_CITATIONS_INSIDE:
                open_count += -1 if part.startswith("</") else 1
        elif part and not open_count:
            parts[index] = CITATION.sub(link, part)
    return "".join(parts)


def markdown_to_html(text):
    """Markdown as HTML, in bounded time, not yet sanitised: only for
    render_markdown and for telling an editor what sanitising removes."""
    if len(text) > MARKDOWN_MAX_CHARS:
        return _as_typed(text)
    try:
        return markdown_lib.markdown(text, extensions=["tables", "sane_lists", BoundedLinks()])
    except RecursionError:
        # Lists nested hundreds deep ("1. 1. 1. ...": no real text is) run
        # out of Python's stack.
        return _as_typed(text)


# Editors' Markdown sits under a page's <h2> section headings, on the page
# (models.RenderedMarkdown) and in the admin's preview (admin_forms.py) alike.
MARKDOWN_TOP_HEADING = 3


def render_markdown(text, top=MARKDOWN_TOP_HEADING):
    """Markdown to sanitised HTML.

    The text's own top heading level becomes `top` and the rest follow it down
    (never past <h4>), so an editor's "##" or "###" both sit right under the
    page's heading and the outline never skips a level.
    """
    html = markdown_to_html(text)
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    shift = top - min(levels) if levels else 0
    html = HEADING_LEVEL.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]) + shift, top), 4)}", html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=None,
    )
    return mark_safe(clean)
