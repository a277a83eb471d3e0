"""The comparison, the timing picture, the articles page and glossary terms in
a real browser (Debian's Chromium under Playwright) at 320, 375 and 1280 px.

On a phone each aspect of the comparison is a block that names each chosen
therapy beside its text; on a wide screen it is a table whose therapy headers
stay in view while the rows scroll under them. Both are the same HTML.
"""

import os

import pytest
from django.core.management import call_command

from tests.browser_support import launched_chromium
from therapyinfo.models import Article

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)

SELECTIONS = [
    "/compare/",
    "/compare/?therapies=ketamine,psilocybin",
    "/compare/?therapies=lsd,ketamine",
]


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def site(live_server, settings):
    """The live server with the real content (see tests/test_browser.py)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)
    return live_server.url


@pytest.fixture
def pages(browser):
    contexts = []

    def open_at(width, **options):
        context = browser.new_context(viewport={"width": width, "height": 800}, **options)
        contexts.append(context)
        return context.new_page()

    yield open_at
    for context in contexts:
        context.close()


# For every data cell of every comparison table: the therapy its column is
# for, whether that name is visible in the cell itself, and the cell's box.
CELLS = """() => [...document.querySelectorAll('table.compare')].flatMap(table => {
  const names = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  return [...table.querySelectorAll('tbody tr')].flatMap(tr =>
    [...tr.querySelectorAll('td')].map((td, i) => {
      const label = td.querySelector('.compare__name');
      const box = td.getBoundingClientRect(), labelBox = label.getBoundingClientRect();
      return {
        column: names[i], aspect: tr.querySelector('th').innerText.trim(),
        label: label.innerText.trim(),
        labelShown: getComputedStyle(label).display !== 'none' && labelBox.height > 0
          && labelBox.left >= box.left && labelBox.right <= box.right + 0.5,
        left: box.left, right: box.right, width: box.width, text: td.innerText.trim(),
      };
    }));
})"""


@pytest.mark.parametrize("width", [320, 375])
def test_on_a_phone_every_cell_names_its_therapy_and_nothing_scrolls_sideways(pages, site, width):
    page = pages(width)
    for path in SELECTIONS:
        page.goto(site + path)
        assert page.evaluate("document.documentElement.scrollWidth") == width, path
        cells = page.evaluate(CELLS)
        assert len(cells) > 20, path
        chosen = {cell["column"] for cell in cells}
        assert len(chosen) == (3 if path == "/compare/" else 2), path
        for cell in cells:
            where = f"{path} {cell['aspect']} / {cell['column']}"
            assert cell["labelShown"] and cell["label"] == cell["column"], where
            # Each block has the width of the page, not of a squeezed column.
            assert cell["left"] >= 0 and cell["right"] <= width, where
            assert cell["width"] >= width - 80, where
            assert len(cell["text"]) > len(cell["label"]), where
        # Still a table to assistive technology, with its row and column headers.
        table = page.get_by_role("table").first
        assert table.get_by_role("columnheader").count() == len(chosen), path
        assert table.get_by_role("rowheader").count() > 5, path
        # No table is wider than the space it has.
        assert page.evaluate(
            "[...document.querySelectorAll('table.compare')]"
            ".every(t => t.scrollWidth <= t.clientWidth)"
        ), path


def test_on_a_wide_screen_the_therapy_headers_stay_in_view_while_scrolling(pages, site):
    page = pages(1280)
    for path in SELECTIONS:
        page.goto(site + path)
        assert page.evaluate("document.documentElement.scrollWidth") == 1280, path
        cells = page.evaluate(CELLS)
        # The same HTML: the in-cell names are hidden; the column headers name the therapies.
        assert not any(cell["labelShown"] for cell in cells), path
        for table in page.locator("table.compare").all():
            rows = table.locator("tbody tr")
            last = rows.nth(rows.count() - 1)
            last.scroll_into_view_if_needed()
            # Scrolled well past the table's top, its header row is still at the top
            # of the window, each header above its own column.
            assert table.bounding_box()["y"] < -200, path
            headers = table.locator("thead th").all()
            for index, header in enumerate(headers):
                box = header.bounding_box()
                assert 0 <= box["y"] <= 5, (path, header.inner_text())
                cell = last.locator("td").nth(index).bounding_box()
                assert abs(cell["x"] - box["x"]) < 1, (path, header.inner_text())
            assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), path


def test_the_page_follows_the_choice_and_names_are_case_insensitive(pages, site):
    page = pages(375)
    response = page.goto(site + "/compare/?therapies=KETAMINE,Psilocybin")
    assert response.ok
    assert page.url == site + "/compare/?therapies=ketamine,psilocybin"
    assert page.title() == "Ketamine and psilocybin compared | Therapy Info"
    assert page.locator("h1").inner_text() == "Ketamine and psilocybin compared"
    assert "LSD" not in page.locator(".compare").first.inner_text()
    # A mistake offers the valid choices as buttons, not codes to type.
    response = page.goto(site + "/compare/?therapies=ketamine,heroin")
    assert response.status == 400
    page.get_by_role("link", name="Ketamine and LSD only").click()
    page.wait_for_url("**/compare/ketamine-vs-psychedelics/?therapies=ketamine,lsd")
    assert page.locator("h1").inner_text() == "Ketamine and LSD compared"


def test_the_timing_picture_reads_on_a_phone(pages, site):
    page = pages(375)
    page.goto(site + "/compare/")
    figure = page.locator("figure.timeline")
    svg = figure.locator("svg")
    # The picture takes the width it has (the page's column, less its padding).
    column = page.locator("main").evaluate(
        "m => m.clientWidth - 2 * parseFloat(getComputedStyle(m).paddingLeft)"
    )
    assert svg.bounding_box()["width"] == pytest.approx(column, abs=1)
    labels = svg.evaluate(
        """svg => [...svg.querySelectorAll('text')]
          .filter(t => getComputedStyle(t).display !== 'none')
          .map(t => { const b = t.getBoundingClientRect();
            return {text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize),
                    left: b.left, right: b.right, top: b.top, bottom: b.bottom}; })"""
    )
    box = svg.bounding_box()
    assert len(labels) >= 8
    for label in labels:
        # At least 14 px on screen (no viewBox scaling shrinks them) and inside the picture.
        assert label["size"] >= 14 and label["bottom"] - label["top"] >= 14, label
        # (2 px for the glyphs' side bearings)
        assert box["x"] - 2 <= label["left"], label
        assert label["right"] <= box["x"] + box["width"] + 2, label
    for first in labels:  # no two labels overlap
        for second in labels:
            if first is not second:
                apart = (
                    first["right"] <= second["left"]
                    or second["right"] <= first["left"]
                    or first["bottom"] <= second["top"]
                    or second["bottom"] <= first["top"]
                )
                assert apart, (first["text"], second["text"])
    # The same timings in words, beside or under the picture.
    words = figure.locator(".timeline__words").inner_text()
    assert "Ketamine infusion therapy" in words and "Starts:" in words and "Lasts:" in words
    assert figure.locator(".timeline__words").is_visible()


def test_the_menu_leads_to_every_article_with_its_summary(pages, site):
    page = pages(375)
    page.goto(site + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Articles").click()
    page.wait_for_url("**/articles/")
    assert page.locator("h1").inner_text() == "Articles"
    cards = page.locator(".card")
    articles = list(Article.objects.published())
    assert cards.count() == len(articles)
    for card, article in zip(cards.all(), articles, strict=True):
        assert card.get_by_role("link", name=article.title).is_visible()
        assert article.summary in card.inner_text()


def test_glossary_terms_explain_themselves_in_place_without_javascript(pages, site):
    page = pages(375, java_script_enabled=False)
    article = Article.objects.get(slug="ketamine-infusion-therapy")
    page.goto(site + article.get_absolute_url())
    term = page.locator("button.term").first
    popover = page.locator(f"#{term.get_attribute('popovertarget')}")
    assert not popover.is_visible()
    term.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    term.click()
    assert popover.is_visible()
    text = popover.inner_text()
    assert ":" in text and len(text) > 40
    # The reader has not moved: the definition came to them.
    assert page.evaluate("window.scrollY") == before
    assert page.url == site + article.get_absolute_url()
    page.keyboard.press("Escape")
    assert not popover.is_visible()
    # The glossary is one step away.
    term.click()
    popover.get_by_role("link", name="More in the glossary").click()
    page.wait_for_url("**/glossary/#*")
    assert page.locator(":target dt").is_visible()


def test_printed_comparison_is_a_plain_table_whose_header_repeats(pages, site):
    page = pages(794)  # an A4 page's width in CSS pixels
    page.goto(site + "/compare/")
    page.emulate_media(media="print")
    table = page.locator("table.compare").first
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    assert table.locator("thead").evaluate("e => getComputedStyle(e).display") == (
        "table-header-group"  # repeated at the top of each printed page
    )
    assert table.locator("thead th").first.evaluate("e => getComputedStyle(e).position") == (
        "static"
    )
    # Choosing links are no use on paper; the picture is kept whole on one page.
    assert page.locator(".choose").evaluate("e => getComputedStyle(e).display") == "none"
    figure = page.locator("figure.timeline")
    assert figure.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
