"""The content fixtures: they load, they round-trip, and broken ones are refused
with a clear message and no change to the database."""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from therapyinfo.models import (
    ArticleSection,
    Comparison,
    ComparisonCell,
    CrisisResource,
    Outcome,
    Therapy,
    TherapySideEffect,
)

FIXTURES = Path(settings.FIXTURE_DIRS[0])
# Revisions (the history) and the record of loads are not content: loading and
# deleting content adds to them (therapyinfo/revisions.py).
CONTENT_MODELS = [
    m
    for m in apps.get_app_config("therapyinfo").get_models()
    if m.__name__ not in ("ContentVersion", "Revision", "ContentLoad")
]


def snapshot():
    """Every content row, as natural-key JSON: equal snapshots mean equal content.

    The content version is left out: it is when content last changed, not content."""
    out = StringIO()
    call_command(
        "dumpdata",
        *(model._meta.label for model in CONTENT_MODELS),
        natural_foreign=True,
        natural_primary=True,
        indent=1,
        stdout=out,
    )
    return out.getvalue()


def delete_all_content():
    for model in (ComparisonCell, TherapySideEffect, Outcome, *CONTENT_MODELS):
        model.objects.all().delete()


def test_every_fixture_file_is_listed_and_refers_by_natural_key_only():
    on_disk = {path.stem for path in FIXTURES.glob("*.json")}
    assert on_disk == set(settings.CONTENT_FIXTURES)
    for name in settings.CONTENT_FIXTURES:
        for record in json.loads((FIXTURES / f"{name}.json").read_text()):
            assert "pk" not in record, f"{name}.json uses a database id"


def test_the_whole_article_is_loaded(db):
    assert set(Therapy.objects.published().values_list("slug", flat=True)) == {
        "ketamine",
        "psilocybin",
        "lsd",
    }
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    assert comparison.rows.count() >= 8
    for row in comparison.rows.all():
        assert sorted(row.cells.values_list("therapy__slug", flat=True)) == [
            "ketamine",
            "lsd",
            "psilocybin",
        ]
    phones = set(CrisisResource.objects.values_list("phone", flat=True))
    assert {"988", "116 123", "911", "999", "112"} <= phones


def test_load_content_twice_gives_the_same_rows(db):
    before = {model: model.objects.count() for model in CONTENT_MODELS}
    first = snapshot()
    out = StringIO()
    call_command("load_content", stdout=out)
    assert "Loaded" in out.getvalue()
    assert {model: model.objects.count() for model in CONTENT_MODELS} == before
    assert snapshot() == first


def test_load_content_fills_an_empty_database(db):
    expected = snapshot()
    delete_all_content()
    assert Therapy.objects.count() == 0
    call_command("load_content", stdout=StringIO())
    assert snapshot() == expected


def test_dry_run_validates_without_writing(db):
    delete_all_content()
    out = StringIO()
    call_command("load_content", dry_run=True, stdout=out)
    assert "Checked" in out.getvalue()
    assert Therapy.objects.count() == 0


def test_natural_key_dump_loads_into_an_empty_database_unchanged(db, tmp_path):
    dump = tmp_path / "dump.json"
    dump.write_text(snapshot())
    expected = snapshot()
    delete_all_content()
    call_command("loaddata", str(dump), stdout=StringIO())
    assert snapshot() == expected


def test_loaddata_in_readme_order_then_render_content_loads_everything(db):
    expected = snapshot()
    delete_all_content()
    call_command("loaddata", *settings.CONTENT_FIXTURES, stdout=StringIO())
    # loaddata saves raw, past the models' save() that renders their Markdown.
    call_command("render_content", stdout=StringIO())
    assert snapshot() == expected


@pytest.fixture
def broken_fixtures(tmp_path):
    """A copy of fixtures/ to break one record of; returns an editor for one file."""
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)

    def edit(name, change):
        path = target / f"{name}.json"
        records = json.loads(path.read_text())
        change(records)
        path.write_text(json.dumps(records, indent=2))
        return target

    return edit


def record_index(records, model, slug):
    for index, record in enumerate(records):
        if record["model"] == model and record["fields"].get("slug") == slug:
            return index
    raise LookupError(slug)


def set_field(model, slug, field, value):
    def change(records):
        records[record_index(records, model, slug)]["fields"][field] = value

    return change


