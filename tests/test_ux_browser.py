"""What a worried patient meets first, in Debian's Chromium at 320, 375 and
1280 px (issue 22): the crisis lines one tap away in a footer block no taller
than one phone screen, and no sideways scrolling."""

import os
import re

import pytest
from django.core.management import call_command

from tests.browser_support import launched_chromium
from therapyinfo.models import CrisisResource, Therapy

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 667}
WIDTHS = [320, 375, 1280]

# Every piece of text in the crisis block that holds a digit, with the link it
# sits in, if any; the services' names ("988 Suicide & Crisis Lifeline") and
# their folded descriptions aside.
NUMBERS_IN_BOX = """() => {
  const box = document.getElementById("get-help");
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!/\\d/.test(node.data)) continue;
    if (node.parentElement.closest("details, .crisis-list__name, .visually-hidden")) continue;
    const link = node.parentElement.closest("a");
    found.push({text: node.data.trim(), href: link ? link.getAttribute("href") : null});
  }
  return found;
}"""


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def site(live_server, settings):
    # live_server serves the plain (not fingerprinted) static files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)
    return live_server.url


def pages_to_check():
    therapy = Therapy.objects.get(slug="ketamine").get_absolute_url()
    return ["/", "/therapies/", "/updates/", therapy, "/compare/"]


def test_the_footer_crisis_block_fits_one_phone_screen_with_every_number_a_tap_link(browser, site):
    page = browser.new_page(viewport=PHONE)
    for path in pages_to_check():
        page.goto(site + path)
        box = page.locator("#get-help")
        height = box.bounding_box()["height"]
        assert height <= PHONE["height"], f"{path}: {height / PHONE['height']:.2f} screens"
        numbers = page.evaluate(NUMBERS_IN_BOX)
        assert numbers, path
        for number in numbers:
            assert number["href"], f"{path}: {number['text']!r} is not a link"
            scheme, target = number["href"].split(":", 1)
            assert scheme in ("tel", "sms"), number
            assert re.sub(r"\D", "", number["text"]) == target, number
    page.close()


def test_every_crisis_number_is_on_screen_without_opening_anything(browser, site):
    page = browser.new_page(viewport=PHONE)
    page.goto(site + "/updates/")
    box = page.locator("#get-help")
    for resource in CrisisResource.objects.all():
        for scheme, number in (("tel", resource.phone), ("sms", resource.text)):
            if number:
                link = box.locator(f'a[href="{scheme}:{re.sub(r"[^0-9+]", "", number)}"]')
                assert link.count() == 1 and link.is_visible(), (resource.name, number)
    # The descriptions of each service are folded, one tap away.
    description = box.get_by_text("choose the mental health option")
    assert not description.is_visible()
    box.locator("summary", has_text="About these services").click()
    assert description.is_visible()
    # The header's button still leads here.
    page.goto(site + "/")
    page.get_by_role("link", name="Get help now").click()
    assert page.evaluate("location.hash") == "#get-help"
    page.close()


def test_the_australian_and_english_lines_are_listed(browser, site):
    page = browser.new_page(viewport=PHONE)
    page.goto(site + "/about/")
    box = page.locator("#get-help")
    assert box.locator('a[href="tel:131114"]').inner_text() == "Call 13 11 14"
    assert box.locator('a[href="sms:0477131114"]').inner_text() == "Text 0477 13 11 14"
    assert box.locator('a[href="tel:000"]').is_visible()
    assert box.locator('a[href="tel:111"]').inner_text() == "Call 111"
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scrolling(browser, site, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for path in pages_to_check():
        page.goto(site + path)
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{path} at {width} px: {scroll} > {client}"
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_links_to_every_guide_and_the_guides_page_lists_them(browser, site, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(site + "/")
    menu = page.get_by_role("navigation", name="Main")
    therapies = list(Therapy.objects.published())
    for therapy in therapies:
        link = menu.get_by_role("link", name=therapy.short_name, exact=True)
        assert link.is_visible(), (width, therapy.short_name)
        assert link.get_attribute("href") == therapy.get_absolute_url()
    # Two taps from home: the menu, then the guide.
    menu.get_by_role("link", name="Treatment guides").click()
    page.wait_for_url("**/therapies/")
    assert page.locator("h1").inner_text() == "Treatment guides"
    listed = page.locator("main .card__title a").all_inner_texts()
    assert listed == [therapy.name for therapy in therapies]
    for therapy in therapies:
        assert page.locator("main").get_by_text(therapy.summary).is_visible()
    page.locator("main").get_by_role("link", name=therapies[0].name).click()
    page.wait_for_url(f"**{therapies[0].get_absolute_url()}")
    page.close()
