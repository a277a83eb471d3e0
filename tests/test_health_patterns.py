"""Patterns from health sites: a short note near the top of pages that talk
about suicide or crisis, linking to the footer's crisis lines on every page."""

import re

import pytest
from django.utils.html import escape

from therapyinfo.models import Article, CrisisResource, Source, Therapy, TherapySideEffect

pytestmark = pytest.mark.django_db


def top_box(html):
    match = re.search(r'<div class="help-note" id="help-now">.*?</div>', html, re.S)
    return match[0] if match else None


def test_pages_that_mention_suicide_show_a_short_note_before_the_content(client):
    html = client.get("/therapies/ketamine/").content.decode()
    note = top_box(html)
    assert note and "Thinking about suicide?" in note
    # One line that leads to the crisis lines, not a second list of them.
    assert 'href="#get-help"' in note
    assert "tel:" not in note and len(re.sub(r"<[^>]+>", "", note).split()) < 20
    # Near the top: before the contents list and the first section.
    assert html.index('id="help-now"') < html.index('class="contents"')
    # The footer box lists every line, once.
    assert html.count('id="get-help"') == 1
    footer = html.split('id="get-help"')[1]
    for resource in CrisisResource.objects.all():
        assert escape(resource.name) in footer


def test_pages_that_do_not_mention_it_keep_the_box_in_the_footer_only(client):
    # Some sources' findings name suicide (Goodwin 2022's trial, the Spravato
    # label), so a page listing them mentions it; without them this article does not.
    article = Article.objects.get(slug="history-of-psychedelic-research")
    article.sources.remove(*Source.objects.filter(finding__icontains="suicid"))
    html = client.get(article.get_absolute_url()).content.decode()
    assert "suicid" not in html.split('<footer class="site-footer">')[0].lower()
    assert top_box(html) is None
    assert 'id="get-help"' in html


def test_an_edit_that_mentions_suicide_brings_the_box_up(client):
    lsd = Therapy.objects.get(slug="lsd")
    # Its anxiety row points to the crisis lines; with that row quiet, nothing on
    # the page talks about crisis.
    TherapySideEffect.objects.filter(therapy=lsd, side_effect__slug="anxiety-fear").update(
        when_to_get_help="If fear or panic goes on after the session, contact the team."
    )
    assert top_box(client.get(lsd.get_absolute_url()).content.decode()) is None
    lsd.body += "\n\nIf you have thoughts of suicide, tell your doctor."
    lsd.save()
    assert top_box(client.get(lsd.get_absolute_url()).content.decode())


def test_article_sections_are_read_for_crisis_words(client):
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    assert any("suicid" in section.body.lower() for section in article.sections.all())
    assert top_box(client.get(article.get_absolute_url()).content.decode())


def test_the_error_pages_fall_back_to_the_same_box_with_tap_links_and_no_database(
    django_assert_num_queries,
):
    from django.template import loader

    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()
    box = html.split('id="get-help"')[1].split("</section>")[0]
    for link in ("tel:988", "sms:988", "tel:116123", "tel:131114", "sms:0477131114"):
        assert f'href="{link}"' in box
    for emergency in ("911", "999", "112", "000"):
        assert f'href="tel:{emergency}"' in box
