"""Every figure has a source: a percentage, a count of people, a score difference
in points or a trial size must cite a source in the same paragraph, list item
or table cell. The rule lives on the models (`uncited_figure`), so the admin
form and `load_content` both refuse such text, and every published page is
checked for it as a visitor would read it."""

import json
import re
import shutil
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.test_admin import form_data
from therapyinfo.models import (
    FIGURE,
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    Therapy,
    TherapySideEffect,
    uncited_figure,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.FIXTURE_DIRS[0])


@pytest.mark.parametrize(
    "text, figure",
    [
        ("In one study, 44% had high blood pressure.", "4%"),
        ("A trial of 403 people compared them.", "403 people"),
        ("Scores fell 3.6 points more than placebo.", "6 points"),
        ("149 adults had one dose.", "149 adults"),
        ("A small trial (n=24).", "n=2"),
        # A citation in another paragraph or list item does not count.
        ("55.4% responded.\n\nThat was a trial [@anand-2023].", "4%"),
        ("- 403 people took part\n- It was open-label [@anand-2023]", "403 people"),
        ("| 55.4% | [@anand-2023] |", "4%"),
    ],
)
def test_a_figure_without_a_citation_beside_it_is_found(text, figure):
    assert uncited_figure(text) == figure


@pytest.mark.parametrize(
    "text",
    [
        "55.4% responded to ketamine [@anand-2023].",
        "- In 403 people, ketamine was not worse [@anand-2023].\n- Another item.",
        "Very common (more than 1 in 10).",
        "Up to 6 infusions over 2 to 3 weeks, 0.5 mg/kg over 40 minutes.",
        "Seven people took part.",
    ],
)
def test_cited_figures_and_plain_numbers_pass(text):
    assert uncited_figure(text) is None


def test_the_admin_refuses_an_uncited_figure_and_saves_nothing(staff_client):
    section = ArticleSection.objects.get(
        article__slug="ketamine-infusion-therapy", anchor="spravato"
    )
    url = reverse("admin:therapyinfo_articlesection_change", args=[section.pk])
    data = form_data(staff_client.get(url))
    data["body"] = section.body + "\n\nIn one clinic, 44% of people had high blood pressure."
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "without a source" in response.content.decode()
    section.refresh_from_db()
    assert "44%" not in section.body


def test_the_admin_saves_the_same_figure_with_a_citation(staff_client):
    section = ArticleSection.objects.get(
        article__slug="ketamine-infusion-therapy", anchor="spravato"
    )
    url = reverse("admin:therapyinfo_articlesection_change", args=[section.pk])
    data = form_data(staff_client.get(url))
    data["body"] = section.body + "\n\n55.4% responded to ketamine [@anand-2023]."
    data["change_note"] = "A cited figure."
    assert staff_client.post(url, data).status_code == 302
    section.refresh_from_db()
    assert "55.4% responded" in section.body


def test_the_admin_refuses_a_graded_comparison_cell_without_a_source(staff_client):
    cell = ComparisonCell.objects.get(row__slug="evidence", therapy__slug="ketamine")
    url = reverse("admin:therapyinfo_comparisoncell_change", args=[cell.pk])
    data = form_data(staff_client.get(url))
    data["text"] = "Several trials show it works."
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "Cite the source" in response.content.decode()
    cell.refresh_from_db()
    assert "[@anand-2023]" in cell.text


def copy_of_fixtures(tmp_path, name, change):
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    path = target / f"{name}.json"
    records = json.loads(path.read_text())
    change(records)
    path.write_text(json.dumps(records, indent=2))
    return target


@pytest.mark.parametrize(
    "name, model, key, field, text, where",
    [
        (
            "therapies",
            "therapyinfo.therapy",
            "ketamine",
            "evidence",
            "In a trial of 403 people, most got better.",
            r"therapies\.json, record 1 \(therapyinfo\.Therapy 'ketamine'\): field 'evidence'",
        ),
        (
            "comparisons",
            "therapyinfo.comparisoncell",
            None,
            "text",
            "55.4% responded.",
            r"comparisons\.json, record \d+ \(therapyinfo\.ComparisonCell "
            r"'ketamine-vs-psychedelics/[a-z-]+' '[a-z]+'\): field 'text'",
        ),
    ],
)
def test_load_content_refuses_an_uncited_figure_naming_file_record_and_field(
    tmp_path, name, model, key, field, text, where
):
    before = {
        "evidence": Therapy.objects.get(slug="ketamine").evidence,
        "cells": list(ComparisonCell.objects.values_list("text", flat=True)),
    }

    def change(records):
        for record in records:
            if record["model"] == model and key in (None, record["fields"].get("slug")):
                record["fields"][field] = text
                return

    folder = copy_of_fixtures(tmp_path, name, change)
    with pytest.raises(CommandError, match=where + r": States a figure"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())
    assert Therapy.objects.get(slug="ketamine").evidence == before["evidence"]
    assert list(ComparisonCell.objects.values_list("text", flat=True)) == before["cells"]


