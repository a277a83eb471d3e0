"""One history, the revisions: every admin save, publish, send-back and fixture load
is a revision; "History" lists them with who proposed and who published each; and
"Restore this version" opens a pending revision that a reviewer publishes like any
other change. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import threading
from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from therapyinfo.models import GlossaryTerm, Therapy
from therapyinfo.revisions import Revision, RevisionStatus, snapshot_of

from .servers import postgresql_url
from .support import history_url, restore, versions
from .test_admin import form_data

pytestmark = pytest.mark.django_db

TERM = "breakthrough-therapy-designation"


def change_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])


def review_url(revision):
    return reverse("admin:therapyinfo_revision_review", args=[revision.pk])


def edit(client, obj, data=None, **changes):
    data = data or form_data(client.get(change_url(obj)))
    data.update({"change_note": "Changed in a test.", **changes})  # a reviewer's save publishes
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def publish(client, reviewer, revision, note="Put the earlier text back."):
    client.force_login(reviewer)
    response = client.post(review_url(revision), {"note": note, "_publish": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]


def public(client, url):
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def term(db):
    return GlossaryTerm.objects.get(slug=TERM)


@pytest.fixture(params=["editor", "reviewer"])
def restorer(request):
    """Whoever presses "Restore this version": an editor or a clinical reviewer."""
    return request.getfixturevalue(request.param)


def test_a_load_gives_every_record_a_first_version_with_its_rows(ketamine):
    (loaded,) = versions(ketamine)
    assert (loaded.status, loaded.note, loaded.author) == (
        RevisionStatus.LOADED,
        "Loaded from fixtures",
        None,
    )
    assert loaded.data["fields"]["summary"] == ketamine.summary
    rows = loaded.data["inlines"]["side_effects"]["rows"]
    assert {row["pk"] for row in rows} == set(ketamine.side_effects.values_list("pk", flat=True))


def test_reloading_unchanged_fixtures_adds_no_revisions():
    before = Revision.objects.count()
    call_command("load_content", stdout=StringIO())
    assert Revision.objects.count() == before


def test_history_credits_who_proposed_and_who_published(client, editor, reviewer, term):
    client.force_login(editor)
    edit(client, term, definition="An FDA status for promising drugs. It is not approval.")
    publish(client, reviewer, versions(term, status=RevisionStatus.PENDING).get(), "Shorter.")
    client.force_login(editor)
    html = client.get(history_url(term)).content.decode()
    row = html.split(f'id="revision-{versions(term).first().pk}"', 1)[1].split("</tr>", 1)[0]
    assert ">ed<" in row and "rev, " in row and "Shorter." in row and "Published" in row
    assert "Loaded from fixtures" in html and "load_content" in html


def test_history_of_a_removed_account_never_shows_a_broken_user(
    client, editor, reviewer, term, django_user_model
):
    client.force_login(editor)
    edit(client, term, definition="An FDA status for promising drugs. It is not approval.")
    publish(client, reviewer, versions(term, status=RevisionStatus.PENDING).get(), "Shorter.")
    django_user_model.objects.filter(pk=editor.pk).delete()
    html = client.get(history_url(term)).content.decode()
    assert "an account since removed" in html
    assert "Deleted user" not in html and "None" not in html


def test_restoring_a_shared_record_waits_for_a_reviewer(client, restorer, reviewer, term):
    original = term.definition
    client.force_login(reviewer)
    edit(client, term, definition="A wrong definition that went live.")
    assert "A wrong definition that went live." in public(client, "/glossary/")

    client.force_login(restorer)
    response = restore(client, term, versions(term, status=RevisionStatus.LOADED).get())
    pending = versions(term, status=RevisionStatus.PENDING).get()
    assert response.status_code == 302 and response.url == review_url(pending)
    assert pending.author == restorer and pending.data["restored_from"]
    # The public page is unchanged until a reviewer publishes the restore.
    page = public(client, "/glossary/")
    assert "A wrong definition that went live." in page and original not in page

    publish(client, reviewer, pending)
    page = public(client, "/glossary/")
    assert original in page and "A wrong definition that went live." not in page
    pending.refresh_from_db()
    assert (pending.status, pending.reviewer) == (RevisionStatus.PUBLISHED, reviewer)


def test_restoring_a_page_brings_back_its_rows_after_review(client, restorer, reviewer, ketamine):
    rows = list(ketamine.side_effects.select_related("side_effect").order_by("pk"))
    gone, changed = rows[0], rows[1]
    client.force_login(reviewer)
    data = form_data(client.get(change_url(ketamine)))
    index = {data[f"side_effects-{n}-id"]: n for n in range(len(rows))}
    data[f"side_effects-{index[str(gone.pk)]}-DELETE"] = "on"
    data[f"side_effects-{index[str(changed.pk)]}-what_helps"] = "Nothing helps at all."
    edit(client, ketamine, data, change_note="Rows changed.")
    assert not ketamine.side_effects.filter(pk=gone.pk).exists()

    client.force_login(restorer)
    response = restore(client, ketamine, versions(ketamine, status=RevisionStatus.LOADED).get())
    assert response.status_code == 302
    pending = versions(ketamine, status=RevisionStatus.PENDING).get()
    page = public(client, ketamine.get_absolute_url())
    assert "Nothing helps at all." in page
    assert ketamine.side_effects.count() == len(rows) - 1

    client.force_login(reviewer)
    review = client.get(review_url(pending)).content.decode()
    assert "added" in review and "Nothing helps at all." in review
    publish(client, reviewer, pending)
    page = public(client, ketamine.get_absolute_url())
    assert "Nothing helps at all." not in page and changed.what_helps[:30] in page
    assert set(ketamine.side_effects.values_list("side_effect", flat=True)) == {
        row.side_effect_id for row in rows
    }


def test_a_restore_from_a_stale_history_page_is_refused(client, editor, reviewer, term):
    client.force_login(editor)
    page = client.get(history_url(term))
    stale_token = page.context["edit_token"]
    client.force_login(reviewer)
    edit(client, term, definition="Changed after the history was opened.")
    client.force_login(editor)
    url = reverse(
        "admin:therapyinfo_glossaryterm_restore",
        args=[term.pk, versions(term, status=RevisionStatus.LOADED).get().pk],
    )
    response = client.post(url, {"edit_token": stale_token})
    assert response.status_code == 409
    assert "rev changed this record" in response.content.decode()
    assert not versions(term, status=RevisionStatus.PENDING).exists()

    response = client.post(url, {})
    assert response.status_code == 400
    assert "did not say which version" in response.content.decode()
    assert not versions(term, status=RevisionStatus.PENDING).exists()


def test_an_unknown_version_is_a_404_not_a_500(client, editor, term, ketamine):
    client.force_login(editor)
    other = versions(ketamine).first()  # a version of another record
    for pk in (other.pk, 999999):
        url = reverse("admin:therapyinfo_glossaryterm_restore", args=[term.pk, pk])
        assert client.post(url, {"edit_token": "1-1"}).status_code == 404
    assert not versions(term, status=RevisionStatus.PENDING).exists()


def test_restoring_a_draft_saves_it_at_once(client, editor, draft_therapy):
    client.force_login(editor)
    edit(client, draft_therapy, summary="First draft summary.")
    first = versions(draft_therapy).first()
    edit(client, draft_therapy, summary="Second draft summary.")
    assert restore(client, draft_therapy, first).status_code == 302
    draft_therapy.refresh_from_db()
    assert draft_therapy.summary == "First draft summary."
    assert versions(draft_therapy).first().status == RevisionStatus.DRAFT


def test_history_page_has_no_inline_styles_or_scripts(client, reviewer, ketamine):
    """The admin's strict CSP (no 'unsafe-inline') would block them."""
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Six infusions over three weeks.")
    response = client.get(history_url(ketamine))
    html = response.content.decode()
    assert "Restore this version" in html
    assert " style=" not in html and "<style" not in html
    assert "<script>" not in html and " onclick=" not in html
    assert "'unsafe-inline'" not in response.headers.get("Content-Security-Policy", "")


