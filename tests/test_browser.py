"""Checked in a real browser: Debian's Chromium driven by Playwright.

axe-core (WCAG 2.x A and AA) on every public page at 375 and 1280 px, in light
and dark; no sideways scrolling anywhere, the comparison included, from 320 px
up; a keyboard-only walk with visible focus; print and reduced-motion styles; no
console errors under a strict CSP. The pages come from pytest-django's
live_server, whose database is emptied after each test, so each test loads the
content first.
"""

import os

import pytest
from django.core.management import call_command

from tests.browser_support import launched_chromium
from therapyinfo.models import Article, Comparison, Therapy

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# from the test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def site(live_server, settings):
    """The live server with the real content in its (freshly flushed) database.

    live_server serves /static/ itself, from the source files, ahead of
    WhiteNoise; it cannot find fingerprinted names, so pages here link the
    plain ones. (`make audit` checks the fingerprinted, compressed files.)
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)
    return live_server.url


def public_paths():
    paths = ["/", "/therapies/", "/articles/", "/compare/", "/glossary/", "/sources/", "/about/"]
    paths += ["/updates/"]
    paths += ["/compare/?therapies=ketamine,psilocybin"]
    for model in (Therapy, Article, Comparison):
        paths += [record.get_absolute_url() for record in model.objects.published()]
    return paths


def open_page(browser, width, **options):
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


def describe(violations):
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    ]


@pytest.mark.parametrize(
    "width, scheme", [(375, "light"), (1280, "light"), (375, "dark"), (1280, "dark")]
)
def test_axe_finds_no_wcag_a_or_aa_violations(browser, site, width, scheme):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    # bypass_csp: axe is injected as a script, which a strict CSP would refuse.
    context, page, _ = open_page(browser, width, color_scheme=scheme, bypass_csp=True)
    found = {}
    for path in public_paths():
        page.goto(site + path)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
        violations = results.response["violations"]
        if violations:
            found[path] = describe(violations)
        # The run really checked something: axe reports the rules that passed too.
        assert results.response["passes"], path
    context.close()
    assert found == {}


# The strict policy the site is built for (no inline script or style anywhere,
# SVG included). Added here in the browser, so these pages are held to it
# whatever the server sends.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_no_console_errors_under_a_strict_csp(browser, site):
    context, page, problems = open_page(browser, 1280)
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))

    def with_csp(route):
        if route.request.resource_type != "document":  # the policy rides on the page
            route.continue_()
            return
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(f"{site}/**", with_csp)
    for path in public_paths():
        response = page.goto(site + path)
        assert response.headers["content-security-policy"] == STRICT_CSP
        # The JSON-LD data block is there, and (not being a script) is not blocked.
        assert page.locator('script[type="application/ld+json"]').count() == 1, path
        # The stylesheet applied: CSS from 'self' is allowed.
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px", path
    context.close()
    assert violations == []
    assert problems == []


@pytest.mark.parametrize("width", [320, 375, 640])  # 640 px is a 1280 px screen at 200% zoom
def test_nothing_scrolls_sideways(browser, site, width):
    context, page, _ = open_page(browser, width)
    wide = {}
    for path in public_paths():
        page.goto(site + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        # Nor inside the comparison tables: nothing in them is wider than they are.
        inside = page.evaluate(
            "() => [...document.querySelectorAll('table.compare')]"
            ".map(t => t.scrollWidth - t.clientWidth).filter(d => d > 0)"
        )
        if overflow > 0 or inside:
            wide[path] = (overflow, inside)
    assert wide == {}
    context.close()


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName, text: (el.innerText || '').trim().slice(0, 60),
    cls: el.className || '', inTable: !!el.closest('table.compare'),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
             && s.outlineColor !== 'rgba(0, 0, 0, 0)',
    shadow: s.boxShadow !== 'none',
  };
}"""


def test_keyboard_only_walk_from_home_through_the_comparison_table(browser, site):
    context, page, _ = open_page(browser, 1280)
    page.goto(site + "/")
    steps = []

    def tab():
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        assert focus["outline"] or focus["shadow"], f"focus not visible on {focus}"
        steps.append(focus)
        return focus

    # The first Tab reaches the skip link, which shows itself.
    first = tab()
    assert first["text"] == "Skip to main content"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0
    for _ in range(20):
        if tab()["text"] == "Compare therapies":
            break
    else:
        pytest.fail(f"Tab never reached the comparison link: {steps}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/compare/")

    reached_cell_link = False
    for _ in range(60):
        focus = tab()
        if focus["inTable"] and focus["tag"] == "A":
            reached_cell_link = True
            break
    context.close()
    assert reached_cell_link, f"Tab did not go on into the table's links: {steps[-10:]}"


def test_print_hides_navigation_and_writes_out_addresses(browser, site):
    context, page, _ = open_page(browser, 1280)
    page.goto(site + Article.objects.get(slug="ketamine-infusion-therapy").get_absolute_url())
    page.emulate_media(media="print")
    for hidden in (".site-nav", ".skip-link", ".contents", ".help-button"):
        assert page.locator(hidden).first.evaluate("e => getComputedStyle(e).display") == "none"
    # Each source's address is printed in full, not hidden behind a link.
    link = page.locator(".sources .source__link a").first
    assert link.inner_text().startswith("https://doi.org/")
    context.close()


def test_dark_mode_and_reduced_motion_follow_the_system(browser, site):
    context, page, _ = open_page(browser, 1280, color_scheme="dark", reduced_motion="reduce")
    page.goto(site + "/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 22, 25)"
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"
    context.close()
    context, page, _ = open_page(browser, 1280, color_scheme="light")
    page.goto(site + "/")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(240, 244, 245)"
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "smooth"
    context.close()
