"""Every public page: its status, its key content, and what visitors must always find."""

import json
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
    urls = ["/", "/therapies/", "/articles/", "/compare/", "/glossary/", "/sources/", "/about/"]
    urls += ["/updates/"]
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
            # The text up to its first citation, which becomes a numbered link.
            assert escape(cell.text.split(" [@")[0]) in html


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
        ("?therapies=ketamine,heroin", "not a therapy this comparison has"),
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


def test_articles_page_lists_every_published_article_with_its_summary(client):
    html = client.get("/articles/").content.decode()
    articles = list(Article.objects.published())
    assert len(articles) >= 5
    for article in articles:
        assert f'<a href="{article.get_absolute_url()}">{escape(article.title)}</a>' in html
        assert escape(article.summary) in html
    # The menu's "Articles" goes here, and says so on this page.
    assert '<a href="/articles/" aria-current="page">Articles</a>' in html
    assert '<a href="/articles/">Articles</a>' in client.get("/").content.decode()


def test_home_says_where_to_start_and_tells_guides_from_articles(client):
    html = client.get("/").content.decode()
    start = html[html.index('id="start-heading"') :]
    start = start[: start.index("</section>")]
    assert "New to these treatments?" in start
    assert '<a href="/compare/ketamine-vs-psychedelics/">' in start
    assert "side by side on one page" in start  # why start there
    # The ketamine guide and the ketamine article no longer look alike.
    assert html.count("Treatment guide ·") == Therapy.objects.published().count()
    assert html.count('<p class="card__meta">Article</p>') == Article.objects.published().count()


def json_ld(html):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html)[1])


def test_a_chosen_pair_names_only_those_two_in_heading_title_intro_and_json_ld(client):
    html = client.get("/compare/?therapies=ketamine,psilocybin").content.decode()
    title = re.search(r"<title>(.*?)</title>", html)[1]
    heading = re.search(r"<h1>(.*?)</h1>", html)[1]
    lede = re.search(r'<p class="lede">(.*?)</p>', html)[1]
    assert title == "Ketamine and psilocybin compared | Therapy Info"
    assert heading == "Ketamine and psilocybin compared"
    assert "puts ketamine and psilocybin side by side" in lede
    assert json_ld(html)["name"] == "Ketamine and psilocybin compared"
    assert "Ketamine and psilocybin" in json_ld(html)["description"]
    assert [item["name"] for item in json_ld(html)["about"]] == [
        "Ketamine infusion therapy",
        "Psilocybin therapy",
    ]
    for text in (title, heading, lede, json.dumps(json_ld(html))):
        assert "LSD" not in text
    # Everything chosen: the comparison's own title.
    full = client.get("/compare/").content.decode()
    assert re.search(r"<h1>(.*?)</h1>", full)[1] == "Ketamine, psilocybin and LSD compared"


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("KETAMINE,Psilocybin", "ketamine,psilocybin"),
        ("LSD,ketamine", "lsd,ketamine"),
        (" ketamine , lsd ", "ketamine,lsd"),
    ],
)
def test_therapy_names_in_the_query_are_case_insensitive_and_redirect(client, query, canonical):
    response = client.get("/compare/", {"therapies": query, "utm_source": "x"})
    assert response.status_code == 301
    assert response["Location"] == f"/compare/?therapies={canonical}&utm_source=x"
    assert client.get(response["Location"]).status_code == 200


def test_the_selection_error_page_offers_links_for_valid_choices(client):
    response = client.get("/compare/?therapies=ketamine,heroin")
    assert response.status_code == 400
    html = response.content.decode()
    links = re.findall(r'<a href="/compare/ketamine-vs-psychedelics/(\?therapies=[\w,]+)?">', html)
    assert set(links) == {"", "?therapies=ketamine,psilocybin", "?therapies=ketamine,lsd",
                          "?therapies=psilocybin,lsd"}  # fmt: skip
    for query in links:
        assert client.get("/compare/ketamine-vs-psychedelics/" + query).status_code == 200


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


def test_about_says_who_publishes_funds_reviews_and_how_to_contact(client, settings):
    settings.REVIEW_INTERVAL_MONTHS = 12
    settings.SITE_PUBLISHER = settings.SITE_CONTACT_EMAIL = ""
    html = client.get("/about/").content.decode()
    headings = re.findall(r"<h2 id=\"[\w-]+\">([^<]+)</h2>", html)
    for heading in ("Who publishes it", "How it is funded", "Who writes and reviews it",
                    "How to contact us"):  # fmt: skip
        assert heading in headings
    assert "It is a website, not a clinic." in html
    assert "This site has no funding on record." in html
    assert "A clinical reviewer then checks each page against its sources." in html
    assert "at least every 12 months" in html
    # Nothing made up while unset (tests/test_trust.py sets them): it says so plainly.
    assert "The publisher's name has not been set." in html
    assert "The contact address has not been set" in html
    assert "mailto:" not in html and "@" not in html.split("<main")[1].split("</main>")[0]


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
    assert "admin" not in text  # the private path is not published


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


def test_a_therapy_page_explains_each_mechanism_in_full(client):
    ketamine = Therapy.objects.get(slug="ketamine")
    html = client.get(ketamine.get_absolute_url()).content.decode()
    for mechanism in ketamine.mechanisms.all():
        first_sentence = mechanism.detail.split("\n")[0].split(". ")[0]
        assert first_sentence in html, mechanism.slug


def test_only_pages_with_a_status_can_be_asked_for_published_records():
    for model in (Therapy, Article, Comparison):
        assert model.objects.published().exists()
    for model in (Source, GlossaryTerm, CrisisResource):
        with pytest.raises(AttributeError):
            model.objects.published()
