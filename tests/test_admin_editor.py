"""The admin as an editor meets it: the grouped home page, onset and duration
in a unit of their choice, the Markdown preview and the sanitising notice."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_admin import form_data
from therapyinfo.models import Article, Mechanism, Therapy

pytestmark = pytest.mark.django_db

PREVIEW_URL = reverse("admin:markdown_preview")


def change_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])


# --- Home page ---------------------------------------------------------------


def test_admin_home_is_titled_for_the_editorial_team(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert "<title>Editorial home | Therapy Info editorial</title>" in html
    assert ">Therapy Info editorial</a>" in html  # the header link
    assert "therapyinfo content" not in html


def test_admin_home_groups_models_as_editors_think(staff_client):
    response = staff_client.get(reverse("admin:index"))
    groups = {
        app["name"]: [m["name"] for m in app["models"]] for app in response.context["app_list"]
    }
    assert list(groups) == ["Review", "Pages", "Shared", "Site administration"]
    assert groups["Review"] == ["Revisions"]
    assert groups["Pages"] == ["Therapies", "Articles", "Comparisons"]
    assert groups["Shared"] == [
        "Side effects",
        "Mechanisms",
        "Glossary terms",
        "Sources",
        "Crisis resources",
    ]
    assert groups["Site administration"][:2] == ["Users", "Groups"]
    assert "Access attempts" in groups["Site administration"]  # django-axes lockouts
    html = response.content.decode()
    assert html.index(">Pages<") < html.index(">Shared<") < html.index(">Site administration<")


def test_inline_only_rows_are_not_listed_on_their_own(staff_client):
    hidden = ["comparisoncell", "comparisonrow", "therapysideeffect", "articlesection"]
    for url in [reverse("admin:index"), reverse("admin:app_list", args=["therapyinfo"])]:
        html = staff_client.get(url).content.decode()
        assert "/therapyinfo/therapy/" in html
        for name in hidden:
            assert f"/therapyinfo/{name}/" not in html, (url, name)
    # Their own pages still open (links from the comparison row inline use them).
    assert (
        staff_client.get(reverse("admin:therapyinfo_comparisonrow_changelist")).status_code == 200
    )


# --- Onset and duration units -------------------------------------------------


def unit_fields(response):
    form = response.context["adminform"].form
    return {
        name: form[name].value()
        for name in [
            "onset_min",
            "onset_max",
            "onset_unit",
            "duration_min",
            "duration_max",
            "duration_unit",
        ]
    }


def test_stored_ranges_are_shown_in_the_largest_whole_unit(staff_client):
    # Stored as whole hours and days; set here so the test does not follow the content.
    Therapy.objects.filter(slug="psilocybin").update(
        onset_min_hours=24, onset_max_hours=192, duration_min_days=21, duration_max_days=42
    )
    psilocybin = Therapy.objects.get(slug="psilocybin")
    response = staff_client.get(change_url(psilocybin))
    assert unit_fields(response) == {
        "onset_min": 1,
        "onset_max": 8,
        "onset_unit": "days",
        "duration_min": 3,
        "duration_max": 6,
        "duration_unit": "weeks",
    }
    html = response.content.decode()
    assert '<option value="days" selected>days</option>' in html
    assert "onset_min_hours" not in html  # one unit per range, never hours for one end


@pytest.mark.parametrize("slug", ["ketamine", "psilocybin", "lsd"])
def test_saving_unchanged_keeps_every_stored_figure(staff_client, slug):
    therapy = Therapy.objects.get(slug=slug)
    before = [therapy.onset_min_hours, therapy.onset_max_hours]
    before += [therapy.duration_min_days, therapy.duration_max_days]
    url = change_url(therapy)
    response = staff_client.post(url, form_data(staff_client.get(url)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    therapy.refresh_from_db()
    after = [therapy.onset_min_hours, therapy.onset_max_hours]
    after += [therapy.duration_min_days, therapy.duration_max_days]
    assert after == before


@pytest.mark.parametrize(
    ("typed", "stored", "shown_again"),
    [
        # onset (stored in hours), duration (stored in days)
        (
            ("1.5", "3", "days", "2", "6", "weeks"),
            (36, 72, 14, 42),
            (36, 72, "hours", 2, 6, "weeks"),
        ),
        (("2", "24", "hours", "48", "72", "hours"), (2, 24, 2, 3), (2, 24, "hours", 2, 3, "days")),
        (
            ("1", "2", "weeks", "10", "14", "days"),
            (168, 336, 10, 14),
            (1, 2, "weeks", 10, 14, "days"),
        ),
    ],
)
def test_ranges_typed_in_any_unit_round_trip(staff_client, typed, stored, shown_again):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = change_url(ketamine)
    data = form_data(staff_client.get(url))
    names = ["onset_min", "onset_max", "onset_unit", "duration_min", "duration_max"]
    data.update(zip([*names, "duration_unit"], typed, strict=True))
    data["change_note"] = "New timeline figures."
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ketamine.refresh_from_db()
    assert (
        ketamine.onset_min_hours,
        ketamine.onset_max_hours,
        ketamine.duration_min_days,
        ketamine.duration_max_days,
    ) == stored
    assert tuple(unit_fields(staff_client.get(url)).values()) == shown_again


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"onset_min": "0.5", "onset_unit": "hours"},
            "onset_min",
            "0.5 hours is not a whole number of hours",
        ),
        (
            {"duration_min": "36", "duration_max": "48", "duration_unit": "hours"},
            "duration_min",
            "36 hours is not a whole number of days",
        ),
        (
            {"onset_min": "30", "onset_max": "2", "onset_unit": "hours"},
            "onset_min",
            "cannot be later",
        ),
        ({"duration_min": "", "duration_max": "7"}, "duration_min", "Fill in both ends"),
    ],
)
def test_unusable_ranges_are_refused_on_the_field_the_editor_typed(
    staff_client, change, field, message
):
    ketamine = Therapy.objects.get(slug="ketamine")
    before = (ketamine.onset_min_hours, ketamine.duration_min_days)
    url = change_url(ketamine)
    data = form_data(staff_client.get(url))
    data.update(change)
    response = staff_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert message in response.content.decode()
    ketamine.refresh_from_db()
    assert (ketamine.onset_min_hours, ketamine.duration_min_days) == before


# --- Markdown preview ---------------------------------------------------------


def test_change_form_shows_a_preview_beside_each_markdown_field(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    html = staff_client.get(change_url(ketamine)).content.decode()
    # Every field the page renders as Markdown, and no other.
    assert html.count('class="md-preview"') == len(Therapy.markdown_fields)
    assert f'data-preview-url="{PREVIEW_URL}"' in html
    # Without JavaScript the preview already shows the saved text as the page will.
    assert "<h3>Who should not have it</h3>" in html
    assert "admin-extra/markdown-preview" in html and "admin-extra/editor" in html
    # The same widget on article sections (inline) and mechanism details.
    article = Article.objects.first()
    assert 'class="md-preview"' in staff_client.get(change_url(article)).content.decode()
    mechanism = Mechanism.objects.first()
    assert 'class="md-preview"' in staff_client.get(change_url(mechanism)).content.decode()


def test_preview_renders_and_sanitises_like_the_public_page(staff_client):
    text = "## Heading\n\nSafe *text*. <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>"
    response = staff_client.post(PREVIEW_URL, {"text": text})
    assert response.status_code == 200
    data = response.json()
    assert "<h3>Heading</h3>" in data["html"]
    assert "<em>text</em>" in data["html"]
    assert "script" not in data["html"] and "onerror" not in data["html"]
    assert {"<script>", "<img>", "onerror="} <= set(data["removed"])


def test_preview_of_clean_text_removes_nothing(staff_client):
    data = staff_client.post(
        PREVIEW_URL, {"text": "A [link](https://example.org) and `<b>`."}
    ).json()
    assert data["removed"] == []
    assert '<a href="https://example.org">link</a>' in data["html"]


def test_preview_is_for_signed_in_staff_with_a_csrf_token(staff_client, client, django_user_model):
    assert staff_client.get(PREVIEW_URL).status_code == 405
    anonymous = Client().post(PREVIEW_URL, {"text": "hi"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    user = django_user_model.objects.get(username="editor")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(PREVIEW_URL, {"text": "hi"}).status_code == 403


# --- Notice after save ---------------------------------------------------------


def warnings_after(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "warning"]


def test_saving_text_that_sanitising_cuts_shows_a_notice(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = change_url(ketamine)
    data = form_data(staff_client.get(url))
    data["body"] += '\n\n<script>alert("x")</script> [click](javascript:alert(1))'
    data["change_note"] = "A new paragraph."
    response = staff_client.post(url, data, follow=True)
    assert response.status_code == 200
    notices = warnings_after(response)
    assert len(notices) == 1
    assert notices[0].startswith("Body of therapy “Ketamine infusion therapy”: the site removes")
    assert "<script>" in notices[0] and 'href="javascript:alert(1)"' in notices[0]
    assert "&lt;script&gt;" in response.content.decode()  # shown, escaped
    ketamine.refresh_from_db()
    assert "<script>" in ketamine.body  # what the editor typed is kept; the page drops it


def test_every_markdown_field_of_a_therapy_gets_the_notice(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = change_url(ketamine)
    data = form_data(staff_client.get(url))
    data["how_given"] += "\n\n<script>alert(1)</script>"
    data["regulatory_status"] += "\n\n<img src=x onerror=alert(1)>"
    notices = warnings_after(staff_client.post(url, data, follow=True))
    assert len(notices) == 2
    assert any(n.startswith("How given of therapy") and "<script>" in n for n in notices)
    assert any(n.startswith("Regulatory status of therapy") and "onerror=" in n for n in notices)


def test_notice_names_an_inline_section_too(staff_client):
    article = Article.objects.first()
    url = change_url(article)
    data = form_data(staff_client.get(url))
    data["sections-0-body"] += "\n\n<img src=x onerror=alert(1)>"
    data["change_note"] = "A new picture."
    response = staff_client.post(url, data, follow=True)
    notices = warnings_after(response)
    assert len(notices) == 1 and "onerror=" in notices[0] and "<img>" in notices[0]
    assert "article section" in notices[0]


def test_no_notice_when_nothing_is_removed(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = change_url(ketamine)
    data = form_data(staff_client.get(url))
    data["body"] += "\n\nA plain new sentence with a [link](https://example.org)."
    data["change_note"] = "A new sentence."
    response = staff_client.post(url, data, follow=True)
    assert warnings_after(response) == []
    assert any("Published: Ketamine" in str(m) for m in response.context["messages"])
