"""Icon arrays in a real browser (Debian's Chromium, Playwright): axe-core finds
no WCAG A/AA problem with every fold opened, at 375 and 1280 px, light and
dark; and a figure that had the result differs from one that did not by its
shape (filled against outlined) in light, dark, forced colours and print, so
colour is never the only cue."""

import os

import pytest
from django.core.management import call_command

from tests.browser_support import launched_chromium

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = ["/therapies/ketamine/", "/therapies/psilocybin/", "/compare/"]
OPEN_ALL = "document.querySelectorAll('details').forEach(d => d.open = true)"
PAINT = """() => {
  const paint = sel => {
    const s = getComputedStyle(document.querySelector(sel));
    return [s.fill, s.stroke];
  };
  return {had: paint('.icon-array__had use'), hadNot: paint('.icon-array__had-not use'),
          shown: document.querySelector('.icon-array__svg').getBoundingClientRect().height};
}"""


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def site(live_server, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)
    return live_server.url


@pytest.mark.parametrize(
    "width, scheme", [(375, "light"), (1280, "light"), (375, "dark"), (1280, "dark")]
)
def test_axe_finds_nothing_on_pages_with_icon_arrays_opened(browser, site, width, scheme):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True
    )
    page = context.new_page()
    found = {}
    for path in PAGES:
        page.goto(site + path)
        page.evaluate(OPEN_ALL)
        if path.startswith("/therapies/"):
            assert page.locator(".icon-array__svg").first.is_visible()
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
        if results.response["violations"]:
            found[path] = [v["id"] for v in results.response["violations"]]
        assert results.response["passes"], path
    context.close()
    assert found == {}


@pytest.mark.parametrize("mode", ["light", "dark", "forced-colors", "print"])
def test_filled_and_outlined_figures_differ_by_shape_in_every_mode(browser, site, mode):
    options = {"color_scheme": "dark"} if mode == "dark" else {}
    if mode == "forced-colors":
        options["forced_colors"] = "active"
    context = browser.new_context(viewport={"width": 375, "height": 900}, **options)
    page = context.new_page()
    if mode == "print":
        page.emulate_media(media="print")
    page.goto(site + "/therapies/ketamine/")
    page.evaluate(OPEN_ALL)
    paint = page.evaluate(PAINT)
    context.close()
    (had_fill, _), (not_fill, not_stroke) = paint["had"], paint["hadNot"]
    assert had_fill not in ("none", "rgba(0, 0, 0, 0)")  # a solid figure
    assert not_fill == "none" and not_stroke not in ("none", "rgba(0, 0, 0, 0)")  # an outline
    assert paint["shown"] > 100  # drawn at a readable size, not collapsed
    if mode == "print":
        assert had_fill == not_stroke == "rgb(0, 0, 0)"  # black on paper, no colour needed


def test_the_values_list_ticks_without_javascript_and_prints_as_ticked(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/therapies/psilocybin/")
    page.locator("section[aria-labelledby=questions] summary").click()
    page.get_by_role("checkbox", name="Cost").check()
    page.emulate_media(media="print")
    assert page.get_by_role("checkbox", name="Cost").is_checked()
    assert page.locator("fieldset.values").is_visible()
    assert not page.get_by_role("checkbox", name="Side effects").is_checked()
    context.close()
