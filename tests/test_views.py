"""Every public page: its status, its key content, and what visitors must always find."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from therapyinfo.models import (
    Article,
    Comparison,
    ComparisonRow,
    CrisisResource,
    GlossaryTerm,
    Source,
    Status,
    Therapy,
    TherapySideEffect,
)

pytestmark = pytest.mark.django_db


def public_urls():
    urls = ["/", "/compare/", "/glossary/", "/sources/", "/about/", "/updates/"]
    urls += [t.get_absolute_url() for t in Therapy.objects.published()]
    urls += [a.get_absolute_url() for a in Article.objects.published()]
    urls += [c.get_absolute_url() for c in Comparison.objects.published()]
    return urls


def test_every_public_page_has_one_h1_crisis_help_and_the_disclaimer(client):
    crisis = list(CrisisResource.objects.all())
    for url in public_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert len(re.findall(r"<h1[\s>]", html)) == 1, url
        assert 'href="#get-help"' in html, url
        for resource in crisis:
            assert escape(resource.name) in html, (url, resource.name)
        assert "not medical advice" in html, url


def test_home_lists_every_published_therapy_article_and_the_comparison(client):
    html = client.get("/").content.decode()
    for therapy in Therapy.objects.published():
        assert therapy.get_absolute_url() in html
    for article in Article.objects.published():
        assert escape(article.title) in html
    assert reverse("comparison", args=["ketamine-vs-psychedelics"]) in html


def test_article_page_shows_contents_sections_sources_and_review_dates(client):
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    html = client.get(article.get_absolute_url()).content.decode()
    for section in article.sections.all():
        assert f'href="#{section.anchor}"' in html
        assert f'id="{section.anchor}"' in html
    for source in article.sources.all():
        assert escape(source.title) in html
    assert "last reviewed" in html.lower()
    assert "next review due" in html.lower()


def test_therapy_page_shows_side_effects_mechanisms_and_legal_status_date(client, ketamine):
    html = client.get(ketamine.get_absolute_url()).content.decode()
    assert escape(ketamine.name) in html
    for entry in TherapySideEffect.objects.filter(therapy=ketamine).select_related("side_effect"):
        assert escape(entry.side_effect.name) in html
    for mechanism in ketamine.mechanisms.all():
        assert escape(mechanism.name) in html
    assert "As of" in html
    for question in ketamine.question_list:
        assert escape(question) in html


def test_comparison_columns_and_rows_come_from_the_data(client):
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    html = client.get(comparison.get_absolute_url()).content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, re.S)
    names = [re.sub(r"<[^>]+>", "", h).strip() for h in headers]
    for therapy in comparison.therapies.all():
        assert therapy.name in names
    for row in comparison.rows.all():
        assert row.aspect in html
        for cell in row.cells.all():
            assert escape(cell.text.splitlines()[0]) in html


def test_compare_without_slug_shows_the_main_comparison(client):
    response = client.get("/compare/")
    assert response.status_code == 200
    assert escape(Comparison.objects.get(slug="ketamine-vs-psychedelics").title) in response.text


def test_comparison_side_effects_are_compared_row_by_row(client):
    html = client.get("/compare/").content.decode()
    for entry in TherapySideEffect.objects.select_related("side_effect"):
        assert escape(entry.side_effect.name) in html


def test_editing_a_cell_shows_on_the_next_load(client):
    row = ComparisonRow.objects.get(comparison__slug="ketamine-vs-psychedelics", slug="onset")
    cell = row.cells.get(therapy__slug="ketamine")
    cell.text = "Edited: relief within a few hours for many people."
    cell.save()
    assert cell.text in client.get("/compare/").content.decode()


def column_headers(html):
    return re.findall(r'<th scope="col"[^>]*>\s*<a href="/therapies/([\w-]+)/', html)


def test_query_string_picks_the_columns_in_the_order_asked(client):
    response = client.get("/compare/?therapies=lsd,ketamine")
    assert response.status_code == 200
    headers = column_headers(response.content.decode())
    assert headers[:2] == ["lsd", "ketamine"]
    assert "psilocybin" not in headers


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?therapies=ketamine,heroin", "no therapy called &#x27;heroin&#x27;"),
        ("?therapies=ketamine,ketamine", "listed more than once"),
        ("?therapies=ketamine,,lsd", "empty name"),
        ("?therapies=", "empty name"),
        ("?therapies=ketamine,lsd,psilocybin,a,b", "at most 4"),
        ("?therapies=ketamine", "at least 2"),
    ],
)
def test_bad_selection_gets_a_400_that_explains(client, query, message):
    response = client.get("/compare/" + query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "/compare/ketamine-vs-psychedelics/?therapies=" in response.content.decode()


def test_unknown_slugs_get_the_sites_own_404(client):
    for url in ["/therapies/heroin/", "/articles/nope/", "/compare/nope/", "/nothing-here/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "get-help" in response.content.decode()
        assert "Page not found" in response.content.decode()


def test_drafts_are_hidden_everywhere(client, draft_therapy):
    assert client.get(draft_therapy.get_absolute_url()).status_code == 404
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    comparison.therapies.add(draft_therapy)
    for url in ["/", "/compare/", reverse("sitemap")]:
        assert draft_therapy.name not in client.get(url).content.decode()
        assert draft_therapy.get_absolute_url() not in client.get(url).content.decode()
    assert client.get("/compare/?therapies=ketamine,secret-draft").status_code == 400


def test_a_draft_article_is_not_found(client):
    article = Article.objects.first()
    article.status = Status.IN_REVIEW
    article.save()
    assert client.get(article.get_absolute_url()).status_code == 404
    assert escape(article.title) not in client.get("/").content.decode()


def test_glossary_explains_the_key_terms(client):
    html = client.get("/glossary/").content.decode()
    for term in GlossaryTerm.objects.all():
        assert f'id="{term.slug}"' in html
    for word in ("NMDA", "Neuroplasticity", "Dissociation"):
        assert word.lower() in html.lower()


def test_sources_link_out_by_doi(client):
    html = client.get("/sources/").content.decode()
    for source in Source.objects.exclude(doi=""):
        assert f"https://doi.org/{source.doi}" in html


def test_about_has_the_disclaimer(client):
    html = client.get("/about/").content.decode()
    assert "not medical advice" in html


def test_sitemap_lists_published_pages_with_lastmod(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    for therapy in Therapy.objects.published():
        assert therapy.get_absolute_url() in xml
    assert "<lastmod>" in xml


def test_robots_points_to_the_sitemap_and_keeps_crawlers_out_of_admin(client):
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_posting_to_a_page_is_refused_not_crashed(client):
    assert client.post("/compare/", {"therapies": "ketamine"}).status_code == 405


def test_server_error_page_needs_no_database_and_shows_crisis_numbers(rf):
    from therapyinfo.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    for number in ("988", "116 123", "999", "112"):
        assert number in html


def test_public_pages_do_not_vary_on_cookies(client):
    """A visitor without a session gets a page a CDN can share with everyone."""
    for url in public_urls():
        response = client.get(url)
        assert "Cookie" not in response.get("Vary", ""), url
