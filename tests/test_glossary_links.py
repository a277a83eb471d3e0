"""Glossary terms in running text: the first use of each on a page explains
itself in place (a popover that needs no script) and links on to its
definition; later uses, headings, links and code are left alone."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from therapyinfo.models import Article, GlossaryTerm
from therapyinfo.templatetags.content import GlossaryLinker, term_spellings


def term_links(html):
    """(slug, words) for each explained term, checking each opens its own
    definition with a link to the glossary."""
    found = re.findall(
        r'<button type="button" class="term" popovertarget="term-([a-z0-9-]+)">([^<]+)</button>'
        r'<span class="term__popover" id="term-\1" popover><strong>[^<]+</strong>: [^<]+'
        r'<a href="/glossary/#\1">More in the glossary</a>',
        html,
    )
    assert len(found) == html.count('class="term"'), "a term without its definition"
    return found


def test_spellings_cover_brackets_and_pairs():
    assert term_spellings("Serotonin 2A (5-HT2A) receptor") == {
        "Serotonin 2A (5-HT2A) receptor",
        "Serotonin 2A receptor",
        "5-HT2A receptor",
    }
    assert "remission" in term_spellings("Response and remission")


def test_only_the_first_use_is_linked_and_never_inside_links_or_headings():
    terms = [GlossaryTerm(slug="placebo", term="Placebo"), GlossaryTerm(slug="ect", term="ECT")]
    linker = GlossaryLinker(terms)
    first = linker.link('<h3>Placebo</h3><p><a href="/x">a placebo</a> <code>ECT</code></p>')
    assert term_links(first) == []
    second = linker.link("<p>Placebos and placebo. ECT, then ECT.</p>")
    assert term_links(second) == [("placebo", "Placebos"), ("ect", "ECT")]
    # A later section of the same page does not link them again.
    assert term_links(linker.link("<p>placebo and ECT</p>")) == []


def test_words_inside_other_words_are_not_linked():
    linker = GlossaryLinker([GlossaryTerm(slug="ect", term="ECT")])
    assert term_links(linker.link("<p>direct effects, ECT-like</p>")) == []


@pytest.mark.django_db
def test_article_links_each_term_once_to_the_glossary(client):
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    html = client.get(article.get_absolute_url()).content.decode()
    links = term_links(html)
    slugs = [slug for slug, _ in links]
    assert {"nmda-receptor", "infusion", "dissociation"} <= set(slugs)
    assert len(slugs) == len(set(slugs))  # first use only
    glossary = client.get("/glossary/").content.decode()
    for slug in slugs:
        assert f'id="{slug}"' in glossary  # every link lands on a definition


@pytest.mark.django_db
def test_psilocybin_page_links_the_bracketed_receptor_term(client):
    html = client.get("/therapies/psilocybin/").content.decode()
    assert ("serotonin-2a-receptor", "serotonin 2A receptor") in term_links(html)


@pytest.mark.django_db
def test_glossary_terms_are_read_once_per_content_version_not_per_page(client):
    urls = ["/articles/ketamine-infusion-therapy/", "/therapies/ketamine/", "/therapies/lsd/"]
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            assert client.get(url).status_code == 200
    assert sum("therapyinfo_glossaryterm" in q["sql"] for q in queries) == 1
