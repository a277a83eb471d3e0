"""Item 1 of the performance issue: a public page costs a fixed, small number of
queries, however much content it shows.

Counted in a process that already knows the content
version and the crisis lines (each read once per second / once per edit, not
once per page; `test_version_and_crisis_lines_are_read_once_not_per_page`
checks that)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from therapyinfo.cache import bump_content_version, version_clock
from therapyinfo.models import (
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    ComparisonRow,
    Frequency,
    Severity,
    SideEffect,
    Source,
    Therapy,
    TherapySideEffect,
)
from therapyinfo.templatetags.content import site_glossary_index

pytestmark = pytest.mark.django_db

MAX_QUERIES = 6

# Every kind of public page, by a representative URL.
PAGES = [
    "/",
    "/compare/",
    "/compare/ketamine-vs-psychedelics/",
    "/compare/?therapies=lsd,ketamine",
    "/therapies/ketamine/",
    "/articles/",
    "/articles/ketamine-infusion-therapy/",
    "/glossary/",
    "/sources/",
    "/about/",
    "/sitemap.xml",
    "/robots.txt",
]


@pytest.fixture(autouse=True)
def version_clock_stands_still(monkeypatch):
    """However slow the machine, these tests run within one version-clock tick."""
    monkeypatch.setattr(version_clock, "monotonic", lambda: 0.0)


def count_uncached_queries(client, url):
    # Warm what is read once per content version, not per page: the version
    # itself, the crisis lines and the glossary (tested in test_glossary_links).
    client.get("/about/")
    site_glossary_index()
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def grow_content_tenfold():
    """Nine more of every side effect, comparison row (with cells), article
    section and source, for each page that lists them."""
    therapies = list(Therapy.objects.all())
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    side_effects = SideEffect.objects.count()
    rows = comparison.rows.count()
    sections = article.sections.count()
    sources = Source.objects.count()

    new_side_effects = SideEffect.objects.bulk_create(
        SideEffect(
            slug=f"extra-effect-{n}", name=f"Extra effect {n}", position=100 + n, summary="x"
        )
        for n in range(9 * side_effects)
    )
    TherapySideEffect.objects.bulk_create(
        TherapySideEffect(
            therapy=therapy,
            side_effect=effect,
            frequency=Frequency.RARE,
            severity=Severity.MILD,
            how_long="A day",
        )
        for therapy in therapies
        for effect in new_side_effects
    )
    new_rows = ComparisonRow.objects.bulk_create(
        ComparisonRow(comparison=comparison, slug=f"extra-{n}", aspect=f"Extra {n}", position=100)
        for n in range(9 * rows)
    )
    ComparisonCell.objects.bulk_create(
        ComparisonCell(row=row, therapy=therapy, text="More text")
        for row in new_rows
        for therapy in therapies
    )
    ArticleSection.objects.bulk_create(
        ArticleSection(article=article, anchor=f"extra-{n}", heading=f"Extra {n}", body="Text.")
        for n in range(9 * sections)
    )
    new_sources = Source.objects.bulk_create(
        Source(slug=f"extra-{n}", authors="Doe J", title=f"Extra {n}", year=2020, finding="x")
        for n in range(9 * sources)
    )
    article.sources.add(*new_sources)
    for therapy in therapies:
        therapy.sources.add(*new_sources)


def test_every_public_page_needs_few_queries_and_the_same_number_with_ten_times_the_content(
    client,
):
    before = {url: count_uncached_queries(client, url) for url in PAGES}
    for url, count in before.items():
        assert count <= MAX_QUERIES, (url, count)

    grow_content_tenfold()
    bump_content_version()  # bulk writes send no signals: say content changed (README)
    html = client.get("/compare/").content.decode()
    assert "Extra effect 1" in html and "Extra 1" in html  # the new content is on the page

    after = {url: count_uncached_queries(client, url) for url in PAGES}
    assert after == before


def test_version_and_crisis_lines_are_read_once_not_per_page(client):
    with CaptureQueriesContext(connection) as queries:
        for url in PAGES:
            client.get(url)
    sql = [query["sql"] for query in queries]
    assert sum("therapyinfo_contentversion" in s for s in sql) == 1
    assert sum("therapyinfo_crisisresource" in s for s in sql) == 1


def test_the_comparison_costs_the_same_queries_for_any_selection_and_an_edit_shows_at_once(
    client,
):
    def comparison_queries(url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    client.get("/about/")  # the version and crisis lines, read once per version anyway
    count, _ = comparison_queries("/compare/")
    assert count <= 6
    assert comparison_queries("/compare/?therapies=ketamine,lsd")[0] == count
    cell = ComparisonCell.objects.get(row__slug="onset", therapy__slug="ketamine")
    cell.text = "Edited a moment ago."
    cell.save()  # bumps the content version
    assert "Edited a moment ago." in comparison_queries("/compare/")[1]
