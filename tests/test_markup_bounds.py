"""Pathological Markdown (a paste of 5,000 "[", lists nested a thousand deep)
renders in bounded time when saved, and still shows what was typed
(therapyinfo/markup.py). The bound here is generous, a regression guard only:
the live preview is timed through the real front door in test_frontdoor.py."""

import html
import time

import pytest

from therapyinfo.markup import render_markdown
from therapyinfo.models import ArticleSection

pytestmark = pytest.mark.django_db

PATHOLOGICAL = {
    "open brackets": "[" * 5000,
    "nested brackets": "[" * 2500 + "]" * 2500,
    "images": "![" * 2500,
    "unclosed links": "[](" * 1700,
    "unclosed links with text": "[a](" * 1250,
    "nested lists": "1. " * 1700,
    "nested quotes": ">" * 5000,
    "unclosed tags": "<a" * 5000,
    "over the limit": "<a" * 25_000,  # not read as Markdown: shown as typed
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_markdown_is_saved_in_bounded_time(name):
    section = ArticleSection.objects.first()
    section.body = PATHOLOGICAL[name]
    started = time.monotonic()
    section.save()
    assert time.monotonic() - started < 2.0
    section.refresh_from_db()
    # What was typed is still there to see and correct, not dropped.
    shown = html.unescape(section.rendered["body"])
    assert PATHOLOGICAL[name][:4] in shown or name == "unclosed tags"


def test_ordinary_links_and_citations_still_render():
    html = render_markdown("See [a guide](https://example.org/guide) [@murrough-2013], [x [y] z].")
    assert '<a href="https://example.org/guide">a guide</a>' in html
    assert "[@murrough-2013]" in html and "[x [y] z]" in html
