"""The rules behind "Not known" side effects and comparison grades (issue 17):
refused on the model, so in the admin and in `load_content` alike, which
name the file, the record and the field."""

import json
import shutil
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from therapyinfo.models import (
    Certainty,
    ComparisonCell,
    Frequency,
    Source,
    SourceKind,
    TherapySideEffect,
)

pytestmark = pytest.mark.django_db


def esketamine_row(slug="dissociation"):
    return TherapySideEffect.objects.get(therapy__slug="ketamine", side_effect__slug=slug)


def errors_of(record):
    with pytest.raises(ValidationError) as error:
        record.full_clean()
    return error.value.message_dict


# "Not known" side-effect frequencies.


def test_not_known_is_refused_where_the_rows_own_label_has_the_figure():
    row = esketamine_row()
    assert row.source.kind == SourceKind.OFFICIAL and row.source_location
    row.frequency = Frequency.NOT_MEASURED
    errors = errors_of(row)
    assert list(errors) == ["frequency"]
    assert "Adverse reactions 6.1, TRD table" in errors["frequency"][0]


def test_not_known_is_refused_where_the_rows_own_trial_table_has_the_figure():
    row = TherapySideEffect.objects.get(therapy__slug="psilocybin", side_effect__slug="headache")
    assert row.source.kind == SourceKind.STUDY
    row.frequency = Frequency.NOT_MEASURED
    assert "Table 3" in errors_of(row)["frequency"][0]


def test_not_known_stands_where_the_source_lists_an_effect_without_a_figure():
    row = esketamine_row("suicidal-thoughts")
    assert row.frequency == Frequency.NOT_MEASURED and row.source_location == ""
    row.full_clean()


def test_company_data_with_a_location_does_not_count_as_a_table():
    row = TherapySideEffect.objects.get(therapy__slug="lsd", side_effect__slug="nausea")
    row.source = Source.objects.get(kind=SourceKind.COMPANY, slug="definium-8k-2026")
    row.source_location = "Item 8.01"
    row.full_clean()


@pytest.mark.parametrize("text", ["", "Not known", "not known.", " Unknown "])
def test_not_known_must_say_what_is_not_known(text):
    row = TherapySideEffect.objects.get(therapy__slug="lsd", side_effect__slug="nausea")
    row.how_often = text
    assert "Say what is not known" in errors_of(row)["how_often"][0]


def test_a_frequency_needs_its_figure_in_words_and_its_source():
    row = esketamine_row()
    row.how_often = ""
    assert "how_often" in errors_of(row)
    row = TherapySideEffect.objects.get(therapy__slug="lsd", side_effect__slug="flashbacks-hppd")
    row.frequency = Frequency.RARE
    assert "source" in errors_of(row)


