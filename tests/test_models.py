"""Model validation, database constraints, natural keys and review dates."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from therapyinfo.models import (
    ArticleSection,
    Comparison,
    ComparisonCell,
    ComparisonRow,
    Source,
    Therapy,
    TherapySideEffect,
    add_months,
)


def test_onset_minimum_above_maximum_is_a_validation_error_on_the_field(ketamine):
    ketamine.onset_min_hours, ketamine.onset_max_hours = 48, 2
    with pytest.raises(ValidationError) as caught:
        ketamine.full_clean()
    assert "onset_min_hours" in caught.value.message_dict
    assert "cannot be later" in caught.value.message_dict["onset_min_hours"][0]


def test_duration_minimum_above_maximum_is_a_validation_error(ketamine):
    ketamine.duration_min_days, ketamine.duration_max_days = 30, 3
    with pytest.raises(ValidationError) as caught:
        ketamine.full_clean()
    assert "duration_min_days" in caught.value.message_dict


def test_database_refuses_onset_minimum_above_maximum_even_without_clean(ketamine):
    with pytest.raises(IntegrityError), transaction.atomic():
        Therapy.objects.filter(pk=ketamine.pk).update(onset_min_hours=1000, onset_max_hours=1)


def test_database_refuses_a_second_cell_for_the_same_row_and_therapy(ketamine):
    cell = ComparisonCell.objects.filter(therapy=ketamine).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ComparisonCell.objects.create(row=cell.row, therapy=ketamine, text="duplicate")


def test_clean_reports_a_second_cell_for_the_same_row_and_therapy(ketamine):
    cell = ComparisonCell.objects.filter(therapy=ketamine).first()
    with pytest.raises(ValidationError, match="already has a cell"):
        ComparisonCell(row=cell.row, therapy=ketamine, text="duplicate").full_clean()


def test_database_refuses_a_duplicate_therapy_slug(ketamine):
    with pytest.raises(IntegrityError), transaction.atomic():
        Therapy.objects.filter(slug="lsd").update(slug="ketamine")


def test_database_refuses_a_second_row_for_the_same_therapy_and_side_effect(ketamine):
    entry = TherapySideEffect.objects.filter(therapy=ketamine).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        TherapySideEffect.objects.create(
            therapy=ketamine,
            side_effect=entry.side_effect,
            frequency="rare",
            severity="mild",
            how_long="x",
        )


def test_source_doi_must_be_bare(db):
    source = Source.objects.first()
    source.doi = "https://doi.org/10.1056/NEJMoa2032994"
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert "doi" in caught.value.message_dict


def test_natural_keys_find_the_same_records(db):
    for model in (
        Therapy,
        Comparison,
        ComparisonRow,
        ComparisonCell,
        ArticleSection,
        TherapySideEffect,
    ):
        for obj in model.objects.all()[:5]:
            assert model.objects.get_by_natural_key(*obj.natural_key()) == obj


def test_str_and_urls_read_well(ketamine):
    assert str(ketamine) == ketamine.name
    assert ketamine.get_absolute_url() == "/therapies/ketamine/"
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    assert comparison.get_absolute_url() == "/compare/ketamine-vs-psychedelics/"
    section = ArticleSection.objects.first()
    assert section.get_absolute_url().endswith(f"#{section.anchor}")
    assert str(TherapySideEffect.objects.filter(therapy=ketamine).first()).endswith(
        "with " + ketamine.name
    )


def test_next_review_defaults_to_the_review_interval_after_the_last_review(ketamine, settings):
    settings.REVIEW_INTERVAL_MONTHS = 12
    ketamine.last_reviewed, ketamine.next_review_due = date(2026, 2, 28), None
    ketamine.save()
    ketamine.refresh_from_db()
    assert ketamine.next_review_due == date(2027, 2, 28)


def test_next_review_cannot_be_before_the_last(ketamine):
    ketamine.last_reviewed, ketamine.next_review_due = date(2026, 5, 1), date(2026, 1, 1)
    with pytest.raises(ValidationError) as caught:
        ketamine.full_clean()
    assert "next_review_due" in caught.value.message_dict


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 26), 12, date(2027, 11, 26)),
        (date(2026, 12, 15), 6, date(2027, 6, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_short_months(start, months, expected):
    assert add_months(start, months) == expected
