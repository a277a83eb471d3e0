"""Nothing is lost silently: deleting a record that others use is refused with
a message naming what uses it (PROTECT), or the admin's confirmation page
lists every row that goes with it (CASCADE).

The choices, in models.py: a therapy used by comparison cells, a side effect
listed for a therapy and a source cited by a side-effect row are protected;
a therapy's own side-effect rows, a comparison's rows and cells and an
article's sections belong to it and go with it, after the confirmation page
lists them.
"""

import pytest
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils.html import escape

from therapyinfo.models import (
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    ComparisonRow,
    SideEffect,
    Source,
    Therapy,
    TherapySideEffect,
)

pytestmark = pytest.mark.django_db


def listed(obj):
    """How the admin lists a row on a delete page: its kind, and a link to it."""
    change = reverse(f"admin:therapyinfo_{obj._meta.model_name}_change", args=[obj.pk])
    kind = obj._meta.verbose_name.capitalize()
    return f'{kind}: <a href="{change}">{escape(str(obj))}</a>'


def delete_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_delete", args=[obj.pk])


def test_a_therapy_in_the_comparison_cannot_be_deleted_and_the_admin_says_why(staff_client):
    ketamine = Therapy.objects.get(slug="ketamine")
    cells = ComparisonCell.objects.filter(therapy=ketamine).select_related("row")
    assert cells.exists()
    html = staff_client.get(delete_url(ketamine)).content.decode()
    assert "would require deleting the following protected related objects" in html
    for cell in cells:
        assert listed(cell) in html
    response = staff_client.post(delete_url(ketamine), {"post": "yes"})
    assert response.status_code == 200  # the refusal again, nothing deleted
    assert Therapy.objects.filter(slug="ketamine").exists()
    assert ComparisonCell.objects.filter(therapy=ketamine).count() == cells.count()


def test_the_orm_refuses_too(ketamine):
    with pytest.raises(ProtectedError):
        ketamine.delete()


def test_deleting_a_therapy_lists_its_side_effect_rows_first(staff_client, draft_therapy):
    nausea = SideEffect.objects.get(slug="nausea")
    row = TherapySideEffect.objects.create(
        therapy=draft_therapy, side_effect=nausea, frequency="common", severity="mild", how_long="x"
    )
    html = staff_client.get(delete_url(draft_therapy)).content.decode()
    assert "Are you sure" in html
    assert listed(row) in html
    assert "Therapy-mechanism relationship" in html
    staff_client.post(delete_url(draft_therapy), {"post": "yes"})
    assert not Therapy.objects.filter(pk=draft_therapy.pk).exists()
    assert not TherapySideEffect.objects.filter(pk=row.pk).exists()


def test_a_side_effect_listed_for_a_therapy_cannot_be_deleted(staff_client):
    side_effect = SideEffect.objects.filter(therapy_rows__isnull=False).first()
    html = staff_client.get(delete_url(side_effect)).content.decode()
    assert "would require deleting the following protected related objects" in html
    assert "Therapy side effect:" in html
    staff_client.post(delete_url(side_effect), {"post": "yes"})
    assert SideEffect.objects.filter(pk=side_effect.pk).exists()


def test_a_source_cited_by_a_side_effect_row_cannot_be_deleted(staff_client):
    source = Source.objects.first()
    row = TherapySideEffect.objects.first()
    row.source = source
    row.save()
    html = staff_client.get(delete_url(source)).content.decode()
    assert "would require deleting the following protected related objects" in html
    assert listed(row) in html
    staff_client.post(delete_url(source), {"post": "yes"})
    assert Source.objects.filter(pk=source.pk).exists()


def test_deleting_a_source_lists_the_pages_that_cite_it(staff_client):
    # Issue 10: a cited source is not deleted at all; the refusal names the pages.
    source = Source.objects.filter(therapies__isnull=False).first()
    html = staff_client.get(delete_url(source)).content.decode()
    assert "Cannot delete source" in html
    assert f"Therapy: {source.therapies.first()}" in html


def test_deleting_a_comparison_lists_every_row_and_cell(staff_client):
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    html = staff_client.get(delete_url(comparison)).content.decode()
    for row in ComparisonRow.objects.filter(comparison=comparison):
        assert listed(row) in html
    for cell in ComparisonCell.objects.filter(row__comparison=comparison):
        assert listed(cell) in html


def test_deleting_a_comparison_row_lists_its_cells(staff_client):
    row = ComparisonRow.objects.first()
    html = staff_client.get(delete_url(row)).content.decode()
    assert row.cells.exists()
    for cell in row.cells.all():
        assert listed(cell) in html


def test_deleting_an_article_lists_every_section(staff_client):
    article = Article.objects.first()
    html = staff_client.get(delete_url(article)).content.decode()
    sections = ArticleSection.objects.filter(article=article)
    assert sections.exists()
    for section in sections:
        assert listed(section) in html
