"""Each therapy page fits in at most 12 phone screens (375 x 667 px) in Debian's
Chromium: one section per part of THERAPY_PARTS, key facts and who should not
have it open, long detail folded in <details>."""

import os

import pytest
from django.core.management import call_command

from tests.browser_support import launched_chromium
from therapyinfo.models import THERAPY_PARTS, Therapy

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)

SCREEN = {"width": 375, "height": 667}
MAX_SCREENS = 12


@pytest.fixture
def site(live_server, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)
    return live_server.url


def test_each_therapy_page_is_at_most_12_screens_tall_on_a_phone(site):
    heights = {}
    with launched_chromium() as browser:
        page = browser.new_page(viewport=SCREEN)
        for therapy in Therapy.objects.published():
            page.goto(site + therapy.get_absolute_url())
            heights[therapy.slug] = page.evaluate("document.documentElement.scrollHeight")
            # Folded, not gone: every part's heading is on the page, in order.
            headings = page.locator("article section > h2[id]").all_inner_texts()
            assert headings[: len(THERAPY_PARTS)] == [part.title for part in THERAPY_PARTS]
            # Key facts and who should not have it are open: read without a tap.
            assert page.locator("#key-facts ~ ul").first.is_visible()
            assert page.locator("section[aria-labelledby=who-for] p").first.is_visible()
    assert len(heights) == 3
    too_tall = {
        slug: f"{height / SCREEN['height']:.1f} screens"
        for slug, height in heights.items()
        if height > MAX_SCREENS * SCREEN["height"]
    }
    assert too_tall == {}


def test_folded_answers_open_and_a_citation_opens_the_sources(site):
    with launched_chromium() as browser:
        page = browser.new_page(viewport=SCREEN)
        page.goto(site + "/therapies/ketamine/")
        # Driving is open; the detail of long-term use folds under its heading.
        driving = page.locator("section[aria-labelledby=driving]")
        assert driving.get_by_text("until the next day, after a restful sleep").is_visible()
        long_term = page.locator("section[aria-labelledby=long-term]")
        answer = long_term.get_by_text("less likely to relapse")
        assert not answer.is_visible()
        long_term.locator("summary").first.click()
        assert answer.is_visible()
        # Following a numbered citation opens the folded source list at that entry.
        page.locator("section[aria-labelledby=key-facts] a.cite").first.click()
        assert page.locator("#source-1").is_visible()
