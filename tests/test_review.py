"""The review screen and the publish rule (issue 18, part B): no publish without a
change note for readers, a reviewer's save never publishes another editor's work
unseen, word-level diffs, the editor's note to the reviewer, and source renames
that would break citations."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from therapyinfo.models import Source, Status, Therapy
from therapyinfo.revisions import NOTE_REQUIRED, Revision, RevisionStatus

from .test_admin import form_data

pytestmark = pytest.mark.django_db


def change_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])


def review_url(revision):
    return reverse("admin:therapyinfo_revision_review", args=[revision.pk])


def edit(client, obj, **changes):
    data = form_data(client.get(change_url(obj)))
    data.update(changes)
    return client.post(change_url(obj), data, follow=True)


def public(client, url):
    """The page as an anonymous visitor gets it."""
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def pending():
    return Revision.objects.get(status=RevisionStatus.PENDING)


# A publish needs a change note ------------------------------------------------


@pytest.mark.parametrize("note", ["", "   \n  "])
def test_publishing_on_the_review_screen_without_a_note_is_refused_and_changes_nothing(
    client, editor, reviewer, ketamine, note
):
    old_summary = ketamine.summary
    updates_before = public(client, "/updates/")
    client.force_login(editor)
    edit(client, ketamine, summary="A brand new summary for patients.")

    client.force_login(reviewer)
    response = client.post(review_url(pending()), {"note": note, "_publish": "1"})
    assert response.status_code == 200
    assert NOTE_REQUIRED in response.content.decode()
    assert pending().reviewer is None

    ketamine.refresh_from_db()
    assert ketamine.summary == old_summary
    assert "A brand new summary" not in public(client, "/therapies/ketamine/")
    assert public(client, "/updates/") == updates_before


def test_a_reviewer_save_without_a_note_keeps_the_change_for_review(client, reviewer, ketamine):
    old_course = ketamine.typical_course
    updates_before = public(client, "/updates/")
    client.force_login(reviewer)
    response = edit(client, ketamine, typical_course="Six sessions.", change_note=" ")
    assert f"Not published: {NOTE_REQUIRED}" in response.content.decode()
    ketamine.refresh_from_db()
    assert ketamine.typical_course == old_course
    assert pending().data["fields"]["typical_course"] == "Six sessions."
    assert "Six sessions." not in public(client, "/therapies/ketamine/")
    assert public(client, "/updates/") == updates_before

    # Saving again with a note publishes the same work.
    client.force_login(reviewer)
    edit(client, ketamine, change_note="Clearer course text.")
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Six sessions."
    assert "Clearer course text." in public(client, "/updates/")


def test_taking_a_draft_page_live_needs_a_note(client, reviewer, draft_therapy):
    client.force_login(reviewer)
    response = edit(client, draft_therapy, status=Status.PUBLISHED)
    assert response.status_code == 200
    assert NOTE_REQUIRED in str(response.context["adminform"].form.errors["change_note"])
    draft_therapy.refresh_from_db()
    assert draft_therapy.status == Status.DRAFT

    edit(client, draft_therapy, status=Status.PUBLISHED, change_note="A new guide.")
    draft_therapy.refresh_from_db()
    assert draft_therapy.status == Status.PUBLISHED
    assert "A new guide." in public(client, "/updates/")


def test_the_publish_service_refuses_an_empty_note_whoever_calls_it(client, editor, reviewer):
    # Commands and scripts call Revision.publish directly, without a form.
    ketamine = Therapy.objects.get(slug="ketamine")
    client.force_login(editor)
    edit(client, ketamine, summary="Proposed summary.")
    with pytest.raises(ValidationError, match="Write a short change note"):
        pending().publish(by=reviewer, note="  ")
    assert pending().status == RevisionStatus.PENDING
    ketamine.refresh_from_db()
    assert ketamine.summary != "Proposed summary."


def test_a_reviewer_save_over_another_editors_changes_waits_for_the_review_screen(
    client, editor, reviewer, ketamine
):
    old_summary = ketamine.summary
    client.force_login(editor)
    edit(client, ketamine, summary="The editor's summary.")

    client.force_login(reviewer)
    response = edit(client, ketamine, typical_course="Six sessions.", change_note="Both edits.")
    assert "Not published yet: this includes changes by ed" in response.content.decode()
    ketamine.refresh_from_db()
    assert (ketamine.summary, ketamine.typical_course) != ("The editor's summary.", "Six sessions.")
    assert ketamine.summary == old_summary
    page = public(client, "/therapies/ketamine/")
    assert "The editor's summary." not in page and "Six sessions." not in page

    client.force_login(reviewer)
    revision = pending()
    screen = client.get(review_url(revision)).content.decode()
    assert "The editor&#x27;s summary." in screen and "Six sessions." in screen
    client.post(review_url(revision), {"note": "Clearer summary and course.", "_publish": "1"})
    ketamine.refresh_from_db()
    assert (ketamine.summary, ketamine.typical_course) == ("The editor's summary.", "Six sessions.")


# Word-level diffs on the review screen ----------------------------------------


def dosing_body(dose):
    """About 700 characters of Markdown with one dose in the middle."""
    before = (
        "## How it is given\n\nThe medicine is a nasal spray used in a clinic, with a nurse "
        "or doctor nearby. You stay for at least two hours after each dose, because it can "
        "make you feel drowsy, dizzy or detached, and raise your blood pressure for a while. "
    )
    after = (
        "\n\nYou cannot drive until the next day after a good night's sleep, so plan a lift "
        "home. Most people have two sessions a week at first, then fewer. Tell the clinic "
        "about every medicine you take, including ones you buy without a prescription, and "
        "about any history of high blood pressure, heart problems or psychosis. The team "
        "checks how you feel before and after each session and changes the plan with you."
    )
    return f"{before}A typical dose is {dose} mg, sprayed into each nostril in turn.{after}"


def test_a_changed_dose_in_a_long_body_stands_out_on_the_review_screen(
    client, editor, reviewer, ketamine
):
    ketamine.body = dosing_body(56)
    ketamine.save()
    assert len(ketamine.body) >= 700
    client.force_login(editor)
    edit(client, ketamine, body=dosing_body(84))

    client.force_login(reviewer)
    page = client.get(review_url(pending())).content.decode()
    table = page.split('id="diff-fields"')[1].split("</table>")[0]
    changes, full_text = table.split('<details class="diff-full">')
    assert "<del>56</del><ins>84</ins> mg, sprayed" in changes
    assert "unchanged words" in changes
    # The far-away unchanged text is collapsed, not shown again in full...
    assert "nasal spray used in a clinic" not in changes
    assert "changes the plan with you" not in changes
    # ...except in the full text, folded away under its own summary.
    assert "<summary>Full text after publishing</summary>" in full_text
    assert "A typical dose is 84 mg" in full_text and "56 mg" not in full_text


def test_an_inline_row_change_is_marked_word_by_word(client, editor, reviewer):
    psilocybin = Therapy.objects.get(slug="psilocybin")
    rows = list(psilocybin.side_effects.select_related("side_effect"))  # the form's order
    index, row = 0, rows[0]
    client.force_login(editor)
    edit(client, psilocybin, **{f"side_effects-{index}-how_long": "About 3 days <b>or</b> less"})

    client.force_login(reviewer)
    page = client.get(review_url(pending())).content.decode()
    rows_table = page.split('id="diff-rows"')[1].split("</table>")[0]
    assert "<td>Changed</td>" in rows_table and str(row.side_effect) in rows_table
    assert "<ins>" in rows_table and "&lt;b&gt;or&lt;/b&gt;" in rows_table
    assert "<b>or</b>" not in rows_table


# The editor's note to the reviewer ------------------------------------------


def test_the_editors_note_is_shown_to_the_reviewer_and_never_to_readers(
    client, editor, reviewer, ketamine
):
    note = "New figure from the trial's table 2 <see page 4>."
    client.force_login(editor)
    form = client.get(change_url(ketamine)).content.decode()
    assert "Note for the clinical reviewer" in form
    edit(client, ketamine, summary="A summary with a new figure.", note_for_reviewer=note)
    assert pending().editor_note == note

    # The next edit opens on the work awaiting review, its note included.
    reopened = client.get(change_url(ketamine)).context["adminform"].form
    assert reopened["note_for_reviewer"].value() == note

    client.force_login(reviewer)
    screen = client.get(review_url(pending())).content.decode()
    shown = screen.split('id="editor-note"')[1].split("</div>")[0]
    assert "Note from ed for the reviewer" in shown
    assert "table 2 &lt;see page 4&gt;." in shown
    client.post(review_url(pending()), {"note": "A new figure in the summary.", "_publish": "1"})
    ketamine.refresh_from_db()
    assert ketamine.summary == "A summary with a new figure."
    for url in ("/therapies/ketamine/", "/updates/", "/updates/feed/"):
        assert "table 2" not in public(client, url)


# Renaming a cited source -------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "page", "url"),
    [
        ("yerubandi-2024", "Therapy: Psilocybin therapy", "/therapies/psilocybin/"),
        (
            "anand-2023",
            "Article: Ketamine infusion therapy for depression",
            "/articles/ketamine-infusion-therapy/",
        ),
    ],
)
def test_renaming_a_cited_source_is_refused_naming_the_pages(
    client, editor, reviewer, slug, page, url
):
    source = Source.objects.get(slug=slug)
    cited = public(client, url)
    assert 'class="cite"' in cited and source.title in cited
    for user in (editor, reviewer):
        client.force_login(user)
        response = edit(client, source, slug="renamed-source", change_note="Renamed.")
        assert response.status_code == 200
        error = " ".join(response.context["adminform"].form.errors["slug"])
        assert f"cite this source as [@{slug}]" in error and page in error
    source.refresh_from_db()
    assert source.slug == slug
    # Nothing saved for review (the fixture load's own revision aside).
    assert (
        not Revision.objects.filter(object_repr=str(source))
        .exclude(status=RevisionStatus.LOADED)
        .exists()
    )
    assert public(client, url) == cited


def test_an_uncited_source_can_be_renamed(client, reviewer):
    source = Source.objects.get(slug="zarate-2006")
    source.pk, source.slug, source.doi, source.url = None, "uncited", "", "https://example.org/x"
    source.save()
    client.force_login(reviewer)
    edit(client, source, slug="uncited-renamed", change_note="A clearer short name.")
    source.refresh_from_db()
    assert source.slug == "uncited-renamed"


# The row lock is taken by the save, not by the form -------------------------


@pytest.mark.parametrize("object_id", ["not-a-number", "999999"])
def test_a_save_to_a_record_that_is_not_there_is_not_a_500(client, reviewer, object_id):
    client.force_login(reviewer)
    before = Revision.objects.count()
    url = reverse("admin:therapyinfo_therapy_change", args=[object_id])
    response = client.post(url, {"name": "x"})
    assert response.status_code == 302  # the admin's own "does not exist" answer
    assert Revision.objects.count() == before
