"""Draft revisions of live records, through the admin as editors and reviewers use it:
nothing an editor saves reaches the public until a clinical reviewer publishes it."""

import json
import re
import threading
from datetime import date
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils.html import escape

from therapyinfo.cache import read_content_version
from therapyinfo.models import Article, CrisisResource, Source, Status, Therapy
from therapyinfo.revisions import Revision, RevisionStatus, snapshot_of

from .servers import postgresql_url
from .support import history_url, restore, versions
from .test_admin import form_data

pytestmark = pytest.mark.django_db

ARTICLE = "ketamine-infusion-therapy"


def change_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])


def review_url(revision):
    return reverse("admin:therapyinfo_revision_review", args=[revision.pk])


def edit(client, obj, **changes):
    """Post the change form with `changes`; a reviewer's save publishes, which
    needs a change note (tests/test_review.py tests a save without one)."""
    data = form_data(client.get(change_url(obj)))
    data.update({"change_note": "Changed in a test.", **changes})
    return client.post(change_url(obj), data)


def open_preview(client, revision):
    """The review screen's "Preview" link, followed to the page it opens."""
    return client.get(
        reverse("admin:therapyinfo_revision_preview", args=[revision.pk]), follow=True
    )


def public(client, url):
    """The page as an anonymous visitor gets it."""
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def article(db):
    return Article.objects.get(slug=ARTICLE)


def test_editor_edit_of_a_live_page_waits_and_the_public_sees_the_old_text(
    client, editor, reviewer, ketamine
):
    old_summary = ketamine.summary
    version = read_content_version()
    client.force_login(editor)
    response = edit(client, ketamine, summary="A brand new summary for patients.")
    assert response.status_code == 302
    assert "Saved for review" in client.get(response.url).content.decode()

    ketamine.refresh_from_db()
    assert ketamine.summary == old_summary
    assert read_content_version() == version  # the public cache is untouched
    page = public(client, "/therapies/ketamine/")
    assert "A brand new summary" not in page and old_summary[:40] in page

    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    assert (revision.author, revision.object_repr) == (editor, str(ketamine))

    client.force_login(reviewer)
    home = client.get(reverse("admin:index")).content.decode()
    assert "1 awaiting review" in home
    queue = home.split('id="awaiting-review"')[1].split("</div>")[0]
    assert str(ketamine) in queue and "ed" in queue
    change_page = client.get(change_url(ketamine)).content.decode()
    assert "Unpublished changes" in change_page
    listed = client.get(reverse("admin:therapyinfo_therapy_changelist"), {"pending": "yes"})
    assert list(listed.context["cl"].result_list) == [ketamine]


