"""The whole editorial round trip in a real browser (Debian's Chromium via
Playwright): a clinical reviewer signs in to the admin, changes a side
effect's severity on a draft therapy, publishes it, and a visitor sees the
change on the public comparison page.

Without Chromium the test skips locally; with CI=true it fails instead.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections

from tests.browser_support import launched_chromium
from therapyinfo.models import Status, Therapy, TherapySideEffect

PASSWORD = "a-long-reviewer-password-9!"


@pytest.fixture
def chromium():
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def reviewer_with_password(live_server):
    """live_server tests flush the database afterwards, so load everything here."""
    call_command("load_content", verbosity=0)
    groups = importlib.import_module("therapyinfo.migrations.0003_editorial_groups")
    groups.create_groups(apps, None)  # the data migration's groups, gone after a flush
    user = get_user_model().objects.create_user("reviewer", password=PASSWORD, is_staff=True)
    user.groups.add(apps.get_model("auth", "Group").objects.get(name=groups.REVIEWER))
    return user


def side_effect_cell(page, side_effect, column):
    table = page.locator("table", has=page.locator("caption", has_text="Side effects of"))
    row = table.locator("tr", has=page.locator("th[scope=row]", has_text=side_effect))
    return row.locator("td").nth(column)


def test_reviewer_changes_severity_publishes_and_visitors_see_it(
    live_server, chromium, reviewer_with_password
):
    psilocybin = Therapy.objects.get(slug="psilocybin")
    psilocybin.status = Status.DRAFT  # an editor's draft, waiting for review
    psilocybin.save()
    rows = list(TherapySideEffect.objects.filter(therapy=psilocybin))
    index = next(i for i, row in enumerate(rows) if row.side_effect.slug == "headache")
    assert rows[index].severity == "mild"

    try:
        edit_publish_and_view(
            live_server, chromium, reviewer_with_password, psilocybin, rows[index]
        )
    finally:
        # Under Playwright's greenlets this test's ORM calls get their own context, and
        # so their own database connection; close it, or PostgreSQL cannot drop
        # the test database at the end of the run.
        connections.close_all()


def edit_publish_and_view(live_server, chromium, reviewer, psilocybin, headache):
    index = list(TherapySideEffect.objects.filter(therapy=psilocybin)).index(headache)
    visitor = chromium.new_page()
    visitor.goto(f"{live_server.url}/compare/")
    assert visitor.locator("th[scope=col]", has_text="Psilocybin").count() == 0

    admin = chromium.new_page()
    change_path = f"/admin/therapyinfo/therapy/{psilocybin.pk}/change/"
    admin.goto(f"{live_server.url}/admin/login/?next={change_path}")
    admin.fill("#id_username", "reviewer")
    admin.fill("#id_password", PASSWORD)
    admin.click("input[type=submit]")
    admin.wait_for_url(f"**{change_path}")
    assert "Preview" not in admin.title()
    admin.select_option(f"select[name='side_effects-{index}-severity']", "serious")
    admin.select_option("#id_status", "published")
    admin.check("#id_mark_reviewed")
    admin.locator("input[name=_save]").first.click()
    admin.wait_for_url("**/admin/therapyinfo/therapy/")
    assert "was changed successfully" in admin.locator(".messagelist").inner_text()

    row = TherapySideEffect.objects.get(pk=headache.pk)
    assert row.severity == "serious"
    assert row.history.first().history_user == reviewer
    # A browser sends text areas with \r\n; the save must still change only what changed.
    latest = Therapy.history.filter(id=psilocybin.pk).first()
    changed = set(latest.diff_against(latest.prev_record).changed_fields)
    assert {"status", "reviewed_by"} <= changed
    assert changed <= {"status", "last_reviewed", "next_review_due", "reviewed_by"}

    # Public pages may be reused by a browser for a minute (cache.PUBLIC_CACHE_CONTROL);
    # reloading, as a visitor would, revalidates and gets the new version.
    visitor.reload()
    headers = visitor.locator("table.compare").last.locator("th[scope=col]").all_inner_texts()
    column = next(i for i, text in enumerate(headers) if "Psilocybin" in text)
    cell = side_effect_cell(visitor, "Headache", column)
    assert "Serious: get help" in cell.inner_text()
    assert cell.get_attribute("class") == "cell--serious"
