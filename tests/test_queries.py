"""A public page costs a fixed, small number of queries, however much content
it shows: with every cache empty (right after a publish), and fewer still
when the content cache holds what it shows (cache.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from therapyinfo.cache import bump_content_version
from therapyinfo.models import (
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    ComparisonRow,
    Frequency,
    Outcome,
    Severity,
    SideEffect,
    Source,
    Therapy,
    TherapySideEffect,
)

pytestmark = pytest.mark.django_db

# Cold, the therapy page reads the most: the therapy with its mechanisms,
# sources, side effects, outcomes, articles and comparisons, plus the menu,
# the crisis lines and the glossary.
MAX_QUERIES = 12
MAX_WARM_QUERIES = 6

# Every kind of public page, by a representative URL.
PAGES = [
    "/",
    "/compare/",
    "/compare/ketamine-vs-psychedelics/",
    "/compare/?therapies=lsd,ketamine",
    "/therapies/",
    "/therapies/ketamine/",
    "/articles/",
    "/articles/ketamine-infusion-therapy/",
    "/glossary/",
    "/sources/",
    "/about/",
    "/sitemap.xml",
    "/robots.txt",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def cold_and_warm_queries(client, clear_caches, url):
    """Queries for `url` with every cache empty, then again with them filled."""
    clear_caches()
    return count_queries(client, url), count_queries(client, url)


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
    outcome = Outcome.objects.filter(therapy__slug="ketamine").first()
    Outcome.objects.bulk_create(
        Outcome(
            **{
                field.attname: getattr(outcome, field.attname)
                for field in Outcome._meta.concrete_fields
                if not field.primary_key
            }
            | {"slug": f"extra-outcome-{n}", "trial": f"Extra trial {n}"}
        )
        for n in range(9 * Outcome.objects.filter(therapy__slug="ketamine").count())
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
    client, clear_caches
):
    before = {url: cold_and_warm_queries(client, clear_caches, url) for url in PAGES}
    for url, (cold, warm) in before.items():
        assert cold <= MAX_QUERIES, (url, cold)
        assert warm <= MAX_WARM_QUERIES, (url, warm)

    grow_content_tenfold()
    bump_content_version()  # bulk writes send no signals: say content changed (docs/caching.md)
    html = client.get("/compare/").content.decode()
    assert "Extra effect 1" in html and "Extra 1" in html  # the new content is on the page
    assert "Extra trial 1" in client.get("/therapies/ketamine/").content.decode()

    after = {url: cold_and_warm_queries(client, clear_caches, url) for url in PAGES}
    assert after == before


def test_the_version_is_read_once_per_page_and_the_crisis_lines_once_per_version(client):
    for url in PAGES:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        versions = sum("therapyinfo_contentversion" in query["sql"] for query in queries)
        assert versions <= 1, url
    with CaptureQueriesContext(connection) as queries:
        for url in PAGES:
            client.get(url)
    assert not any("therapyinfo_crisisresource" in query["sql"] for query in queries)


def test_a_cached_detail_page_reads_only_the_version_and_an_edit_shows_at_once(client):
    for url in ["/compare/", "/compare/?therapies=ketamine,lsd", "/therapies/ketamine/"]:
        client.get(url)
        assert count_queries(client, url) == 1, url  # the content version, nothing else
    # A query string the view does not read is the same page.
    assert count_queries(client, "/compare/?utm_source=x") == 1
    cell = ComparisonCell.objects.get(row__slug="onset", therapy__slug="ketamine")
    cell.text = "Edited a moment ago."
    cell.save()  # bumps the content version
    assert "Edited a moment ago." in client.get("/compare/").content.decode()
    ketamine = Therapy.objects.get(slug="ketamine")
    ketamine.summary = "A summary edited a moment ago."
    ketamine.save()
    assert "A summary edited a moment ago." in client.get("/therapies/ketamine/").content.decode()
