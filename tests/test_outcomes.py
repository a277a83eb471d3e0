"""Outcomes: how many people in 100 were helped or harmed in one trial (issue 21).

The model refuses figures a patient could be misled by (a rate above 100, a
missing group, no time point), `load_content` refuses the same in a fixture
and names the file, record and field, and an editor's change to an outcome on
a live page waits for a clinical reviewer like any other row of the page."""

import json
import re
import shutil
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from therapyinfo.models import Outcome, Source, per_100
from therapyinfo.revisions import Revision, RevisionStatus, can_publish, page_of
from therapyinfo.templatetags.outcomes import frequency_sentences

from .test_admin import form_data
from .test_views import public_urls

FIXTURES = Path(settings.FIXTURE_DIRS[0])
pytestmark = pytest.mark.django_db


@pytest.fixture
def response_outcome(ketamine):
    return Outcome.objects.get(therapy=ketamine, slug="transform-2-response")


def errors_of(outcome):
    with pytest.raises(ValidationError) as caught:
        outcome.full_clean()
    return caught.value.message_dict


def test_the_fixture_outcomes_are_valid_and_the_published_figures_are_the_checked_ones(ketamine):
    for outcome in Outcome.objects.all():
        outcome.full_clean()
    rates = {
        o.slug: (o.treatment_rate, o.comparator_rate)
        for o in Outcome.objects.filter(therapy=ketamine)
    }
    # FACTS.md 7.6, checked 2 Dec 2026.
    assert rates["transform-2-response"] == (69, 52)
    assert rates["transform-2-remission"] == (53, 31)
    assert rates["elekt-d-response"] == (55, 41)
    assert rates["murrough-2013-response"] == (64, 28)
    assert rates["sustain-1-relapse"] == (27, 45)
    assert rates["label-dissociation"] == (41, 9)


def test_a_rate_above_100_is_refused_by_the_form_and_by_the_database(response_outcome):
    response_outcome.treatment_per_100 = 101
    assert "treatment_per_100" in errors_of(response_outcome)
    with pytest.raises(IntegrityError), transaction.atomic():
        response_outcome.save()


def test_a_group_without_a_figure_is_refused(response_outcome):
    response_outcome.comparator_per_100 = None
    response_outcome.comparator_events = 12
    assert "comparator_per_100" in errors_of(response_outcome)
    with pytest.raises(IntegrityError), transaction.atomic():
        response_outcome.save()


def test_events_and_size_give_the_rate_and_must_agree_with_one_given(response_outcome):
    response_outcome.treatment_per_100 = None
    response_outcome.treatment_events, response_outcome.treatment_size = 7, 12
    response_outcome.full_clean()
    assert response_outcome.treatment_rate == 58  # 58.3 in 100
    response_outcome.treatment_per_100 = 60
    assert "7 of 12 is 58 in 100, not 60" in errors_of(response_outcome)["treatment_per_100"][0]
    response_outcome.treatment_events = 13
    assert "treatment_events" in errors_of(response_outcome)


def test_rounding_is_to_whole_people_half_up():
    assert per_100(1, 200) == 1  # 0.5 in 100
    assert per_100(1, 3) == 33
    assert per_100(2, 3) == 67
    assert per_100(0, 5) == 0
    assert per_100(5, 5) == 100


def test_a_missing_time_point_is_refused(response_outcome):
    response_outcome.time_point = "  "
    assert "time_point" in errors_of(response_outcome)
    response_outcome.time_point = ""
    with pytest.raises(IntegrityError), transaction.atomic():
        response_outcome.save()


def test_company_data_cannot_pass_as_a_peer_reviewed_trial(response_outcome):
    response_outcome.source = Source.objects.get(slug="compass-2026")
    assert "evidence_type" in errors_of(response_outcome)
    response_outcome.evidence_type = "company"
    response_outcome.full_clean()


def test_maker_funding_names_the_maker(response_outcome):
    response_outcome.funder = ""
    assert "funder" in errors_of(response_outcome)


# load_content ------------------------------------------------------------------


def broken_copy(tmp_path, change):
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    path = target / "outcomes.json"
    records = json.loads(path.read_text())
    change(records[0]["fields"])
    path.write_text(json.dumps(records, indent=2))
    return target


