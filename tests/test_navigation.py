"""Finding the treatments (issue 22): the guides in the main menu of every page,
a /therapies/ page listing them, and a guide and its background article that
say which is which."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from therapyinfo.models import Article, Status, Therapy

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=60, stale-while-revalidate=300"


def main_menu(html):
    return re.search(r'<nav class="site-nav" aria-label="Main">.*?</nav>', html, re.S)[0]


@pytest.mark.parametrize(
    "url", ["/", "/therapies/", "/compare/", "/about/", "/articles/safety-and-side-effects/"]
)
def test_the_main_menu_links_to_the_guides_and_every_guide(client, url):
    menu = main_menu(client.get(url).content.decode())
    assert 'href="/therapies/"' in menu
    for therapy in Therapy.objects.published():
        assert f'href="{therapy.get_absolute_url()}"' in menu, therapy.slug


def test_the_menu_marks_the_guide_being_read(client):
    menu = main_menu(client.get("/therapies/lsd/").content.decode())
    assert '<a href="/therapies/lsd/" aria-current="page">LSD</a>' in menu
    assert 'href="/therapies/ketamine/" aria-current' not in menu


def test_therapies_page_lists_each_published_guide_with_its_summary(client):
    response = client.get(reverse("therapies"))
    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    main = html.split('<main id="main"')[1].split("</main>")[0]
    for therapy in Therapy.objects.published():
        assert f'href="{therapy.get_absolute_url()}"' in main
        assert escape(therapy.name) in main
        assert escape(therapy.summary) in main


def test_a_draft_guide_is_neither_listed_nor_in_the_menu(client):
    Therapy.objects.filter(slug="lsd").update(status=Status.DRAFT)
    html = client.get("/therapies/").content.decode()
    assert "/therapies/lsd/" not in html
    assert "/therapies/ketamine/" in html


def test_therapies_page_is_a_public_cached_page_in_the_sitemap(client):
    response = client.get("/therapies/")
    assert response["Cache-Control"] == PUBLIC
    assert "<loc>http://testserver/therapies/</loc>" in client.get("/sitemap.xml").content.decode()


def test_therapies_page_refuses_a_post_plainly(client):
    assert client.post("/therapies/", {"x": "1"}).status_code == 405


def test_the_ketamine_guide_and_article_say_which_to_read(client):
    guide = Therapy.objects.get(slug="ketamine")
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    guide_html = client.get(guide.get_absolute_url()).content.decode()
    article_html = client.get(article.get_absolute_url()).content.decode()

    guide_note = re.search(r'<p class="page-role">(.*?)</p>', guide_html, re.S)[1]
    assert "This is the treatment guide" in guide_note
    assert f'href="{article.get_absolute_url()}"' in guide_note
    article_note = re.search(r'<p class="page-role">(.*?)</p>', article_html, re.S)[1]
    assert "background reading" in article_note
    assert f'href="{guide.get_absolute_url()}"' in article_note
    # Near the top of each, before the first section.
    assert guide_html.index('class="page-role"') < guide_html.index('class="contents"')
    assert article_html.index('class="page-role"') < article_html.index('class="contents"')
    # Nothing was lost: the article keeps every one of its sections.
    for section in article.sections.all():
        assert f'id="{section.anchor}"' in article_html


def test_articles_about_several_treatments_are_not_called_background_of_one(client):
    lsd_html = client.get("/therapies/lsd/").content.decode()
    assert 'class="page-role"' not in lsd_html  # every LSD article covers all three
    article = Article.objects.get(slug="safety-and-side-effects")
    assert 'class="page-role"' not in client.get(article.get_absolute_url()).content.decode()
