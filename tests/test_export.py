"""export_content writes the database back to fixtures/: natural keys, a stable
order, 2-space indentation; export, load into an empty database, export again
gives byte-identical files."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from therapyinfo.models import ComparisonCell, Therapy, TherapySideEffect

from .test_fixtures import delete_all_content

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.FIXTURE_DIRS[0])


def export(folder):
    call_command("export_content", output_dir=folder, stdout=StringIO())
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.json"))}


def test_export_load_into_an_empty_database_export_again_is_byte_identical(tmp_path):
    # An edit first, so the round trip covers more than the committed files.
    Therapy.objects.filter(slug="lsd").update(summary="Ünïcode — and “quotes”.")
    first = export(tmp_path / "first")
    assert sorted(first) == sorted(f"{name}.json" for name in settings.CONTENT_FIXTURES)
    delete_all_content()
    assert Therapy.objects.count() == 0
    call_command("load_content", fixtures_dir=tmp_path / "first", stdout=StringIO())
    assert Therapy.objects.get(slug="lsd").summary == "Ünïcode — and “quotes”."
    assert export(tmp_path / "second") == first


def test_exporting_the_committed_fixtures_reproduces_them_exactly(tmp_path):
    exported = export(tmp_path)
    for name, content in exported.items():
        assert content == (FIXTURES / name).read_bytes(), f"{name} differs from fixtures/"


def test_export_format_natural_keys_no_ids_no_history(tmp_path):
    exported = export(tmp_path)
    text = exported["therapy_side_effects.json"].decode("utf-8")
    assert text.startswith('[\n  {\n    "model": "therapyinfo.therapysideeffect",')
    assert text.endswith("}\n]\n")
    everything = b"".join(exported.values()).decode("utf-8")
    assert '"pk"' not in everything and '"id"' not in everything
    assert "historical" not in everything and "reviewed_by" not in everything
    assert "\\u" not in everything  # ensure_ascii=False: UTF-8 text as written
    records = json.loads(text)
    assert records[0]["fields"]["therapy"] == ["ketamine"]
    assert len(records) == TherapySideEffect.objects.count()
    cells = [r for r in json.loads(exported["comparisons.json"]) if r["model"].endswith("cell")]
    assert len(cells) == ComparisonCell.objects.count()
    assert cells[0]["fields"]["row"] == ["ketamine-vs-psychedelics", "onset"]


def test_an_admin_edit_shows_up_in_the_export(tmp_path):
    Therapy.objects.filter(slug="ketamine").update(typical_course="Six infusions.")
    therapies = json.loads(export(tmp_path)["therapies.json"])
    ketamine = next(r for r in therapies if r["fields"]["slug"] == "ketamine")
    assert ketamine["fields"]["typical_course"] == "Six infusions."
