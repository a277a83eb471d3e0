"""Every therapy page answers the same questions in the same order
(`models.THERAPY_PARTS`), the way NHS medicines pages do: the model refuses to
publish a page with a part missing, `load_content` names the file, record and
field, and each published page shows every part with key facts and who should
not have it open."""

import json
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from therapyinfo.models import KEY_FACTS_MAX_SENTENCES, THERAPY_PARTS, Status, Therapy

pytestmark = pytest.mark.django_db


def section(html, anchor):
    """The HTML of the page's <section> for one part."""
    match = re.search(rf'<section[^>]*aria-labelledby="{anchor}">(.*?)</section>', html, re.S)
    assert match, f"no section for {anchor}"
    return match[1]


def test_every_published_therapy_page_has_every_part_in_order(client):
    therapies = list(Therapy.objects.published())
    assert len(therapies) == 3
    for therapy in therapies:
        html = client.get(therapy.get_absolute_url()).content.decode()
        ids = re.findall(r'<section[^>]*aria-labelledby="([a-z-]+)"', html)
        anchors = [part.anchor for part in THERAPY_PARTS]
        assert [i for i in ids if i in anchors] == anchors, therapy.slug
        for part in THERAPY_PARTS:
            body = section(html, part.anchor)
            assert f">{part.title}</h2>" in body
            assert re.sub(r"<[^>]+>|\s", "", body.split("</h2>", 1)[1]), (therapy.slug, part)


def test_key_facts_and_who_should_not_have_it_are_open(client):
    for therapy in Therapy.objects.published():
        html = client.get(therapy.get_absolute_url()).content.decode()
        key_facts = section(html, "key-facts")
        assert key_facts.index("<ul>") < key_facts.index("<details")
        # Who should not have it comes first and open; later label warnings may fold.
        who = section(html, "who-for")
        assert "Who should not have it" in who
        assert "<details" not in who.split("</ul>", 1)[0], therapy.slug


def test_key_facts_carry_the_strongest_warning_and_the_approval_date(client):
    html = client.get("/therapies/ketamine/").content.decode()
    key_facts = section(html, "key-facts")
    assert "Strongest warning" in key_facts
    assert "thoughts of suicide in young people" in key_facts
    assert re.search(r'As of <time datetime="\d{4}-\d\d-\d\d">', key_facts)
    lithium = section(client.get("/therapies/psilocybin/").content.decode(), "key-facts")
    assert "lithium" in lithium


def test_key_facts_are_at_most_six_sentences():
    for therapy in Therapy.objects.published():
        items = [line for line in therapy.key_facts.splitlines() if line.startswith("- ")]
        assert 1 <= len(items) <= KEY_FACTS_MAX_SENTENCES, therapy.slug


@pytest.mark.parametrize("field", ["key_facts", "who_for", "interactions", "long_term"])
def test_a_published_page_with_a_part_missing_is_refused(ketamine, field):
    setattr(ketamine, field, "  ")
    with pytest.raises(ValidationError) as refused:
        ketamine.full_clean()
    assert "fill it in before publishing" in refused.value.message_dict[field][0]


def test_a_draft_may_leave_parts_empty(ketamine):
    ketamine.status = Status.DRAFT
    ketamine.pregnancy = ""
    ketamine.full_clean()


def test_more_than_six_key_facts_are_refused(ketamine):
    ketamine.key_facts += "\n- One more fact.\n- And another."
    with pytest.raises(ValidationError) as refused:
        ketamine.full_clean()
    assert "at most 6 short sentences" in refused.value.message_dict["key_facts"][0]


def test_load_content_names_the_missing_part(tmp_path):
    folder = tmp_path / "fixtures"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures", folder)
    path = folder / "therapies.json"
    records = json.loads(path.read_text())
    next(r for r in records if r["fields"]["slug"] == "lsd")["fields"]["driving"] = ""
    path.write_text(json.dumps(records))
    before = Therapy.objects.get(slug="lsd").driving
    with pytest.raises(CommandError) as refused:
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())
    message = str(refused.value)
    assert "therapies.json" in message and "lsd" in message and "'driving'" in message
    assert Therapy.objects.get(slug="lsd").driving == before
