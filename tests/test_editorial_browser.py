"""The whole editorial round trip in a real browser (Debian's Chromium via
Playwright): a content editor changes a live therapy page (its summary and a
side effect's severity, an inline row); visitors still see the published text;
a clinical reviewer reads the diff, previews and publishes with a change note;
visitors then see the new text and the note, and the Atom feed lists it.

Without Chromium the test skips locally; with CI=true it fails instead.
"""

import importlib
import time

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections

from tests.browser_support import launched_chromium
from therapyinfo.models import Therapy, TherapySideEffect

PASSWORD = "a-long-staff-password-9!"
NEW_SUMMARY = "Psilocybin is a psychedelic drug studied with talking support. Plain words."
NOTE = "Headache is now marked as a reason to get help."


@pytest.fixture
def chromium():
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def staff(live_server):
    """live_server tests flush the database afterwards, so load everything here."""
    call_command("load_content", verbosity=0)
    groups = importlib.import_module("therapyinfo.migrations.0003_editorial_groups")
    groups.create_groups(apps, None)  # the data migration's groups, gone after a flush
    importlib.import_module("therapyinfo.migrations.0006_revisions").grant(apps, None)
    users = {}
    for username, group in [("editor", groups.EDITOR), ("reviewer", groups.REVIEWER)]:
        user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
        user.groups.add(apps.get_model("auth", "Group").objects.get(name=group))
        users[username] = user
    return users


def sign_in(chromium, live_server, username, path):
    page = chromium.new_page()  # a browser context of its own: its own cookies
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


def side_effect_cell(page, side_effect, column):
    table = page.locator("table", has=page.locator("caption", has_text="Side effects of"))
    row = table.locator("tr", has=page.locator("th[scope=row]", has_text=side_effect))
    return row.locator("td").nth(column)


def test_editor_edits_live_page_reviewer_publishes_with_a_note_visitors_see_it(
    live_server, chromium, staff
):
    psilocybin = Therapy.objects.get(slug="psilocybin")
    assert psilocybin.is_published
    rows = list(TherapySideEffect.objects.filter(therapy=psilocybin))
    index = next(i for i, row in enumerate(rows) if row.side_effect.slug == "headache")
    assert rows[index].severity == "mild"
    try:
        walk(live_server, chromium, psilocybin, index)
    finally:
        # Under Playwright's greenlets this test's ORM calls get their own context, and
        # so their own database connection; close it, or PostgreSQL cannot drop
        # the test database at the end of the run.
        connections.close_all()


def reload_until_shown(page, selector, text, seconds=15):
    """Reload `page` until `selector` shows `text`, for at most `seconds`."""
    from playwright.sync_api import expect  # as browser_support does: only when a browser runs

    deadline = time.monotonic() + seconds
    while True:
        try:
            expect(page.locator(selector)).to_contain_text(text, timeout=1000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def headache_cell(visitor):
    headers = visitor.locator("table.compare").last.locator("th[scope=col]").all_inner_texts()
    column = next(i for i, text in enumerate(headers) if "Psilocybin" in text)
    return side_effect_cell(visitor, "Headache", column)


def walk(live_server, chromium, psilocybin, index):
    visitor = chromium.new_page()
    visitor.goto(f"{live_server.url}/compare/")
    assert "Usually mild" in headache_cell(visitor).inner_text()

    change_path = f"/admin/therapyinfo/therapy/{psilocybin.pk}/change/"
    editor = sign_in(chromium, live_server, "editor", change_path)
    editor.fill("#id_summary", NEW_SUMMARY)
    editor.select_option(f"select[name='side_effects-{index}-severity']", "serious")
    editor.locator("input[name=_save]").first.click()
    editor.wait_for_url(f"**{change_path}")
    assert "Saved for review" in editor.locator(".messagelist").inner_text()
    assert "Unpublished changes" in editor.locator("#pending-revision").inner_text()

    # Reloading, as a visitor would, revalidates: still the published version.
    visitor.reload()
    assert "Usually mild" in headache_cell(visitor).inner_text()
    visitor.goto(f"{live_server.url}/therapies/psilocybin/")
    assert NEW_SUMMARY not in visitor.content()

    reviewer = sign_in(chromium, live_server, "reviewer", "/admin/")
    assert "1 awaiting review" in reviewer.locator("#awaiting-count").inner_text()
    reviewer.locator("#awaiting-review a", has_text="Psilocybin").click()
    summary_row = reviewer.locator("#diff-fields tr", has_text="Summary")
    assert "studied" in summary_row.locator("ins").first.inner_text()
    summary_row.get_by_text("Full text after publishing").click()
    assert NEW_SUMMARY in summary_row.locator(".diff-full").inner_text()
    rows = reviewer.locator("#diff-rows").inner_text()
    assert "Headache" in rows and "Serious: get help" in rows

    reviewer.click("#preview-link")
    reviewer.wait_for_url("**/therapies/psilocybin/?revision=*")
    assert "Preview: changes not published" in reviewer.locator(".preview-banner").inner_text()
    assert NEW_SUMMARY in reviewer.content()
    reviewer.go_back()

    reviewer.fill("#id_note", NOTE)
    reviewer.click("input[name=_publish]")
    reviewer.wait_for_url("**/admin/")
    assert "Published" in reviewer.locator(".messagelist").inner_text()

    # A browser may reuse a public page for a minute; reloading revalidates it.
    visitor.goto(f"{live_server.url}/compare/")
    visitor.reload()
    assert "Serious: get help" in headache_cell(visitor).inner_text()
    visitor.goto(f"{live_server.url}/therapies/psilocybin/")
    visitor.reload()
    assert NEW_SUMMARY in visitor.content()
    # The change note may show a moment after the new text: wait for the note itself.
    reload_until_shown(visitor, "#what-changed", NOTE)
    feed = visitor.request.get(f"{live_server.url}/updates/feed/")
    assert feed.ok and NOTE in feed.text()
