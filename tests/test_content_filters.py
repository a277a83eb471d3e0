"""Editors' Markdown reaches visitors only through the `markdown` and `cite`
filters: formatting survives, anything that could run code does not."""

import pytest

from therapyinfo.markup import render_markdown
from therapyinfo.models import Source
from therapyinfo.templatetags.content import cite


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_dangerous_markup_never_reaches_the_page(dangerous):
    html = str(render_markdown(f"Before.\n\n{dangerous}\n\nAfter."))
    lowered = html.lower()
    assert "<script" not in lowered
    assert "onerror" not in lowered
    assert "javascript:" not in lowered
    assert "data:" not in lowered
    assert "style=" not in lowered
    assert "After." in html


def test_headings_lists_links_emphasis_and_tables_survive():
    text = (
        "## Heading\n\n- one\n- two\n\n*soft* **strong** [NHS](https://www.nhs.uk)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    html = str(render_markdown(text))
    for tag in ("<h3>", "<li>one</li>", "<em>soft</em>", "<strong>strong</strong>",
                '<a href="https://www.nhs.uk">NHS</a>', "<table>", "<td>1</td>"):  # fmt: skip
        assert tag in html


def test_citations_become_numbered_links_to_the_sources_list():
    sources = [Source(slug="anand-2023"), Source(slug="murrough-2013")]
    html = cite(render_markdown("Relapse came after 18 days [@murrough-2013]."), sources)
    assert '<a href="#source-2" class="cite">[2]</a>' in html
    assert "[@" not in html


def test_markdown_headings_start_under_the_page_heading_without_skipping():
    html = str(render_markdown("### What it is\n\nText.\n\n#### Detail\n\nMore."))
    assert "<h3>What it is</h3>" in html and "<h4>Detail</h4>" in html
    assert "<h3>Title</h3>" in str(render_markdown("# Title\n\n## Part"))
    assert "<h2>" in str(render_markdown("# Title\n\n## Part", top=2))