def test_load_content_refuses_a_frequency_without_its_source(tmp_path):
    def change(records):
        records[0]["fields"].update(frequency="very-common", source=None)

    folder = copy_of_fixtures(tmp_path, "therapy_side_effects", change)
    with pytest.raises(CommandError, match=r"field 'source': A frequency needs the source"):
        call_command("load_content", fixtures_dir=folder, stdout=StringIO())


# What a visitor reads, block by block.
BLOCKS = {"p", "li", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "summary", "caption"}
# A source's own entry states what it found: it is the source.
SOURCE_LISTS = re.compile(r'<ol class="sources">.*?</ol>|<ul class="sources[^"]*">.*?</ul>', re.S)
# A side-effect card cites its source once, at its foot.
CARD = re.compile(r'<details class="effect.*?</details>', re.S)
# So does each trial result given in natural frequencies (includes/outcome.html).
OUTCOME = re.compile(r'<section class="outcome".*?</section>', re.S)
TAGS = re.compile(r"<[^>]+>")


class Blocks(HTMLParser):
    """(text, cites a source) for every innermost block of a page."""

    def __init__(self):
        super().__init__()
        self.stack, self.found = [], []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self.stack.append([tag, "", False])
        if tag == "a" and "cite" in (dict(attrs).get("class") or "").split():
            for block in self.stack:
                block[2] = True

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1][0] == tag:
            _, text, cited = self.stack.pop()
            self.found.append((" ".join(text.split()), cited))

    def handle_data(self, data):
        for block in self.stack:
            block[1] += data


def uncited_figures_on(html):
    html = html.split('<footer class="site-footer">')[0]
    html = SOURCE_LISTS.sub("", html)
    problems = [
        " ".join(TAGS.sub(" ", card).split())[:120]
        for card in CARD.findall(html)
        if FIGURE.search(TAGS.sub(" ", card)) and 'class="effect__source"' not in card
    ]
    problems += [
        " ".join(TAGS.sub(" ", result).split())[:120]
        for result in OUTCOME.findall(html)
        if 'class="cite"' not in result
    ]
    parser = Blocks()
    parser.feed(OUTCOME.sub("", CARD.sub("", html)))
    problems += [text for text, cited in parser.found if FIGURE.search(text) and not cited]
    return problems


def public_paths():
    paths = ["/", "/compare/", "/glossary/", "/sources/", "/about/"]
    for model in (Therapy, Article, Comparison):
        paths += [record.get_absolute_url() for record in model.objects.published()]
    return paths


def test_every_published_page_cites_a_source_beside_every_figure(client):
    problems = {}
    for path in public_paths():
        response = client.get(path)
        assert response.status_code == 200, path
        if found := uncited_figures_on(response.content.decode()):
            problems[path] = found
    assert problems == {}


def test_the_page_check_catches_a_figure_without_a_source(client):
    # save() skips clean(), as a shell or a raw write would: the page check still catches it.
    ketamine = Therapy.objects.get(slug="ketamine")
    ketamine.how_given = "In one clinic, 44% of people had high blood pressure."
    ketamine.save()
    found = uncited_figures_on(client.get("/therapies/ketamine/").content.decode())
    assert any("44%" in text for text in found)


def test_a_side_effect_figure_stands_beside_its_source(client):
    entry = TherapySideEffect.objects.get(therapy__slug="ketamine", side_effect__slug="nausea")
    assert "28 in 100" in entry.how_often and entry.source.slug == "spravato-label"
    html = client.get("/therapies/ketamine/").content.decode()
    (card,) = [card for card in CARD.findall(html) if "28 in 100" in card]
    assert "Source:" in card and "Janssen" in card