def test_history_counts_every_kind_of_change(client, editor, reviewer, ketamine):
    """Saves, publishes and send-backs are revisions, each listed on the page."""
    client.force_login(editor)
    edit(client, ketamine, summary="An editor's summary.")
    client.force_login(reviewer)
    pending = versions(ketamine, status=RevisionStatus.PENDING).get()
    client.post(review_url(pending), {"comment": "Cite a source.", "_send_back": "1"})
    html = client.get(history_url(ketamine)).content.decode()
    assert "Sent back by rev" in html and "Cite a source." in html
    assert Therapy.objects.get(pk=ketamine.pk).summary != "An editor's summary."


CONTENT_MODELS = [
    model
    for model in apps.get_app_config("therapyinfo").get_models()
    if admin.site.is_registered(model) and model is not Revision
]


@pytest.mark.parametrize("model", CONTENT_MODELS, ids=lambda m: m.__name__)
def test_every_record_has_a_history_with_its_loaded_version(client, editor, model):
    record = model.objects.first()
    client.force_login(editor)
    response = client.get(history_url(record))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Loaded from fixtures" in html and "Restore this version" in html


@pytest.mark.django_db(transaction=True)
def test_a_restore_during_another_save_waits_for_it_and_is_refused(client, django_user_model):
    # Another editor's save holds the record (uncommitted) when the restore, from a
    # history opened at the same version, is posted: the restore must wait for the
    # row and see that save, not pass the version check and open a second revision.
    postgresql_url()  # row locks are PostgreSQL's; SQLite has one writer at a time
    ContentType.objects.clear_cache()  # a transactional test starts from a flushed database
    call_command("load_content", stdout=StringIO())
    user = django_user_model.objects.create_superuser("restore-lock", "r@example.org", "x")
    term = GlossaryTerm.objects.get(slug=TERM)
    client.force_login(user)
    token = client.get(history_url(term)).context["edit_token"]
    holding, done = threading.Event(), threading.Event()

    def other_editors_save():
        try:
            with transaction.atomic():
                list(GlossaryTerm.objects.select_for_update().filter(pk=term.pk).values("pk"))
                Revision.record(term, snapshot_of(term), author=user)
                holding.set()
                done.wait(timeout=0.5)  # still uncommitted while the restore arrives
        finally:
            connection.close()

    other = threading.Thread(target=other_editors_save)
    other.start()
    assert holding.wait(timeout=10)
    url = reverse(
        "admin:therapyinfo_glossaryterm_restore",
        args=[term.pk, versions(term, status=RevisionStatus.LOADED).get().pk],
    )
    response = client.post(url, {"edit_token": token})
    done.set()
    other.join()
    assert response.status_code == 409
    assert versions(term, status=RevisionStatus.PENDING).count() == 1
