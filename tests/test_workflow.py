"""The editorial workflow: roles enforced by the server, staff previews of
drafts, review dates that drive work, reading grades and safe Markdown."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from therapyinfo.models import Article, ArticleSection, Comparison, Status, Therapy, add_months
from therapyinfo.review import review_queue
from therapyinfo.revisions import Revision

from .test_admin import form_data

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


def change_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])


def post_change(client, obj, **changes):
    """Post the admin change form of `obj` back with `changes` on top."""
    data = form_data(client.get(change_url(obj)))
    data.update(changes)
    return client.post(change_url(obj), data)


# Roles ---------------------------------------------------------------------


def test_groups_carry_the_custom_permissions():
    editor = set(
        Group.objects.get(name="Content editor").permissions.values_list("codename", flat=True)
    )
    reviewer = set(
        Group.objects.get(name="Clinical reviewer").permissions.values_list("codename", flat=True)
    )
    assert {"add_therapy", "change_therapy", "change_therapysideeffect", "change_article"} <= editor
    assert not {c for c in editor if c.startswith(("publish_", "review_"))}
    for model in ("therapy", "comparison", "article"):
        assert {f"publish_{model}", f"review_{model}"} <= reviewer
    assert editor <= reviewer


def test_editor_is_not_offered_published(client, editor, draft_therapy):
    client.force_login(editor)
    form = client.get(change_url(draft_therapy)).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == ["draft", "review"]
    assert "last_reviewed" not in form.fields and "mark_reviewed" not in form.fields


def test_editor_can_edit_a_draft_and_send_it_for_review(client, editor, draft_therapy):
    client.force_login(editor)
    response = post_change(client, draft_therapy, summary="A new summary.", status="review")
    assert response.status_code == 302
    draft_therapy.refresh_from_db()
    assert (draft_therapy.summary, draft_therapy.status) == ("A new summary.", Status.IN_REVIEW)


def test_editor_crafted_post_cannot_publish_or_mark_reviewed(client, editor, draft_therapy):
    client.force_login(editor)
    response = post_change(
        client,
        draft_therapy,
        status="published",
        last_reviewed="2026-01-01",
        next_review_due="2030-01-01",
        reviewed_by=str(editor.pk),
        mark_reviewed="on",
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"]
    draft_therapy.refresh_from_db()
    assert draft_therapy.status == Status.DRAFT
    assert draft_therapy.reviewed_by is None
    assert client.get(draft_therapy.get_absolute_url()).status_code == 200  # preview only
    assert draft_therapy.pk not in Therapy.objects.published().values_list("pk", flat=True)


def test_editor_save_of_a_published_page_keeps_the_review_fields(client, editor, ketamine):
    before = (ketamine.last_reviewed, ketamine.next_review_due, ketamine.reviewed_by_id)
    client.force_login(editor)
    response = post_change(
        client,
        ketamine,
        typical_course="Six sessions.",
        last_reviewed="2020-01-01",
        next_review_due="2031-01-01",
        mark_reviewed="on",
    )
    assert response.status_code == 302
    ketamine.refresh_from_db()
    # A published page: the edit waits for a reviewer (tests/test_revisions.py).
    assert ketamine.typical_course != "Six sessions."
    pending = Revision.objects.get(object_id=ketamine.pk, status="pending")
    assert pending.data["fields"]["typical_course"] == "Six sessions."
    assert (ketamine.last_reviewed, ketamine.next_review_due, ketamine.reviewed_by_id) == before
    assert pending.data["fields"]["last_reviewed"] == ketamine.last_reviewed.isoformat()
    assert pending.data["fields"]["reviewed_by_id"] == ketamine.reviewed_by_id


def test_editor_cannot_publish_with_the_list_action(client, editor, draft_therapy):
    client.force_login(editor)
    response = client.post(
        reverse("admin:therapyinfo_therapy_changelist"),
        {"action": "publish", "_selected_action": [draft_therapy.pk]},
    )
    assert response.status_code in (200, 302)
    draft_therapy.refresh_from_db()
    assert draft_therapy.status == Status.DRAFT


def test_editor_cannot_publish_a_new_article(client, editor):
    client.force_login(editor)
    url = reverse("admin:therapyinfo_article_add")
    data = form_data(client.get(url))
    data.update(title="New", slug="new-article", position="9", summary="Short.", status="published")
    response = client.post(url, data)
    assert response.status_code == 200
    assert not Article.objects.filter(slug="new-article").exists()


def test_reviewer_can_publish_and_mark_reviewed(client, reviewer, draft_therapy):
    client.force_login(reviewer)
    response = post_change(
        client, draft_therapy, status="published", mark_reviewed="on", change_note="A new guide."
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    draft_therapy.refresh_from_db()
    today = date.today()
    assert draft_therapy.status == Status.PUBLISHED
    assert draft_therapy.reviewed_by == reviewer
    assert draft_therapy.last_reviewed == today
    assert draft_therapy.next_review_due == add_months(today, 12)
    client.logout()
    assert client.get(draft_therapy.get_absolute_url()).status_code == 200


def test_no_list_action_publishes_or_marks_reviewed_unseen_text(client, reviewer, draft_therapy):
    # Issue 18: the list actions checked no version, so text rewritten after the
    # reviewer read it went live. They are gone; publishing is on the review screen.
    client.force_login(reviewer)
    changelist = reverse("admin:therapyinfo_therapy_changelist")
    for action in ("publish", "mark_reviewed"):
        client.post(changelist, {"action": action, "_selected_action": [draft_therapy.pk]})
    draft_therapy.refresh_from_db()
    assert draft_therapy.status == Status.DRAFT
    assert draft_therapy.reviewed_by is None


# Preview ---------------------------------------------------------------------


def test_staff_preview_a_draft_with_a_banner_and_never_cached(client, editor, draft_therapy):
    assert client.get(draft_therapy.get_absolute_url()).status_code == 404
    client.force_login(editor)
    response = client.get(draft_therapy.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: not published" in html
    assert draft_therapy.name in html
    assert response["Cache-Control"] == PRIVATE


def test_draft_article_and_comparison_previews(client, reviewer):
    article = Article.objects.published().first()
    comparison = Comparison.objects.published().first()
    Article.objects.filter(pk=article.pk).update(status=Status.IN_REVIEW)
    Comparison.objects.filter(pk=comparison.pk).update(status=Status.DRAFT)
    for url in (article.get_absolute_url(), comparison.get_absolute_url()):
        assert client.get(url).status_code == 404
    client.force_login(reviewer)
    for url in (article.get_absolute_url(), comparison.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        assert "Preview: not published" in response.content.decode()
        assert response["Cache-Control"] == PRIVATE
    client.logout()  # what staff were shown is not kept for anyone else
    for url in (article.get_absolute_url(), comparison.get_absolute_url()):
        assert client.get(url).status_code == 404


def test_published_pages_have_no_banner_and_are_private_only_for_staff(client, editor, ketamine):
    response = client.get(ketamine.get_absolute_url())
    assert "Preview: not published" not in response.content.decode()
    assert "private" not in response.get("Cache-Control", "")
    client.force_login(editor)
    response = client.get(ketamine.get_absolute_url())
    assert "Preview: not published" not in response.content.decode()
    assert response["Cache-Control"] == PRIVATE
    assert client.get("/").get("Cache-Control") == PRIVATE


def test_staff_without_content_permissions_get_404_for_drafts(
    client, django_user_model, draft_therapy
):
    user = django_user_model.objects.create_user("helpdesk", is_staff=True)
    client.force_login(user)
    assert client.get(draft_therapy.get_absolute_url()).status_code == 404


def test_drafts_stay_out_of_lists_for_staff_too(client, editor, draft_therapy):
    client.force_login(editor)
    assert draft_therapy.name not in client.get("/").content.decode()
    assert draft_therapy.get_absolute_url() not in client.get("/sitemap.xml").content.decode()


# Review dates ------------------------------------------------------------------


@pytest.fixture
def overdue_and_due_soon(ketamine):
    today = date.today()
    Therapy.objects.filter(pk=ketamine.pk).update(
        last_reviewed=today - timedelta(days=400), next_review_due=today - timedelta(days=3)
    )
    article = Article.objects.published().first()
    Article.objects.filter(pk=article.pk).update(next_review_due=today + timedelta(days=10))
    return ketamine, article


def test_review_queue_lists_overdue_and_due_soon(overdue_and_due_soon):
    ketamine, article = overdue_and_due_soon
    queue = review_queue()
    assert [(item.record.pk, item.overdue) for item in queue] == [
        (ketamine.pk, True),
        (article.pk, False),
    ]


def test_review_report_prints_the_list_and_fails_on_overdue(overdue_and_due_soon):
    ketamine, article = overdue_and_due_soon
    out = StringIO()
    call_command("review_report", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("OVERDUE") and ketamine.name in lines[0]
    assert lines[1].startswith("due soon") and article.title in lines[1]
    assert "1 overdue, 1 due within 30 days." in lines[-1]
    with pytest.raises(CommandError) as caught:
        call_command("review_report", fail_on_overdue=True, stdout=StringIO())
    assert caught.value.returncode == 1
    assert "1 overdue" in str(caught.value)


def test_review_report_passes_when_nothing_is_overdue():
    out = StringIO()
    call_command("review_report", fail_on_overdue=True, stdout=out)  # fixtures are current
    assert "Nothing is overdue" in out.getvalue()
    Therapy.objects.filter(slug="lsd").update(next_review_due=date.today() + timedelta(days=5))
    out = StringIO()
    call_command("review_report", fail_on_overdue=True, stdout=out)
    assert "0 overdue, 1 due within 30 days." in out.getvalue()


def test_admin_dashboard_and_filter_list_overdue_pages(client, editor, overdue_and_due_soon):
    ketamine, article = overdue_and_due_soon
    client.force_login(editor)
    html = client.get(reverse("admin:index")).content.decode()
    assert "Clinical review: overdue or due within 30 days" in html
    assert change_url(ketamine) in html and "(overdue)" in html
    assert change_url(article) in html
    response = client.get(reverse("admin:therapyinfo_therapy_changelist"), {"review": "overdue"})
    assert [t.pk for t in response.context["cl"].result_list] == [ketamine.pk]


def test_public_page_says_when_it_is_overdue(client, overdue_and_due_soon):
    ketamine, _ = overdue_and_due_soon
    assert "This page is due for review" in client.get(ketamine.get_absolute_url()).content.decode()
    lsd = Therapy.objects.get(slug="lsd")
    assert "This page is due for review" not in client.get(lsd.get_absolute_url()).content.decode()


# Reading grade and Markdown --------------------------------------------------------


def test_change_page_shows_reading_grade_and_warns_above_target(client, editor, ketamine):
    client.force_login(editor)
    html = client.get(change_url(ketamine)).content.decode()
    assert "Reading grade" in html and "Summary: grade" in html
    Therapy.objects.filter(pk=ketamine.pk).update(
        summary="Notwithstanding considerable methodological heterogeneity, randomised "
        "investigations consistently demonstrated statistically significant antidepressant "
        "effectiveness, particularly among individuals experiencing treatment-resistant illness."
    )
    html = client.get(change_url(ketamine)).content.decode()
    assert "readability__above" in html and "Above target" in html
    assert "<script" not in html.split("Reading grade", 1)[1].split("</fieldset>", 1)[0]


@pytest.mark.parametrize(
    "dangerous, marker",
    [
        ("<script>alert('pwned')</script>", "alert('pwned')"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ("[click me](javascript:alert(1))", "javascript:"),
    ],
)
def test_dangerous_markdown_saved_in_admin_never_reaches_visitors(
    client, reviewer, dangerous, marker
):
    section = ArticleSection.objects.filter(article__status=Status.PUBLISHED).first()
    client.force_login(reviewer)
    response = post_change(
        client,
        section,
        body=f"Safe words.\n\n{dangerous}\n\nMore words.",
        change_note="New words.",
    )
    assert response.status_code == 302
    client.logout()
    html = client.get(section.article.get_absolute_url()).content.decode()
    assert "Safe words." in html and "More words." in html
    assert marker not in html
    assert "<script>alert" not in html


def test_reviewer_entering_a_review_date_moves_the_due_date_and_signs_it(
    client, reviewer, ketamine
):
    client.force_login(reviewer)
    response = post_change(client, ketamine, last_reviewed="2026-10-01")
    assert response.status_code == 302
    ketamine.refresh_from_db()
    assert ketamine.last_reviewed == date(2026, 10, 1)
    assert ketamine.next_review_due == date(2027, 10, 1)
    assert ketamine.reviewed_by == reviewer


def test_reading_grade_counts_only_the_words_a_visitor_reads():
    from therapyinfo.readability import plain_text, reading_grade

    assert plain_text("## Heading\n\nShort words [@murrough-2013], **bold**.") == (
        "Heading\nShort words , bold."
    )
    assert reading_grade("") is None
    assert reading_grade("The cat sat. The dog ran.") < 8
