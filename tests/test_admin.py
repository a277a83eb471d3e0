"""Every model can be listed, added and changed in the admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from therapyinfo.markup import MARKDOWN_MAX_CHARS
from therapyinfo.models import ContentVersion, Therapy
from therapyinfo.revisions import ContentLoad, Revision

pytestmark = pytest.mark.django_db

# Revisions are each record's "History", and listed read-only (tests/test_revisions.py);
# loads are not listed at all.
MODELS = [
    m
    for m in apps.get_app_config("therapyinfo").get_models()
    if m not in (ContentVersion, Revision, ContentLoad)
]


def test_every_content_model_is_registered():
    assert all(admin.site.is_registered(model) for model in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_load(staff_client, model):
    info = (model._meta.app_label, model._meta.model_name)
    assert staff_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert (
        staff_client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "a"}).status_code
        == 200
    )
    assert staff_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
    obj = model.objects.first()
    response = staff_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    assert response.status_code == 200


def form_data(response):
    """The POST data the admin change form would send back unchanged."""
    data = {}
    for form in (
        [response.context["adminform"].form]
        + [f for inline in response.context["inline_admin_formsets"] for f in inline.formset]
        + [inline.formset.management_form for inline in response.context["inline_admin_formsets"]]
    ):
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            else:
                data[key] = str(value)
    return data


def test_an_edit_to_onset_shows_on_the_comparison_page(staff_client, client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = reverse("admin:therapyinfo_therapy_change", args=[ketamine.pk])
    data = form_data(staff_client.get(url))
    data.update(onset_min="3", onset_max="7", onset_unit="hours", change_note="New onset.")
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ketamine.refresh_from_db()
    assert (ketamine.onset_min_hours, ketamine.onset_max_hours) == (3, 7)
    html = client.get("/compare/").content.decode()
    assert "about 3 to 7 hours after a dose" in html


def test_admin_refuses_onset_minimum_above_maximum(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = reverse("admin:therapyinfo_therapy_change", args=[ketamine.pk])
    data = form_data(staff_client.get(url))
    data.update(onset_min="50", onset_max="2", onset_unit="hours")
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "cannot be later" in response.content.decode()
    ketamine.refresh_from_db()
    assert ketamine.onset_min_hours != 50


def test_view_on_site_links_to_the_public_page(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    html = staff_client.get(
        reverse("admin:therapyinfo_therapy_change", args=[ketamine.pk])
    ).content.decode()
    assert "View on site" in html


def test_the_admin_home_links_the_editors_guides_and_they_open(staff_client):
    home = staff_client.get(reverse("admin:index")).content.decode()
    url = reverse("admin:guide", args=["editing"])
    assert f'href="{url}"' in home
    page = staff_client.get(url).content.decode()
    assert "<h1>Editing and reviewing</h1>" in page
    assert "The review workflow</h2>" in page
    assert "A change note is required." in page
    # Links between guides stay in the admin.
    assert f'href="{reverse("admin:guide", args=["content-rules"])}"' in page
    assert staff_client.get("/admin/guide/no-such-guide/").status_code == 404
    # Staff only.
    staff_client.logout()
    assert staff_client.get(url).status_code == 302


def test_text_too_long_to_read_as_markdown_is_refused_with_a_plain_message(staff_client, client):
    ketamine = Therapy.objects.get(slug="ketamine")
    url = reverse("admin:therapyinfo_therapy_change", args=[ketamine.pk])
    data = form_data(staff_client.get(url))
    data.update(how_given="A" * (MARKDOWN_MAX_CHARS + 1), change_note="Longer text.")
    response = staff_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "at most 10,000" in str(errors["how_given"])
    ketamine.refresh_from_db()
    assert ketamine.how_given != data["how_given"]
    assert "A" * 100 not in client.get(ketamine.get_absolute_url()).content.decode()