def change_form_data(client, url):
    """The POST data an admin change form (with no inlines) sends back unchanged."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


def test_the_admin_refuses_not_known_where_the_label_has_the_figure(staff_client):
    row = esketamine_row()
    url = reverse("admin:therapyinfo_therapysideeffect_change", args=[row.pk])
    data = change_form_data(staff_client, url)
    data["frequency"] = Frequency.NOT_MEASURED
    response = staff_client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not allowed here" in html and "Adverse reactions 6.1, TRD table" in html
    row.refresh_from_db()
    assert row.frequency == Frequency.VERY_COMMON


def test_the_side_effect_form_shows_where_in_the_source(staff_client):
    url = reverse("admin:therapyinfo_therapysideeffect_change", args=[esketamine_row().pk])
    html = staff_client.get(url).content.decode()
    assert "Where in the source the figure is" in html
    assert 'name="how_often"' in html and 'name="source_location"' in html


@pytest.fixture
def fixtures_copy(tmp_path, settings):
    folder = tmp_path / "fixtures"
    shutil.copytree(settings.FIXTURE_DIRS[0], folder)
    return folder


def edit_fixture(folder, name, match, **changes):
    """Change the fields of the one record of `name`.json for which `match(fields)`;
    return its number as load_content counts records (from 1)."""
    path = folder / f"{name}.json"
    records = json.loads(path.read_text())
    (number,) = [n for n, r in enumerate(records, start=1) if match(r["fields"])]
    records[number - 1]["fields"].update(changes)
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    return number


def test_load_content_refuses_not_known_naming_file_record_and_field(fixtures_copy):
    number = edit_fixture(
        fixtures_copy,
        "therapy_side_effects",
        lambda f: f["therapy"] == ["ketamine"] and f["side_effect"] == ["dissociation"],
        frequency="not-measured",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_content", fixtures_dir=fixtures_copy, stdout=StringIO())
    message = str(error.value)
    assert f"therapy_side_effects.json, record {number}" in message
    assert "'ketamine' 'dissociation'" in message
    assert "field 'frequency'" in message and "is not allowed here" in message
    assert esketamine_row().frequency == Frequency.VERY_COMMON  # nothing loaded


# The grade rule for comparison cells.


def cell(row, therapy):
    return ComparisonCell.objects.get(row__slug=row, therapy__slug=therapy)


def test_company_data_alone_cannot_be_more_than_company_data():
    lsd = cell("evidence", "lsd")
    lsd.certainty = Certainty.SEVERAL_TRIALS
    message = errors_of(lsd)["certainty"][0]
    assert "definium-8k-2026 (company announcement" in message
    assert "'Small studies or company data only'" in message
    lsd.certainty = Certainty.FEW_TRIALS
    assert "certainty" in errors_of(lsd)
    lsd.certainty = Certainty.LIMITED
    lsd.full_clean()


def test_company_data_beside_a_trial_cannot_be_several_large_trials():
    psilocybin = cell("evidence", "psilocybin")
    psilocybin.certainty = Certainty.SEVERAL_TRIALS
    assert "'One or two trials'" in errors_of(psilocybin)["certainty"][0]
    psilocybin.certainty = Certainty.FEW_TRIALS
    psilocybin.full_clean()


def test_a_news_report_cannot_be_several_large_trials():
    access = cell("cost-access", "psilocybin")
    access.text = "Licensed in Colorado since April 2025 [@colorado-first-licence-2025]."
    access.certainty = Certainty.SEVERAL_TRIALS
    assert "news report" in errors_of(access)["certainty"][0]


def test_a_not_known_cell_cannot_carry_a_high_grade():
    cost = cell("cost-access", "ketamine")
    assert "not known" in cost.text
    cost.certainty = Certainty.SEVERAL_TRIALS
    assert "says something is not known" in errors_of(cost)["certainty"][0]
    driving = cell("driving", "lsd")
    driving.text = "Not known. Effects can last 12 hours [@dolder-2017]."
    driving.certainty = Certainty.LIMITED
    assert "Grade it 'Not known'" in errors_of(driving)["certainty"][0]


def test_every_cell_in_the_fixtures_keeps_the_grade_rule():
    for each in ComparisonCell.objects.select_related("row", "therapy"):
        each.full_clean()
    assert cell("evidence", "psilocybin").certainty == Certainty.FEW_TRIALS
    assert cell("onset", "ketamine").certainty == Certainty.LIMITED
    assert cell("duration", "ketamine").certainty == Certainty.LIMITED


def test_the_admin_refuses_a_grade_above_its_sources(staff_client):
    lsd = cell("evidence", "lsd")
    url = reverse("admin:therapyinfo_comparisoncell_change", args=[lsd.pk])
    data = change_form_data(staff_client, url)
    data["certainty"] = Certainty.SEVERAL_TRIALS
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "the highest grade that allows is" in response.content.decode()
    lsd.refresh_from_db()
    assert lsd.certainty == Certainty.LIMITED


def test_load_content_refuses_a_grade_above_its_sources_naming_file_record_and_field(
    fixtures_copy,
):
    number = edit_fixture(
        fixtures_copy,
        "comparisons",
        lambda f: (
            f.get("row") == ["ketamine-vs-psychedelics", "evidence"] and f.get("therapy") == ["lsd"]
        ),
        certainty="several",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_content", fixtures_dir=fixtures_copy, stdout=StringIO())
    message = str(error.value)
    assert f"comparisons.json, record {number}" in message
    assert "'ketamine-vs-psychedelics/evidence' 'lsd'" in message
    assert "field 'certainty'" in message and "definium-8k-2026" in message
    assert cell("evidence", "lsd").certainty == Certainty.LIMITED


def test_a_not_known_cell_must_say_what_is_not_known():
    driving = cell("driving", "psilocybin")
    assert driving.text.startswith("When it is safe to drive after a session is not known")
    for text in ("Not known.", "Not known [@dolder-2017].", "  unknown "):
        driving.text = text
        assert "Say what is not known" in errors_of(driving)["text"][0], text
