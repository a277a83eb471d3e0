"""Revision history: every change records who, when and what; the admin shows
the differences and restores an earlier version, and the restore is recorded."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from therapyinfo.models import Status, Therapy, TherapySideEffect

from .test_admin import form_data

pytestmark = pytest.mark.django_db


def change_url(obj):
    return reverse("admin:therapyinfo_therapy_change", args=[obj.pk])


def history_url(obj):
    return reverse("admin:therapyinfo_therapy_history", args=[obj.pk])


def version_url(obj, version):
    return reverse("admin:therapyinfo_therapy_simple_history", args=[obj.pk, version.pk])


def edit(client, obj, **changes):
    data = form_data(client.get(change_url(obj)))
    data.update({"change_note": "Changed in a test.", **changes})  # a reviewer's save publishes
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def restore(client, obj, version):
    """Post the restore form of an earlier version back as it is shown."""
    form = client.get(version_url(obj, version)).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "on" if value is True else str(value)
    data["change_note"] = "Restored an earlier version."  # a reviewer's restore publishes
    return client.post(version_url(obj, version), data)


def test_fixture_load_gives_every_record_a_first_version(ketamine):
    first = ketamine.history.get()
    assert first.history_change_reason == "Loaded from fixtures"
    assert first.summary == ketamine.summary


def test_reloading_unchanged_fixtures_adds_no_history():
    before = Therapy.history.count() + TherapySideEffect.history.count()
    call_command("load_content", stdout=StringIO())
    assert Therapy.history.count() + TherapySideEffect.history.count() == before


def test_a_change_is_recorded_with_who_and_what_and_shown_as_a_difference(
    client, reviewer, ketamine
):
    client.force_login(reviewer)
    old_course = ketamine.typical_course
    edit(client, ketamine, typical_course="Six infusions over three weeks.")
    latest = ketamine.history.first()
    assert latest.history_user == reviewer
    assert latest.history_type == "~"
    delta = latest.diff_against(latest.prev_record)
    # Publishing a content change moves the review date too (issue 10), in the same save.
    assert set(delta.changed_fields) - {"last_reviewed", "next_review_due", "reviewed_by"} == {
        "typical_course"
    }
    html = client.get(history_url(ketamine)).content.decode()
    assert "Six infusions over three weeks." in html
    assert old_course[:40] in html
    assert "rev" in html  # who


def test_an_earlier_version_is_restored_and_the_restore_is_recorded(client, reviewer, ketamine):
    client.force_login(reviewer)
    original = ketamine.history.get()
    original_course = ketamine.typical_course
    edit(client, ketamine, typical_course="A mistake.")
    response = restore(client, ketamine, original)
    assert response.status_code == 302
    ketamine.refresh_from_db()
    assert ketamine.typical_course == original_course
    versions = list(ketamine.history.all())  # newest first
    assert len(versions) == 3
    assert versions[0].typical_course == original_course
    assert versions[0].history_user == reviewer


def test_inline_row_changes_are_recorded_with_the_user(client, reviewer, ketamine):
    # A reviewer's save: an editor's waits for review (tests/test_revisions.py).
    client.force_login(reviewer)
    data = form_data(client.get(change_url(ketamine)))
    row = TherapySideEffect.objects.get(pk=data["side_effects-0-id"])
    new = "serious" if row.severity != "serious" else "mild"
    data["side_effects-0-severity"] = new
    data["change_note"] = "A side effect's severity changed."
    assert client.post(change_url(ketamine), data).status_code == 302
    latest = row.history.first()
    assert (latest.severity, latest.history_user) == (new, reviewer)
    assert latest.prev_record.severity == row.severity


def test_editor_cannot_publish_by_restoring_a_published_version(client, reviewer, editor, ketamine):
    published = ketamine.history.get()
    client.force_login(reviewer)
    edit(client, ketamine, status="draft")
    client.force_login(editor)
    response = restore(client, ketamine, published)
    assert response.status_code == 200
    ketamine.refresh_from_db()
    assert ketamine.status == Status.DRAFT
    client.force_login(reviewer)
    assert restore(client, ketamine, published).status_code == 302
    ketamine.refresh_from_db()
    assert ketamine.status == Status.PUBLISHED


def test_history_and_change_pages_have_no_inline_styles(client, reviewer, ketamine):
    """The strict CSP (style-src 'self') would block them."""
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Six infusions over three weeks.")
    for url in (history_url(ketamine), change_url(ketamine)):
        html = client.get(url).content.decode()
        assert " style=" not in html and "<style" not in html, url