def rename_field(model, slug, old, new):
    def change(records):
        fields = records[record_index(records, model, slug)]["fields"]
        fields[new] = fields.pop(old)

    return change


def ketamine_record_number():
    records = json.loads((FIXTURES / "therapies.json").read_text())
    return record_index(records, "therapyinfo.therapy", "ketamine") + 1


BROKEN = {
    "unknown field": (
        "therapies",
        rename_field("therapyinfo.therapy", "ketamine", "summary", "summmary"),
        ["field 'summmary'", "no such field"],
    ),
    "missing reference": (
        "therapies",
        set_field("therapyinfo.therapy", "ketamine", "mechanisms", [["no-such-mechanism"]]),
        ["field 'mechanisms'", "no-such-mechanism", "does not exist"],
    ),
    "invalid choice": (
        "therapies",
        set_field("therapyinfo.therapy", "ketamine", "status", "live"),
        ["field 'status'", "'live' is not a valid choice"],
    ),
    "minimum above maximum": (
        "therapies",
        set_field("therapyinfo.therapy", "ketamine", "onset_min_hours", 99999),
        ["field 'onset_min_hours'", "cannot be later"],
    ),
    "not a number": (
        "therapies",
        set_field("therapyinfo.therapy", "ketamine", "onset_max_hours", "soon"),
        ["field 'onset_max_hours'", "'soon' is not valid"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_record_names_file_record_and_field_and_changes_nothing(db, broken_fixtures, case):
    name, change, phrases = BROKEN[case]
    folder = broken_fixtures(name, change)
    # A change that would otherwise be applied by an earlier file must be rolled back too.
    CrisisResource.objects.update(description="sentinel")
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())
    message = str(caught.value)
    assert f"therapies.json, record {ketamine_record_number()}" in message
    assert "'ketamine'" in message
    for phrase in phrases:
        assert phrase in message
    assert snapshot() == before


def test_bad_json_names_the_file_and_line_and_changes_nothing(db, tmp_path):
    folder = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, folder)
    (folder / "articles.json").write_text('[\n  {"model": "therapyinfo.article",\n  oops\n]')
    before = snapshot()
    with pytest.raises(CommandError, match=r"articles\.json: not valid JSON \(line 3"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())
    assert snapshot() == before


def test_a_record_with_a_database_id_is_refused(db, broken_fixtures):
    def add_pk(records):
        records[0]["pk"] = 1

    folder = broken_fixtures("sources", add_pk)
    with pytest.raises(CommandError, match=r"sources\.json, record 1 .*has a 'pk'"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())


def test_a_missing_fixture_file_is_named(db, tmp_path):
    with pytest.raises(CommandError, match="sources.json: file not found"):
        call_command("load_content", fixtures_dir=tmp_path, stdout=StringIO())


def test_an_unknown_model_is_named(db, broken_fixtures):
    def change(records):
        records[0]["model"] = "therapyinfo.nosuchthing"

    folder = broken_fixtures("glossary", change)
    with pytest.raises(CommandError, match=r"glossary\.json, record 1: unknown model"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())


def test_sections_keep_their_order_after_loading(db):
    for article_id in ArticleSection.objects.values_list("article", flat=True).distinct():
        positions = list(
            ArticleSection.objects.filter(article=article_id).values_list("position", flat=True)
        )
        assert positions == sorted(positions)


def test_every_citation_is_in_its_pages_source_list(db):
    from therapyinfo.models import CITATION, Article

    for therapy in Therapy.objects.all():
        listed = set(therapy.sources.values_list("slug", flat=True))
        texts = [getattr(therapy, name) for name in Therapy.markdown_fields]
        cited = set(CITATION.findall("\n".join(texts)))
        assert cited <= listed, (therapy.slug, cited - listed)
    for article in Article.objects.all():
        listed = set(article.sources.values_list("slug", flat=True))
        for section in article.sections.all():
            cited = set(CITATION.findall(section.body))
            assert cited <= listed, (article.slug, section.anchor, cited - listed)


def test_a_citation_of_an_unknown_source_is_refused(db, broken_fixtures):
    def change(records):
        for record in records:
            if record["model"] == "therapyinfo.articlesection":
                record["fields"]["body"] += " See [@made-up-2031]."
                return

    folder = broken_fixtures("articles", change)
    with pytest.raises(CommandError, match=r"field 'body': Cites made-up-2031, but there is no"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())