BROKEN = {
    "rate above 100": (
        lambda f: f.update(treatment_per_100=140),
        ["field 'treatment_per_100'", "between 0 and 100"],
    ),
    "missing group": (
        lambda f: f.update(comparator_per_100=None),
        ["field 'comparator_per_100'", "number in 100"],
    ),
    "unlisted source": (
        lambda f: f.update(source=["no-such-paper-2099"]),
        ["field 'source'", "no-such-paper-2099", "does not exist"],
    ),
    "missing time point": (
        lambda f: f.update(time_point=""),
        ["field 'time_point'"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_load_content_refuses_a_bad_outcome_naming_file_record_and_field(tmp_path, case):
    change, phrases = BROKEN[case]
    before = list(Outcome.objects.values_list("slug", "treatment_per_100", "comparator_per_100"))
    folder = broken_copy(tmp_path, change)
    with pytest.raises(CommandError) as caught:
        call_command("load_content", fixtures_dir=folder, force=True, stdout=StringIO())
    message = str(caught.value)
    assert "outcomes.json, record 1" in message
    for phrase in phrases:
        assert phrase in message
    after = list(Outcome.objects.values_list("slug", "treatment_per_100", "comparator_per_100"))
    assert after == before


# Editorial review ----------------------------------------------------------------


def test_an_outcome_is_a_row_of_its_therapy_page_and_only_a_reviewer_publishes_it(
    response_outcome, editor, reviewer
):
    assert page_of(response_outcome) == response_outcome.therapy
    assert not can_publish(editor, response_outcome)
    assert can_publish(reviewer, response_outcome)


def test_an_editors_change_to_a_live_outcome_waits_for_review(client, editor, response_outcome):
    url = reverse("admin:therapyinfo_outcome_change", args=[response_outcome.pk])
    client.force_login(editor)
    data = form_data(client.get(url))
    data["treatment_per_100"] = "70"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    response_outcome.refresh_from_db()
    assert response_outcome.treatment_per_100 == 69
    assert Revision.objects.filter(status=RevisionStatus.PENDING).count() == 1


def test_the_therapy_edit_screen_has_the_outcomes_inline(client, reviewer, ketamine):
    client.force_login(reviewer)
    html = client.get(reverse("admin:therapyinfo_therapy_change", args=[ketamine.pk])).content
    assert b"natural frequencies and icon arrays" in html
    assert b'name="outcomes-0-treatment_per_100"' in html


# Natural frequencies and icon arrays ----------------------------------------------


class Element:
    """An element with its children and text in document order."""

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.parts = tag, attrs, parent, []

    def iter(self):
        yield self
        for part in self.parts:
            if isinstance(part, Element):
                yield from part.iter()

    def find_all(self, tag=None, cls=None):
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def words(self):
        for part in self.parts:
            yield from part.words() if isinstance(part, Element) else [part]

    @property
    def text(self):
        """Its text with runs of white space made one space, as a reader sees it."""
        return " ".join(" ".join(self.words()).split())


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class TreeBuilder(HTMLParser):
    """Just enough of an HTML tree to count figures and read captions."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("root", {}, None)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.parts.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.parts.append(Element(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def parse(html):
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


def page_of_outcomes(client, therapy):
    response = client.get(therapy.get_absolute_url())
    assert response.status_code == 200
    return parse(response.content.decode())


def test_the_sentence_gives_both_groups_the_time_point_and_both_framings(response_outcome):
    happened, did_not = frequency_sentences(response_outcome)
    assert happened == (
        "About 69 in 100 people who had esketamine nasal spray with a new antidepressant felt "
        "much better by day 28; so did about 52 in 100 who had a placebo (dummy) spray with a "
        "new antidepressant."
    )
    assert did_not == (
        "That leaves about 31 in 100 in the first group, and about 48 in 100 in the "
        "comparison group, who did not."
    )


def test_every_outcome_is_on_its_page_with_groups_time_point_source_date_and_both_framings(
    client,
):
    outcomes = Outcome.objects.filter(therapy__status="published").select_related("therapy")
    assert outcomes.count() >= 10
    for therapy in {o.therapy for o in outcomes}:
        page = page_of_outcomes(client, therapy)
        blocks = {e.attrs["id"]: e for e in page.find_all("section", "outcome")}
        for outcome in outcomes.filter(therapy=therapy).select_related("source"):
            block = blocks.pop(f"outcome-{outcome.slug}")
            text = block.text
            happened, did_not = frequency_sentences(outcome)
            for words in (
                happened,
                did_not,
                outcome.population,
                outcome.comparator,
                outcome.time_point,
                outcome.definition,
                outcome.get_evidence_type_display(),
                f"Figures checked {outcome.as_of:%-d %B %Y}",
            ):
                assert words in text, (outcome.slug, words)
            links = [a.attrs.get("href") for a in block.find_all("a")]
            assert outcome.source.link in links, outcome.slug
            if outcome.maker_funded:
                assert "funded by the maker" in text
        assert blocks == {}  # nothing on the page that is not a published outcome


def test_each_icon_array_draws_its_groups_count_and_says_the_same_in_words(client, ketamine):
    page = page_of_outcomes(client, ketamine)
    arrays = page.find_all("figure", "icon-array")
    outcomes = list(ketamine.outcomes.all())
    assert len(arrays) == 2 * len(outcomes)  # one per group, never two trials in one
    by_block = {e.attrs["id"]: e for e in page.find_all("section", "outcome")}
    for outcome in outcomes:
        block = by_block[f"outcome-{outcome.slug}"]
        pictures = block.find_all("figure", "icon-array")
        assert len(pictures) == 2
        for picture, count in zip(
            pictures, (outcome.treatment_rate, outcome.comparator_rate), strict=True
        ):
            (svg,) = picture.find_all("svg")
            (had,) = svg.find_all("g", "icon-array__had")
            (had_not,) = svg.find_all("g", "icon-array__had-not")
            assert len(had.find_all("use")) == count
            assert len(had_not.find_all("use")) == 100 - count
            assert svg.attrs["role"] == "img"
            (title,) = svg.find_all("title")
            assert svg.attrs["aria-labelledby"] == title.attrs["id"]
            assert f"{count} in 100 people" in title.text
            assert f"{100 - count} in 100 did not" in title.text
            caption = picture.find_all("figcaption")[0].text
            assert f"{count} in 100 {outcome.measure}" in caption
            assert f"{100 - count} did not" in caption
    # Every figure draws the one shape defined once on the page.
    assert len(page.find_all("g")) and any(
        e.attrs.get("id") == "icon-person" for e in page.find_all("g")
    )


def test_side_effect_figures_sit_inside_their_side_effect(client, ketamine):
    page = page_of_outcomes(client, ketamine)
    effects = page.find_all("details", "effect")
    with_figures = {
        e.find_all("span", "effect__name")[0].text: [
            o.attrs["id"] for o in e.find_all("section", "outcome")
        ]
        for e in effects
        if e.find_all("section", "outcome")
    }
    assert with_figures["Dissociation (feeling detached)"] == ["outcome-label-dissociation"]
    assert with_figures["Nausea"] == ["outcome-label-nausea"]


def test_a_page_with_several_trials_says_they_cannot_be_lined_up(client, ketamine):
    text = page_of_outcomes(client, ketamine).text
    assert "so their numbers cannot be lined up against each other" in text


def test_lsd_says_no_trial_has_reported_how_many_improved(client):
    from therapyinfo.models import Therapy

    lsd = Therapy.objects.get(slug="lsd")
    assert not lsd.outcomes.exists()
    text = page_of_outcomes(client, lsd).text
    assert "No trial of LSD for depression has yet reported how many people improved" in text
    # No chance is given for LSD in depression ("How many in 100 is not known" is fine).
    assert not NATURAL_FREQUENCY.search(text.replace("1 in 10", ""))


# The comparison, and the rule that no chance is given without its source -----------

NATURAL_FREQUENCY = re.compile(r"\b(\d{1,3}) in 100\b")


@pytest.mark.parametrize(
    ("aspect", "expected"), [("How many people improved in trials", 3), ("In plain words", 2)]
)
def test_the_comparison_rows_give_the_same_figures_as_the_outcomes(client, aspect, expected):
    """The outcomes row, and the takeaway built on the same figures."""
    page = parse(client.get("/compare/").content.decode())
    (row,) = [
        tr
        for tr in page.find_all("tr")
        if tr.find_all("th") and tr.find_all("th")[0].text == aspect
    ]
    cells = row.find_all("td")
    assert len(cells) == 3
    pairs = {
        (o.treatment_rate, o.comparator_rate)
        for o in Outcome.objects.filter(kind="benefit", therapy__status="published")
    }
    stated = 0
    for cell in cells:
        numbers = [int(n) for n in NATURAL_FREQUENCY.findall(cell.text)]
        assert len(numbers) % 2 == 0, cell.text
        for treated, compared in zip(numbers[::2], numbers[1::2], strict=True):
            assert (treated, compared) in pairs, cell.text  # no figure the outcomes lack
            stated += 1
        if numbers:
            assert cell.find_all("a", "cite"), cell.text
    assert stated == expected
    if expected == 3:
        assert "Not known" in cells[-1].text or "Not known" in row.text
        assert "cannot be lined up" in page.text


def ancestors(element):
    while element is not None:
        yield element
        element = element.parent


def test_no_page_gives_a_natural_frequency_without_its_source(client):
    checked = 0
    for url in public_urls():
        page = parse(client.get(url).content.decode())
        for element in page.iter():
            if element.tag not in {"p", "li", "td", "figcaption", "title", "dd", "summary"}:
                continue
            if not NATURAL_FREQUENCY.search(element.text):
                continue
            checked += 1
            outcome = next(
                (e for e in ancestors(element) if e.tag == "section" and "outcome" in e.classes),
                None,
            )
            card = next(
                (e for e in ancestors(element) if e.tag == "details" and "effect" in e.classes),
                None,
            )
            if outcome is not None:
                hrefs = [a.attrs.get("href", "") for a in outcome.find_all("a")]
                assert any(h.startswith(("https://doi.org/", "http")) for h in hrefs), url
                assert any(h.startswith("#source-") for h in hrefs), url
            elif "source__finding" in element.classes or any(
                "source__finding" in child.classes for child in element.find_all("p")
            ):
                pass  # a source's own finding (and its list entry) is the source
            elif card is not None:
                # A side-effect card names its source at its foot, like an outcome.
                (source,) = [p for p in card.find_all("p") if "effect__source" in p.classes]
                assert source.find_all("a"), (url, element.text)
            else:
                assert element.find_all("a", "cite"), (url, element.text)
    assert checked > 50


# IPDAS, as far as a machine can check it (docs/decision-aid.md) --------------------

ANY_DENOMINATOR = re.compile(r"\b\d+ in (\d+)\b")


def test_every_chance_uses_the_same_denominator(client):
    for url in public_urls():
        page = parse(client.get(url).content.decode())
        for result in page.find_all("section", "outcome"):
            denominators = set(ANY_DENOMINATOR.findall(result.text))
            assert denominators == {"100"}, (url, denominators)


def test_company_data_is_labelled_wherever_it_is_shown(client):
    from therapyinfo.models import Therapy

    psilocybin = Therapy.objects.get(slug="psilocybin")
    raison = Outcome.objects.get(therapy=psilocybin, slug="raison-2023-sustained-response")
    company = Outcome.objects.get(pk=raison.pk)
    company.pk = None
    company.slug = "company-result"
    company.trial = "A company trial"
    company.source = Source.objects.get(slug="compass-2026")
    company.evidence_type = "company"
    company.full_clean()
    company.save()
    page = page_of_outcomes(client, psilocybin)
    (shown,) = [
        s for s in page.find_all("section", "outcome") if s.attrs["id"].endswith("company-result")
    ]
    assert "Company data, not peer-reviewed" in shown.text
    others = [s for s in page.find_all("section", "outcome") if s is not shown]
    assert all("Company data" not in s.text for s in others)


def test_the_values_list_is_on_every_therapy_page_and_sends_nothing(client):
    from therapyinfo.models import Therapy

    for therapy in Therapy.objects.published():
        page = page_of_outcomes(client, therapy)
        (values,) = page.find_all("fieldset", "values")
        assert "What matters most to you?" in values.text
        boxes = values.find_all("input")
        assert len(boxes) == 7
        assert all(box.attrs["type"] == "checkbox" and "name" not in box.attrs for box in boxes)
        # Nothing to submit it with: the ticks never leave the reader's screen.
        assert not any(values in list(form.iter()) for form in page.find_all("form"))
        for words in ("How fast it may help", "Cost", "Whether it is approved where you live"):
            assert words in values.text


def test_the_outcome_list_in_the_admin_shows_both_groups_figures(client, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("admin:therapyinfo_outcome_changelist")).content.decode()
    assert "TRANSFORM-2" in html
    assert "69 vs 52" in html
