"""Markdown is rendered when content is saved (the model's `save()`), not on
each request: pages read the stored HTML, and only number citations and link
glossary terms in it. Template output is never stored."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from therapyinfo.models import ArticleSection, Therapy

pytestmark = pytest.mark.django_db


def test_every_loaded_record_has_its_markdown_stored_as_html():
    # load_content (loaddata's raw saves) ran for the test database.
    for record in [*Therapy.objects.all(), *ArticleSection.objects.all()]:
        assert set(record.rendered) == set(record.markdown_fields), record
        for name in record.markdown_fields:
            assert record.rendered[name].startswith("<"), (record, name)


def test_an_edit_is_rendered_when_saved_and_shown_from_the_stored_html(client, monkeypatch):
    ketamine = Therapy.objects.get(slug="ketamine")
    ketamine.body = "## Changed heading\n\nNew **bold** words."
    ketamine.save()
    ketamine.refresh_from_db()
    assert ketamine.rendered["body"] == (
        "<h3>Changed heading</h3>\n<p>New <strong>bold</strong> words.</p>"
    )

    def no_rendering_per_request(*args, **kwargs):
        raise AssertionError("Markdown rendered during a request")

    monkeypatch.setattr("markdown.markdown", no_rendering_per_request)
    html = client.get("/therapies/ketamine/").content.decode()
    assert "<h3>Changed heading</h3>" in html and "<strong>bold</strong>" in html


def test_the_stored_html_is_sanitised():
    section = ArticleSection.objects.first()
    section.body = "Hi <script>alert(1)</script> [x](javascript:alert(1))"
    section.save()
    assert "<script" not in section.rendered["body"]
    assert "javascript:" not in section.rendered["body"]


def test_the_stored_html_is_not_exported(tmp_path):
    call_command("export_content", output_dir=tmp_path, stdout=StringIO())
    for path in tmp_path.glob("*.json"):
        for record in json.loads(path.read_text()):
            assert "rendered" not in record["fields"], path.name


def test_render_content_renders_stale_markdown_and_moves_the_version_once(client):
    from therapyinfo.cache import read_content_version

    # As after a release that renders or sanitises Markdown differently.
    Therapy.objects.filter(slug="ketamine").update(rendered={"body": "<p>Old body.</p>"})
    ArticleSection.objects.filter(pk=ArticleSection.objects.first().pk).update(
        rendered={"body": "<p>Old section.</p>"}
    )
    before = read_content_version()

    out = StringIO()
    call_command("render_content", stdout=out)
    assert "rendered 2 of" in out.getvalue()
    assert read_content_version() > before
    assert "Old body." not in client.get("/therapies/ketamine/").content.decode()

    # Nothing stale left: a second run writes nothing and leaves the version alone.
    version = read_content_version()
    out = StringIO()
    call_command("render_content", stdout=out)
    assert "rendered 0 of" in out.getvalue()
    assert read_content_version() == version


def test_a_record_loaded_raw_shows_its_markdown_until_render_content_stores_it(client):
    # loaddata saves raw, without the model's save(); the page still shows the text.
    Therapy.objects.filter(slug="ketamine").update(rendered={}, body="Loaded **raw**.")
    from therapyinfo.cache import bump_content_version

    bump_content_version()
    assert "Loaded <strong>raw</strong>." in client.get("/therapies/ketamine/").content.decode()
    call_command("render_content", stdout=StringIO())
    assert Therapy.objects.get(slug="ketamine").rendered["body"] == (
        "<p>Loaded <strong>raw</strong>.</p>"
    )
