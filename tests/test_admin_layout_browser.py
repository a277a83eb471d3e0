"""The admin at 1280 px in Debian's Chromium: every field of a page's change
form is on screen without sideways scrolling, and the Markdown preview
follows the typing under the strict Content-Security-Policy.

Without Chromium these tests skip locally; in CI (`CI=true`) they fail.
"""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.browser_support import launched_chromium
from tests.test_admin_browser import RECORD_VIOLATIONS
from therapyinfo.models import Article, Comparison, Therapy
from therapyinfo.revisions import Revision, snapshot_of

WIDTH = 1280

# Every visible field's box, and the document's width, after opening collapsed sections.
MEASURE = """() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const fields = [...document.querySelectorAll(
    "#content-main input:not([type=hidden]), #content-main select, #content-main textarea"
  )].filter((el) => el.getClientRects().length > 0)
    .filter((el) => !el.closest(".empty-form"));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    fields: fields.length,
    outside: fields.map((el) => [el.name || el.id, el.getBoundingClientRect()])
      .filter(([, box]) => box.left < 0 || box.right > innerWidth)
      .map(([name, box]) => `${name}: ${Math.round(box.left)}..${Math.round(box.right)}`),
  };
}"""


@pytest.fixture
def signed_in_page(live_server, django_user_model, settings):
    """A 1280 px wide page signed in as a superuser, recording CSP violations.

    live_server serves /static/ from the source files and cannot find
    fingerprinted names, so pages here link the plain ones (as in test_browser.py).
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_content", verbosity=0)  # live_server tests start from an empty database
    user = django_user_model.objects.create_superuser("layout", "l@example.org", "layout-pw-9x!")
    client = Client()
    client.force_login(user)
    with launched_chromium() as browser:
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        yield page
        context.close()


def admin_url(live_server, obj):
    return (
        f"{live_server.url}/{settings.ADMIN_URL}therapyinfo/{obj._meta.model_name}/{obj.pk}/change/"
    )


@pytest.mark.django_db(transaction=True)
def test_page_change_forms_fit_1280_px(live_server, signed_in_page):
    page = signed_in_page
    records = [
        Therapy.objects.get(slug="ketamine"),
        Article.objects.first(),
        Comparison.objects.first(),
    ]
    for record in records:
        page.goto(admin_url(live_server, record))
        page.wait_for_selector("#content-main form")
        measured = page.evaluate(MEASURE)
        assert measured["fields"] > 10, measured  # the form really rendered
        assert measured["scrollWidth"] <= WIDTH, (record, measured)
        assert measured["outside"] == [], (record, measured["outside"])


@pytest.mark.django_db(transaction=True)
def test_markdown_preview_follows_typing_and_save_warns(live_server, signed_in_page):
    page = signed_in_page
    ketamine = Therapy.objects.get(slug="ketamine")
    page.goto(admin_url(live_server, ketamine))
    preview = page.locator("#id_body-preview")
    # The saved text, rendered by the server.
    assert "approved as an anaesthetic" in preview.inner_text()

    body = page.locator("#id_body")
    box, preview_box = body.bounding_box(), preview.bounding_box()
    assert preview_box["x"] >= box["x"] + box["width"], "the preview sits beside the text"

    body.fill("## Fresh heading\n\nNew *words*.\n\n<script>alert(1)</script>")
    preview.locator("h3", has_text="Fresh heading").wait_for()
    assert preview.locator("em").inner_text() == "words"
    assert preview.locator("script").count() == 0
    removed = preview.locator(".md-preview__removed")
    assert removed.is_visible() and "<script>" in removed.inner_text()

    page.fill("#id_change_note", "A fresh heading.")  # a superuser's save publishes
    page.click("input[name=_continue]")
    warning = page.locator(".messagelist .warning")
    warning.wait_for()
    assert "Body of therapy" in warning.inner_text() and "<script>" in warning.inner_text()
    assert page.evaluate("window.__cspViolations") == []
    ketamine.refresh_from_db()
    assert ketamine.body.startswith("## Fresh heading")


@pytest.mark.django_db(transaction=True)
def test_preview_appears_on_article_sections_added_after_load(live_server, signed_in_page):
    page = signed_in_page
    article = Article.objects.first()
    page.goto(admin_url(live_server, article))
    page.click("#sections-group .add-row a")
    added = page.locator("#sections-group .dynamic-sections").last
    added.locator("textarea").first.fill("A **bold** start.")
    added.locator(".md-preview strong").wait_for()
    assert added.locator(".md-preview strong").inner_text() == "bold"
    assert page.evaluate("window.__cspViolations") == []


@pytest.mark.django_db(transaction=True)
def test_the_review_screen_fits_1280_px_under_the_csp(live_server, signed_in_page):
    page = signed_in_page
    ketamine = Therapy.objects.get(slug="ketamine")
    data = snapshot_of(ketamine)
    long_word = "x" * 300  # a pasted address with no spaces must not widen the page
    data["fields"]["body"] = ketamine.body.replace("anaesthetic", f"anaesthetic {long_word}", 1)
    data["fields"]["summary"] = "A new summary in plain words for patients."
    revision = Revision.record(ketamine, data, author=None)
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}therapyinfo/revision/{revision.pk}/review/")
    assert long_word in "".join(page.locator("#diff-fields ins").all_inner_texts())
    page.get_by_text("Full text after publishing").first.click()
    measured = page.evaluate(MEASURE)
    assert measured["scrollWidth"] <= WIDTH, measured
    assert measured["outside"] == [], measured["outside"]
    assert page.evaluate("window.__cspViolations") == []