def test_reviewer_sees_the_diff_previews_and_publishes_with_a_note(
    client, editor, reviewer, ketamine
):
    client.force_login(editor)
    edit(client, ketamine, summary="A brand new summary for patients.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    ketamine.last_reviewed = date(2026, 1, 5)
    ketamine.save()

    client.force_login(reviewer)
    page = client.get(review_url(revision)).content.decode()
    diff = page.split('id="diff-fields"')[1].split("</table>")[0]
    assert "Summary" in diff and "A brand new summary for patients." in diff
    assert "Typical course" not in diff  # only what changed

    preview = open_preview(client, revision)
    assert preview.redirect_chain == [(f"/therapies/ketamine/?revision={revision.pk}", 302)]
    assert preview.status_code == 200
    assert "A brand new summary for patients." in preview.content.decode()
    assert "Preview: changes not published" in preview.content.decode()
    assert {"private", "no-store"} <= set(preview["Cache-Control"].split(", "))
    ketamine.refresh_from_db()
    assert ketamine.summary != "A brand new summary for patients."  # rolled back
    client.force_login(editor)  # the editor may preview too; visitors may not
    assert "A brand new summary" in client.get(preview.redirect_chain[0][0]).content.decode()
    page = public(client, preview.redirect_chain[0][0])
    assert "A brand new summary" not in page and "Preview: changes" not in page
    client.force_login(reviewer)

    response = client.post(
        review_url(revision), {"note": "We rewrote the summary in plainer words.", "_publish": "1"}
    )
    assert response.status_code == 302
    ketamine.refresh_from_db()
    assert ketamine.summary == "A brand new summary for patients."
    assert (ketamine.last_reviewed, ketamine.reviewed_by) == (date.today(), reviewer)

    page = public(client, "/therapies/ketamine/")
    assert "A brand new summary for patients." in page
    changes = page.split('id="what-changed"')[1].split("</section>")[0]
    assert "We rewrote the summary in plainer words." in changes
    assert date.today().strftime("%-d %B %Y") in changes
    data = json.loads(re.search(r'application/ld\+json">(.*?)</script>', page, re.S)[1])
    assert data["dateModified"][:10] == date.today().isoformat()

    updates = public(client, "/updates/")
    assert "We rewrote the summary in plainer words." in updates
    assert 'href="/therapies/ketamine/"' in updates
    feed = client.get("/updates/feed/")
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert "We rewrote the summary in plainer words." in feed.content.decode()
    assert "Recent updates" in public(client, "/")  # linked from the footer


def test_inline_rows_added_removed_and_changed_are_one_revision(client, editor, reviewer, article):
    sections = list(article.sections.order_by("position", "id"))
    client.force_login(editor)
    data = form_data(client.get(change_url(article)))
    data["sections-0-heading"] = "What ketamine is"
    data["sections-6-DELETE"] = "on"
    data.update(
        {
            "sections-TOTAL_FORMS": "8",
            "sections-7-position": "9",
            "sections-7-heading": "A brand new section",
            "sections-7-anchor": "brand-new",
            "sections-7-body": "Some plain words.",
        }
    )
    assert client.post(change_url(article), data).status_code == 302
    assert article.sections.count() == len(sections)  # nothing live changed yet
    revision = Revision.objects.get(status=RevisionStatus.PENDING)

    client.force_login(reviewer)
    page = client.get(review_url(revision)).content.decode()
    rows = page.split('id="diff-rows"')[1].split("</table>")[0]
    assert re.search(r"A brand new section</th>\s*<td>Added", rows)
    assert re.search(rf"{sections[6].heading}</th>\s*<td>Removed", rows)
    assert re.search(r"What ketamine is</th>\s*<td>Changed", rows)

    client.post(review_url(revision), {"note": "A new section.", "_publish": "1"})
    headings = list(article.sections.order_by("position").values_list("heading", flat=True))
    assert headings[0] == "What ketamine is"
    assert "A brand new section" in headings and sections[6].heading not in headings
    html = public(client, article.get_absolute_url())
    assert "A brand new section" in html and sections[6].heading not in html


def test_send_back_shows_the_comment_to_the_editor(client, editor, reviewer, ketamine):
    client.force_login(editor)
    edit(client, ketamine, summary="Too long a summary.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    response = client.post(review_url(revision), {"_send_back": "1", "comment": ""})
    assert "Say what the editor should fix." in response.content.decode()
    client.post(review_url(revision), {"_send_back": "1", "comment": "Please cite a source."})
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.SENT_BACK

    client.force_login(editor)
    response = client.get(change_url(ketamine))
    page = response.content.decode()
    assert "Changes sent back" in page and "Please cite a source." in page
    ketamine.refresh_from_db()
    assert ketamine.summary != "Too long a summary."

    # The form opens on the sent-back work, so the editor fixes it rather than redoes it.
    data = form_data(response)
    assert data["summary"] == "Too long a summary."
    data["summary"] = "Short, with a source."
    assert client.post(change_url(ketamine), data).status_code == 302
    statuses = list(versions(ketamine).reverse().values_list("status", flat=True))[1:]
    assert statuses == [RevisionStatus.SENT_BACK, RevisionStatus.PENDING]
    client.force_login(reviewer)
    # A revision already sent back cannot be acted on again.
    assert client.post(review_url(revision), {"_send_back": "1", "comment": "x"}).status_code == 403
    latest = Revision.objects.get(status=RevisionStatus.PENDING)
    client.post(review_url(latest), {"_send_back": "1", "comment": "Still not right."})

    client.force_login(editor)
    fresh = form_data(client.get(change_url(ketamine) + "?start=published"))
    assert fresh["summary"] == ketamine.summary  # or start again from the live page


def test_an_editor_can_never_publish_a_revision(client, editor, ketamine):
    client.force_login(editor)
    edit(client, ketamine, summary="Sneaky.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    page = client.get(review_url(revision)).content.decode()
    assert 'name="_publish"' not in page
    response = client.post(review_url(revision), {"note": "x", "_publish": "1"})
    assert response.status_code == 403
    revision.refresh_from_db()
    ketamine.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING and ketamine.summary != "Sneaky."


def test_an_editor_cannot_take_a_live_page_offline(client, editor, ketamine):
    client.force_login(editor)
    response = edit(client, ketamine, status=Status.DRAFT)
    assert response.status_code == 200
    assert "Only a clinical reviewer can take a published page offline." in str(
        response.context["adminform"].form.errors
    )
    assert not Revision.objects.exclude(status=RevisionStatus.LOADED).exists()


def test_shared_record_change_waits_for_review(client, editor, reviewer):
    line = CrisisResource.objects.get(phone="988")
    client.force_login(editor)
    response = edit(client, line, description="Changed by an editor.")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.description != "Changed by an editor."
    assert "Changed by an editor." not in public(client, "/")

    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    client.post(review_url(revision), {"note": "New opening hours.", "_publish": "1"})
    line.refresh_from_db()
    assert line.description == "Changed by an editor."
    assert "New opening hours." in public(client, "/updates/")


def test_a_reviewer_save_publishes_at_once_with_its_note(client, reviewer, ketamine):
    client.force_login(reviewer)
    response = edit(
        client, ketamine, typical_course="Six sessions.", change_note="Clearer course text."
    )
    assert response.status_code == 302
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Six sessions."
    assert ketamine.last_reviewed == date.today()
    assert "Clearer course text." in public(client, "/therapies/ketamine/")


# No silent overwrites ---------------------------------------------------------


def test_second_save_of_a_stale_form_is_refused_naming_who_and_when(
    client, django_user_model, reviewer, ketamine
):
    other = django_user_model.objects.create_superuser("alice", "a@example.org", "pw-x9!long")
    client.force_login(reviewer)
    stale = form_data(client.get(change_url(ketamine)))
    client.force_login(other)
    fresh = form_data(client.get(change_url(ketamine)))
    assert stale["edit_token"] == fresh["edit_token"]

    fresh["typical_course"] = "Alice's text."
    fresh["change_note"] = "Alice's course text."
    assert client.post(change_url(ketamine), fresh).status_code == 302

    client.force_login(reviewer)
    stale["typical_course"] = "Reviewer's text."
    response = client.post(change_url(ketamine), stale)
    assert response.status_code == 200
    error = " ".join(response.context["adminform"].form.non_field_errors())
    assert "alice changed this record on" in error and "Nothing was saved" in error
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Alice's text."


def test_the_next_edit_opens_on_the_changes_awaiting_review_and_keeps_them(
    client, editor, django_user_model, reviewer, article
):
    client.force_login(editor)
    data = form_data(client.get(change_url(article)))
    data["summary"] = "Summary by the first editor."
    data["sections-0-heading"] = "Heading by the first editor"
    data["sections-6-DELETE"] = "on"
    data.update(
        {
            "sections-TOTAL_FORMS": "8",
            "sections-7-position": "9",
            "sections-7-heading": "A brand new section",
            "sections-7-anchor": "brand-new",
            "sections-7-body": "Some plain words.",
        }
    )
    client.post(change_url(article), data)
    removed = article.sections.order_by("position", "id")[6].heading

    second = django_user_model.objects.create_user("bob", is_staff=True)
    second.groups.set(editor.groups.all())
    client.force_login(second)
    response = client.get(change_url(article))
    html = response.content.decode()
    assert "Summary by the first editor." in html and "Heading by the first editor" in html
    assert "A brand new section" in html and removed not in html
    data = form_data(response)
    data["title"] = "Title by the second editor"
    assert client.post(change_url(article), data).status_code == 302

    statuses = list(versions(article).reverse().values_list("status", flat=True))[1:]
    assert statuses == [RevisionStatus.REPLACED, RevisionStatus.PENDING]
    client.force_login(reviewer)
    latest = Revision.objects.get(status=RevisionStatus.PENDING)
    client.post(review_url(latest), {"note": "Both edits.", "_publish": "1"})
    article.refresh_from_db()
    assert (article.title, article.summary) == (
        "Title by the second editor",
        "Summary by the first editor.",
    )
    headings = set(article.sections.values_list("heading", flat=True))
    assert {"Heading by the first editor", "A brand new section"} <= headings
    assert removed not in headings


def test_a_restore_cannot_replace_changes_awaiting_review_unseen(
    client, editor, reviewer, ketamine
):
    client.force_login(editor)
    edit(client, ketamine, summary="Waiting for review.")
    version = versions(ketamine, status=RevisionStatus.LOADED).get()
    client.force_login(reviewer)
    response = restore(client, ketamine, version)
    assert response.status_code == 409
    assert "waiting for a clinical review" in response.content.decode()
    assert Revision.objects.get(status=RevisionStatus.PENDING).data["fields"]["summary"] == (
        "Waiting for review."
    )


def test_two_new_sections_with_one_anchor_are_a_form_error(client, reviewer, article):
    client.force_login(reviewer)
    data = form_data(client.get(change_url(article)))
    data["sections-TOTAL_FORMS"] = "9"
    for n in (7, 8):
        data.update(
            {
                f"sections-{n}-position": str(n),
                f"sections-{n}-heading": "Same",
                f"sections-{n}-anchor": "same-anchor",
                f"sections-{n}-body": "Text.",
            }
        )
    response = client.post(change_url(article), data)
    assert response.status_code == 200
    assert "same-anchor" not in article.sections.values_list("anchor", flat=True)
    assert "Please correct the duplicate data for anchor" in response.content.decode()


def load(**options):
    out = StringIO()
    call_command("load_content", stdout=out, **options)
    return out.getvalue()


def test_load_content_refuses_to_overwrite_admin_work_unless_forced(client, reviewer, ketamine):
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Edited in the admin.")
    with pytest.raises(CommandError) as refused:
        load()
    message = str(refused.value)
    assert "therapies.json" in message and "'ketamine'" in message and "rev" in message
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Edited in the admin."  # nothing changed

    out = load(force=True)
    assert "Replaced admin work: therapies.json" in out and "'ketamine'" in out
    ketamine.refresh_from_db()
    assert ketamine.typical_course != "Edited in the admin."
    load()  # and the next plain load has nothing left to refuse


def test_a_change_proposed_before_a_load_and_published_after_it_is_never_reverted(
    client, editor, reviewer, ketamine
):
    published = "Six infusions over three weeks, proposed before a load."
    client.force_login(editor)
    edit(client, ketamine, typical_course=published)
    load()  # the fixtures still match the live page: nothing to refuse, nothing changes
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    response = client.post(review_url(revision), {"note": "Clearer course.", "_publish": "1"})
    assert response.status_code == 302

    with pytest.raises(CommandError) as refused:
        load()
    message = str(refused.value)
    assert "therapies.json" in message and "'ketamine'" in message
    assert "changed in the admin since the last load (published by rev" in message
    assert published in public(client, ketamine.get_absolute_url())

    out = load(force=True)  # --force says what it replaced
    assert "Replaced admin work: therapies.json" in out and "'ketamine'" in out
    assert published not in public(client, ketamine.get_absolute_url())


def test_a_fixture_change_to_a_record_nobody_edited_loads_and_is_in_its_history(
    client, reviewer, ketamine, tmp_path
):
    client.force_login(reviewer)
    line = CrisisResource.objects.get(phone="988")
    edit(client, line, description="Edited in the admin, and exported.")
    call_command("export_content", output_dir=tmp_path, stdout=StringIO())
    path = tmp_path / "therapies.json"
    records = json.loads(path.read_text())
    for record in records:
        if record["fields"].get("slug") == "ketamine":
            record["fields"]["typical_course"] = "Changed in the fixture."
    path.write_text(json.dumps(records))
    load(fixtures_dir=tmp_path)
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Changed in the fixture."
    loaded = versions(ketamine).first()
    assert (loaded.status, loaded.note) == (RevisionStatus.LOADED, "Loaded from fixtures")
    assert loaded.data["fields"]["typical_course"] == "Changed in the fixture."


def test_exported_admin_work_loads_again(client, reviewer, ketamine, tmp_path):
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Edited in the admin.")
    call_command("export_content", output_dir=tmp_path, stdout=StringIO())
    load(fixtures_dir=tmp_path)
    ketamine.refresh_from_db()
    assert ketamine.typical_course == "Edited in the admin."


def test_load_content_does_not_bring_back_a_deleted_page_or_republish_an_unpublished_one(
    client, reviewer, article, ketamine
):
    client.force_login(reviewer)
    delete_url = reverse("admin:therapyinfo_article_delete", args=[article.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    edit(client, ketamine, status=Status.DRAFT, change_note="Taken offline for checking.")
    ketamine.refresh_from_db()
    assert ketamine.status == Status.DRAFT

    with pytest.raises(CommandError) as refused:
        load()
    assert "deleted in the admin since the last load (by rev" in str(refused.value)
    assert "published by rev" in str(refused.value)
    assert f"'{ARTICLE}'" in str(refused.value) and "'ketamine'" in str(refused.value)
    assert not Article.objects.filter(slug=ARTICLE).exists()
    ketamine.refresh_from_db()
    assert ketamine.status == Status.DRAFT

    load(force=True)
    assert Article.objects.filter(slug=ARTICLE).exists()


def test_a_cited_source_cannot_be_deleted_and_the_refusal_names_the_pages(client, reviewer):
    source = Source.objects.get(slug="murrough-2013")
    client.force_login(reviewer)
    url = reverse("admin:therapyinfo_source_delete", args=[source.pk])
    page = client.get(url).content.decode()
    assert "Therapy: Ketamine infusion therapy" in page
    client.post(url, {"post": "yes"})
    assert Source.objects.filter(slug="murrough-2013").exists()


def test_an_uncited_source_can_be_deleted(client, reviewer):
    source = Source.objects.create(
        slug="unused-2020", authors="Doe J", title="Unused", year=2020, finding="Nothing."
    )
    client.force_login(reviewer)
    client.post(reverse("admin:therapyinfo_source_delete", args=[source.pk]), {"post": "yes"})
    assert not Source.objects.filter(slug="unused-2020").exists()


@pytest.mark.parametrize("number", ["98", "555", "0800 00", "911 911 911 911"])
def test_a_crisis_number_that_is_not_dialable_cannot_reach_a_page(client, reviewer, number):
    line = CrisisResource.objects.get(phone="988")
    client.force_login(reviewer)
    response = edit(client, line, phone=number)
    assert response.status_code == 200
    assert "is not a number anyone can dial in United States" in response.content.decode()
    line.refresh_from_db()
    assert line.phone == "988"
    page = public(client, "/")
    assert f"Call {number}<" not in page and "Call 988<" in page


def test_real_crisis_numbers_and_short_codes_are_accepted():
    from therapyinfo.phones import crisis_number_errors

    assert crisis_number_errors("United States", phone="988", text="988") == {}
    assert crisis_number_errors("UK and Ireland", phone="116 123") == {}
    assert crisis_number_errors("United Kingdom", phone="999") == {}
    assert crisis_number_errors("European Union", phone="112") == {}
    assert crisis_number_errors("United States", phone="+1 800 273 8255") == {}
    assert "region" in crisis_number_errors("Atlantis", phone="988")


def test_an_editor_adding_a_crisis_line_or_a_row_to_a_live_page_waits_for_review(
    client, editor, reviewer, article
):
    client.force_login(editor)
    data = form_data(client.get(reverse("admin:therapyinfo_crisisresource_add")))
    data.update(
        slug="new-line",
        name="A new helpline",
        region="United Kingdom",
        phone="999",
        description="Open all day.",
        position="9",
    )
    assert client.post(reverse("admin:therapyinfo_crisisresource_add"), data).status_code == 302
    assert not CrisisResource.objects.filter(slug="new-line").exists()
    assert "A new helpline" not in public(client, "/")

    client.force_login(editor)
    section = article.sections.first()
    delete = reverse("admin:therapyinfo_articlesection_delete", args=[section.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert article.sections.filter(pk=section.pk).exists()

    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    client.post(review_url(revision), {"note": "A new helpline.", "_publish": "1"})
    assert "A new helpline" in public(client, "/")


def test_page_history_lists_published_changes_with_their_notes(client, reviewer, ketamine):
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Six sessions.", change_note="Clearer course text.")
    html = client.get(history_url(ketamine)).content.decode()
    assert "Clearer course text." in html and "Published" in html


def test_publishing_a_revision_that_clashes_with_the_live_page_is_an_error_not_a_500(
    client, editor, reviewer, article
):
    client.force_login(editor)
    data = form_data(client.get(change_url(article)))
    data.update(
        {
            "sections-TOTAL_FORMS": "8",
            "sections-7-position": "9",
            "sections-7-heading": "New",
            "sections-7-anchor": "brand-new",
            "sections-7-body": "Text.",
        }
    )
    client.post(change_url(article), data)
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    article.sections.create(anchor="brand-new", heading="Loaded meanwhile", body="Text.")

    client.force_login(reviewer)
    response = client.post(review_url(revision), {"note": "x", "_publish": "1"})
    assert response.status_code == 200
    assert "Not published, the live page has changed" in response.content.decode()
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING
    assert article.sections.filter(anchor="brand-new").count() == 1


def test_an_editor_cannot_restore_a_page_a_reviewer_deleted(client, editor, reviewer, article):
    version = versions(article).first()
    token = client_get_history_token(client, reviewer, article)
    client.post(reverse("admin:therapyinfo_article_delete", args=[article.pk]), {"post": "yes"})
    url = reverse("admin:therapyinfo_article_restore", args=[article.pk, version.pk])
    client.force_login(editor)
    assert client.post(url, {"edit_token": token}).status_code == 404
    assert not Article.objects.filter(slug=ARTICLE).exists()


def client_get_history_token(client, user, obj):
    client.force_login(user)
    return client.get(history_url(obj)).context["edit_token"]


def test_pages_with_change_notes_and_the_updates_page_are_valid_html(
    client, reviewer, ketamine, tmp_path
):
    import subprocess

    from tests.browser_support import VNU_JAR, require_vnu

    require_vnu()
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Six sessions.", change_note="Clearer <course> text.")
    pages = []
    for number, path in enumerate(["/therapies/ketamine/", "/updates/"]):
        html = public(client, path)
        assert "Clearer &lt;course&gt; text." in html
        pages.append(tmp_path / f"page-{number}.html")
        pages[-1].write_text(html)
    run = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(run.stderr)["messages"]
    assert [
        (m["url"][-11:], m["lastLine"], m["message"]) for m in messages if m["type"] == "error"
    ] == []


def test_a_comparison_cell_edit_waits_then_shows_on_the_comparison(client, editor, reviewer):
    from therapyinfo.models import ComparisonRow

    row = ComparisonRow.objects.filter(comparison__slug="ketamine-vs-psychedelics").first()
    client.force_login(editor)
    data = form_data(client.get(change_url(row)))
    data["cells-0-text"] = "A cell an editor rewrote [@anand-2023]."
    assert client.post(change_url(row), data).status_code == 302
    assert "A cell an editor rewrote" not in public(client, "/compare/")

    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    assert revision.page() == row.comparison
    client.force_login(reviewer)
    # The preview reads the page afresh, though the public page is kept; and
    # what it showed is not kept for the public.
    assert "A cell an editor rewrote" in open_preview(client, revision).content.decode()
    assert "A cell an editor rewrote" not in public(client, "/compare/")
    client.force_login(reviewer)
    assert "A cell an editor rewrote" in client.get(review_url(revision)).content.decode()
    client.post(review_url(revision), {"note": "Clearer cell.", "_publish": "1"})
    page = public(client, "/compare/")
    assert "A cell an editor rewrote" in page and "Clearer cell." in page


def test_a_revision_made_before_a_forced_load_is_not_published_over_it(
    client, editor, reviewer, ketamine
):
    client.force_login(reviewer)
    edit(client, ketamine, typical_course="Edited in the admin.")
    client.force_login(editor)
    edit(client, ketamine, summary="An editor's summary on top.")
    load(force=True)  # puts the fixture's typical course back
    revision = Revision.objects.get(status=RevisionStatus.PENDING)

    client.force_login(reviewer)
    response = client.post(review_url(revision), {"note": "x", "_publish": "1"})
    assert response.status_code == 200
    assert "the live version changed after these changes were made" in response.content.decode()
    ketamine.refresh_from_db()
    assert ketamine.typical_course != "Edited in the admin."
    assert ketamine.summary != "An editor's summary on top."


def test_an_editor_cannot_move_a_row_off_a_live_page_without_review(
    client, editor, article, ketamine, draft_therapy
):
    draft_article = Article.objects.create(slug="a-draft", title="A draft", summary="Draft.")
    section = article.sections.order_by("position").first()
    row = ketamine.side_effects.first()
    client.force_login(editor)
    for record, field, target in [
        (section, "article", draft_article),
        (row, "therapy", draft_therapy),
    ]:
        data = form_data(client.get(change_url(record)))
        data[field] = str(target.pk)
        assert client.post(change_url(record), data).status_code == 302
    # Both moves wait for a reviewer; the live pages still show their rows.
    assert Revision.objects.filter(status=RevisionStatus.PENDING).count() == 2
    assert section.heading in public(client, article.get_absolute_url())
    assert ketamine.side_effects.filter(pk=row.pk).exists()


def test_positions_are_not_edited_in_lists_where_review_would_be_skipped(client, editor):
    for name in ("sideeffect", "crisisresource"):
        html = client_get_as(client, editor, reverse(f"admin:therapyinfo_{name}_changelist"))
        assert 'name="form-0-position"' not in html


def client_get_as(client, user, url):
    client.force_login(user)
    return client.get(url).content.decode()


def test_load_content_counts_work_awaiting_review_from_before_the_last_load(
    client, editor, ketamine, tmp_path
):
    client.force_login(editor)
    edit(client, ketamine, summary="An editor's summary awaiting review.")
    load()  # nothing in the fixtures differs yet
    call_command("export_content", output_dir=tmp_path, stdout=StringIO())
    path = tmp_path / "therapies.json"
    records = json.loads(path.read_text())
    for record in records:
        if record["fields"].get("slug") == "ketamine":
            record["fields"]["typical_course"] = "Changed in the fixture."
    path.write_text(json.dumps(records))
    with pytest.raises(CommandError, match="'ketamine'"):
        load(fixtures_dir=tmp_path)
    ketamine.refresh_from_db()
    assert ketamine.typical_course != "Changed in the fixture."


def test_a_preview_that_clashes_with_the_live_page_says_so_not_a_500(
    client, editor, reviewer, article
):
    first, second = list(article.sections.order_by("position")[:2])
    client.force_login(editor)
    assert edit(client, first, anchor="clash-anchor").status_code == 302
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    type(second).objects.filter(pk=second.pk).update(anchor="clash-anchor")
    client.force_login(reviewer)
    response = client.get(f"{article.get_absolute_url()}?revision={revision.pk}")
    assert response.status_code == 409
    assert "cannot be previewed" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    first.refresh_from_db()
    assert first.anchor != "clash-anchor"  # the preview wrote nothing


def test_a_page_form_opened_before_a_row_was_saved_on_its_own_is_refused(client, reviewer, article):
    client.force_login(reviewer)
    stale = form_data(client.get(change_url(article)))
    section = article.sections.order_by("position").first()
    assert edit(client, section, heading="Saved from the section's own page").status_code == 302
    response = client.post(change_url(article), stale)
    assert response.status_code == 200
    error = " ".join(response.context["adminform"].form.non_field_errors())
    assert "rev changed this record on" in error and "Nothing was saved" in error
    section.refresh_from_db()
    assert section.heading == "Saved from the section's own page"


def test_a_form_opened_before_a_load_cannot_undo_it(client, reviewer, ketamine):
    client.force_login(reviewer)
    stale = form_data(client.get(change_url(ketamine)))
    load()  # a load since the form was opened moves the version on
    stale["typical_course"] = "Typed into a form opened before the load."
    response = client.post(change_url(ketamine), stale)
    error = " ".join(response.context["adminform"].form.non_field_errors())
    assert "load_content reloaded the fixtures on" in error
    ketamine.refresh_from_db()
    assert ketamine.typical_course != "Typed into a form opened before the load."


def test_a_garbled_version_token_is_refused_not_a_500(client, reviewer, ketamine):
    client.force_login(reviewer)
    data = form_data(client.get(change_url(ketamine)))
    data["edit_token"] = "not-a-version"
    response = client.post(change_url(ketamine), data)
    assert response.status_code == 200
    assert "Nothing was saved" in " ".join(response.context["adminform"].form.non_field_errors())


@pytest.mark.parametrize("token", [None, ""])
def test_a_post_without_the_version_token_is_refused_and_changes_nothing(
    client, editor, ketamine, token
):
    # A crafted or scripted post that leaves the token out cannot skip the stale check.
    client.force_login(editor)
    data = form_data(client.get(change_url(ketamine)))
    if token is None:
        del data["edit_token"]
    else:
        data["edit_token"] = token
    data["typical_course"] = "Typed into a form with no version."
    response = client.post(change_url(ketamine), data)
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "did not say which version" in errors and "nothing was saved" in errors
    ketamine.refresh_from_db()
    assert ketamine.typical_course != "Typed into a form with no version."
    assert not Revision.objects.filter(object_id=ketamine.pk, status=RevisionStatus.PENDING)


def test_a_form_opened_before_a_draft_was_restored_cannot_undo_the_restore(
    client, editor, draft_therapy
):
    client.force_login(editor)
    edit(client, draft_therapy, summary="First draft summary.")
    old_version = versions(draft_therapy).first()
    edit(client, draft_therapy, summary="Second draft summary.")
    stale = form_data(client.get(change_url(draft_therapy)))  # opened before the restore
    assert restore(client, draft_therapy, old_version).status_code == 302
    draft_therapy.refresh_from_db()
    assert draft_therapy.summary == "First draft summary."

    stale["summary"] = "Typed into a form opened before the restore."
    response = client.post(change_url(draft_therapy), stale)
    assert response.status_code == 200
    assert "Nothing was saved" in " ".join(response.context["adminform"].form.non_field_errors())
    draft_therapy.refresh_from_db()
    assert draft_therapy.summary == "First draft summary."


def test_a_revision_that_changes_the_address_is_previewed_at_the_live_address(
    client, editor, reviewer, ketamine
):
    client.force_login(editor)
    edit(client, ketamine, slug="ketamine-renamed", summary="Summary under a new address.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    preview = open_preview(client, revision)
    assert preview.redirect_chain == [(f"/therapies/ketamine/?revision={revision.pk}", 302)]
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Summary under a new address." in page and "Preview: changes not published" in page
    assert client.get("/therapies/ketamine-renamed/").status_code == 404  # rolled back
    assert public(client, "/therapies/ketamine/").count("Summary under a new address.") == 0


def test_a_crisis_line_change_is_previewed_in_the_footer_and_never_kept_for_visitors(
    client, editor, reviewer
):
    line = CrisisResource.objects.get(phone="988")
    # The live list, read (and kept for this content version) before the preview.
    assert escape(line.name) in public(client, "/about/")
    client.force_login(editor)
    edit(client, line, name="Renamed helpline awaiting review")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)

    client.force_login(reviewer)
    review = client.get(review_url(revision)).content.decode()
    assert 'id="preview-link"' in review
    preview = open_preview(client, revision)
    assert preview.redirect_chain == [(f"/about/?revision={revision.pk}#get-help", 302)]
    footer = preview.content.decode().split('id="get-help"')[1]
    assert "Renamed helpline awaiting review" in footer
    # Crisis lines are kept per content version; the preview's must not be.
    for url in ("/about/", "/", "/glossary/"):
        assert "Renamed helpline awaiting review" not in public(client, url)


def test_a_source_change_is_previewed_on_the_sources_page(client, editor, reviewer):
    source = Source.objects.get(slug="anand-2023")
    client.force_login(editor)
    edit(client, source, finding="A finding rewritten by an editor.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    client.force_login(reviewer)
    preview = open_preview(client, revision)
    assert preview.redirect_chain == [(f"/sources/?revision={revision.pk}#anand-2023", 302)]
    assert "A finding rewritten by an editor." in preview.content.decode()
    assert "Preview: changes not published" in preview.content.decode()
    assert "A finding rewritten by an editor." not in public(client, "/sources/")


@pytest.mark.django_db(transaction=True)
def test_of_two_saves_at_once_from_one_version_the_second_is_refused(client, django_user_model):
    # Another editor's save is mid-flight (its transaction holds the record) when
    # this form, opened at the same version, is posted: it must wait for that
    # save and be refused, not pass the version check and replace it unseen.
    postgresql_url()  # row locks are PostgreSQL's; SQLite has one writer at a time
    # A transactional test starts from whatever the last one left: a flushed
    # database, without the editor groups and with content types made anew
    # under new ids. Forget the cached ones, load the content, use a superuser.
    ContentType.objects.clear_cache()
    call_command("load_content", stdout=StringIO())
    editor = django_user_model.objects.create_superuser("lock-test", "l@example.org", "x")
    ketamine = Therapy.objects.get(slug="ketamine")
    client.force_login(editor)
    opened = form_data(client.get(change_url(ketamine)))
    holding, done = threading.Event(), threading.Event()

    def other_editors_save():
        try:
            with transaction.atomic():
                list(Therapy.objects.select_for_update().filter(pk=ketamine.pk).values("pk"))
                Revision.record(ketamine, snapshot_of(ketamine), author=editor)
                holding.set()
                done.wait(timeout=0.5)  # still uncommitted while the post arrives
        finally:
            connection.close()

    other = threading.Thread(target=other_editors_save)
    other.start()
    assert holding.wait(timeout=10)
    opened["summary"] = "Typed while another save was in flight."
    response = client.post(change_url(ketamine), opened)
    done.set()
    other.join()
    assert response.status_code == 200
    assert "Nothing was saved" in " ".join(response.context["adminform"].form.non_field_errors())
    assert Revision.objects.filter(status=RevisionStatus.PENDING).count() == 1


@pytest.mark.parametrize(
    ("kind", "fragment"), [("side effect", "side-effects"), ("mechanism", "key-facts")]
)
def test_a_side_effect_or_mechanism_change_is_previewed_on_a_therapy_page(
    client, editor, reviewer, ketamine, kind, fragment
):
    if kind == "side effect":
        record = ketamine.side_effects.first().side_effect
    else:
        record = ketamine.mechanisms.first()
    client.force_login(editor)
    edit(client, record, summary="A summary rewritten by an editor.")
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    shown_on = (
        Therapy.objects.published()
        .filter(
            **(
                {"side_effects__side_effect": record}
                if kind == "side effect"
                else {"mechanisms": record}
            )
        )
        .first()
    )

    client.force_login(reviewer)
    assert 'id="preview-link"' in client.get(review_url(revision)).content.decode()
    preview = open_preview(client, revision)
    address = f"{shown_on.get_absolute_url()}?revision={revision.pk}#{fragment}"
    assert preview.redirect_chain == [(address, 302)]
    assert "A summary rewritten by an editor." in preview.content.decode()
    assert "Preview: changes not published" in preview.content.decode()
    assert "A summary rewritten by an editor." not in public(client, shown_on.get_absolute_url())
