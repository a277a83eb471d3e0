"""Editors' Markdown as safe HTML.

`render_markdown` is the only way Markdown reaches a page: it renders and
sanitises with nh3 (an allow-list, so anything not named here is dropped).
`link_citations` then links citations like [@murrough-2013] to a page's
numbered sources list.
"""

import re

import markdown as markdown_lib
import nh3
from django.utils.safestring import mark_safe

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


# Editors' Markdown sits under a page's <h2> section headings, on the page
# (models.RenderedMarkdown) and in the admin's preview (admin_forms.py) alike.
MARKDOWN_TOP_HEADING = 3


def render_markdown(text, top=MARKDOWN_TOP_HEADING):
    """Markdown to sanitised HTML.

    The text's own top heading level becomes `top` and the rest follow it down
    (never past <h4>), so an editor's "##" or "###" both sit right under the
    page's heading and the outline never skips a level.
    """
    html = markdown_lib.markdown(text, extensions=["tables", "sane_lists"])
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
