"""The clinical corrections of 26 Nov 2026 (FACTS.md section 6), on the pages
where a patient would look for them, and the rules that keep the comparison,
the side effects and the sources honest."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from therapyinfo.cache import bump_content_version
from therapyinfo.models import (
    Certainty,
    Comparison,
    ComparisonCell,
    Frequency,
    Source,
    SourceKind,
    TherapySideEffect,
)

pytestmark = pytest.mark.django_db

TAGS = re.compile(r"<[^>]+>")


def page_text(client, path):
    """What a reader sees, as one line of plain text (footer left out)."""
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode().split('<footer class="site-footer">')[0]
    return " ".join(TAGS.sub(" ", html).replace("&nbsp;", " ").split())


@pytest.mark.parametrize(
    "path, statements",
    [
        (
            "/therapies/ketamine/",
            [
                "It has not been shown to prevent suicide",
                "does not replace hospital care",
                "until the next day, after a restful sleep",
                "at least 2 hours after each dose, and until any sleepiness",
                "checked before the dose, at about 40 minutes and before you leave",
                "bladder damage (cystitis) with long-term or misused ketamine",
                "NICE does not recommend esketamine",
                "compounded ketamine and ketamine taken at home without monitoring",
                "Benzodiazepines, opioids, alcohol or other sedatives",
                "Stimulants or MAOI antidepressants",
                "Esketamine is not recommended in pregnancy",
                "Among the 17 people who responded",
                "tested whether ketamine was not worse than ECT",
                "As of 2 December 2026",
            ],
        ),
        (
            "/therapies/psilocybin/",
            [
                "happened in all dose groups, including 1 mg",
                "the 25 mg group was ahead from day 2",
                "from day 8 to day 43",
                "company results, not yet peer-reviewed",
                "clear in statistics but modest for patients",
                "No approval had been given as of 2 December 2026",
                "Executive Order 14401",
                "It does not make any drug legal",
                "Colorado licensed its first healing centre on 11 April 2025",
                "These services are not medical treatment",
                "Lithium: do not combine",
                "There are no safety data for psilocybin in pregnancy or breastfeeding",
                "When it is safe to drive after a session is not known",
            ],
        ),
        (
            "/therapies/lsd/",
            [
                "DT120 (formerly MM120)",
                "company results, not yet peer-reviewed",
                "149 adults had one 100 microgram dose or a placebo",
                "fell 13.3 points with DT120 and 5.2 with placebo",
                "There are no safety data for LSD in pregnancy or breastfeeding",
                "When relief starts and how long it lasts are not known",
            ],
        ),
        (
            "/articles/ketamine-infusion-therapy/",
            ["It has not been shown to prevent suicide", "NICE does not recommend esketamine"],
        ),
        (
            "/articles/safety-and-side-effects/",
            ["long-term or misused ketamine can damage the bladder", "including 1 mg"],
        ),
        (
            "/articles/future-directions/",
            ["It does not legalise or reschedule any drug", "not medical treatment"],
        ),
    ],
)
def test_corrected_statements_are_on_the_pages_where_patients_look(client, path, statements):
    text = page_text(client, path)
    missing = [s for s in statements if s.lower() not in text.lower()]
    assert missing == []


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/compare/",
        "/sources/",
        "/glossary/",
        "/therapies/ketamine/",
        "/therapies/psilocybin/",
        "/therapies/lsd/",
        "/articles/ketamine-infusion-therapy/",
        "/articles/how-well-do-they-work/",
        "/articles/safety-and-side-effects/",
        "/articles/history-of-psychedelic-research/",
        "/articles/future-directions/",
    ],
)
def test_no_page_guesses_or_admits_an_unchecked_figure(client, path):
    text = page_text(client, path).lower()
    for phrase in ("rough estimate", "we have not checked", "these numbers are rough"):
        assert phrase not in text, (path, phrase)


def test_old_errors_are_gone(client):
    ketamine = page_text(client, "/therapies/ketamine/")
    assert "at least as good as ECT" not in ketamine
    psilocybin = page_text(client, "/therapies/psilocybin/")
    assert "do not say how soon relief starts" not in psilocybin
    safety = page_text(client, "/articles/safety-and-side-effects/")
    assert "39%" not in safety  # Griffiths 2011 is not a listed source
    assert "frequent, long-term recreational use" not in safety


def test_esketamine_nausea_is_very_common_with_its_source():
    entry = TherapySideEffect.objects.get(therapy__slug="ketamine", side_effect__slug="nausea")
    assert entry.frequency == Frequency.VERY_COMMON
    assert entry.source.slug == "spravato-label"


def test_every_frequency_has_its_source():
    unsourced = TherapySideEffect.objects.exclude(frequency=Frequency.NOT_MEASURED).filter(
        source=None
    )
    assert list(unsourced) == []


def test_an_effect_without_a_figure_says_what_is_not_known(client):
    text = page_text(client, "/therapies/lsd/")
    said = "How often Not known. How often this happens after LSD given in trials is not known"
    assert said in text
    assert TherapySideEffect.objects.filter(frequency=Frequency.NOT_MEASURED).exists()


def test_a_frequency_without_a_source_is_refused():
    entry = TherapySideEffect.objects.get(therapy__slug="lsd", side_effect__slug="nausea")
    entry.frequency, entry.source = Frequency.COMMON, None
    with pytest.raises(ValidationError) as error:
        entry.full_clean()
    assert "source" in error.value.message_dict


# The comparison: every cell a sourced, dated, graded claim.

SAFETY_ROWS = {"who-should-not", "interactions", "driving", "pregnancy", "session-length"}


def test_the_comparison_has_the_safety_rows():
    comparison = Comparison.objects.get(slug="ketamine-vs-psychedelics")
    slugs = set(comparison.rows.values_list("slug", flat=True))
    assert SAFETY_ROWS | {"cost-access", "legal-status", "evidence"} <= slugs


def test_no_published_cell_lacks_a_date_a_grade_or_a_source():
    cells = ComparisonCell.objects.filter(row__comparison__status="published")
    assert cells.count() >= 40
    for cell in cells:
        assert cell.as_of, cell
        assert cell.certainty in Certainty.values, cell
        if cell.certainty != Certainty.NOT_KNOWN:
            assert cell.cited_slugs, cell
        known = set(Source.objects.filter(slug__in=cell.cited_slugs).values_list("slug", flat=True))
        assert known == set(cell.cited_slugs), cell


def test_every_cell_shows_its_sources_date_and_grade(client):
    html = client.get("/compare/").content.decode()
    table = html[html.index('<table class="compare">') : html.index("</table>")]
    cells = re.findall(r"<td>(.*?)</td>", table, re.S)
    graded = [cell for cell in cells if 'class="cell__meta"' in cell]
    assert len(graded) == ComparisonCell.objects.count()
    for cell in graded:
        assert re.search(r'As of <time datetime="\d{4}-\d{2}">[A-Z][a-z]+ \d{4}</time>', cell)
        grade = re.search(r'class="grade grade--([a-z-]+)"', cell)[1]
        if grade != "not-known":
            assert re.search(r'<a href="#source-\d+" class="cite">\[\d+\]</a>', cell), cell
    # Each number points at an entry of the page's own source list.
    numbers = {int(n) for n in re.findall(r'href="#source-(\d+)"', table)}
    for number in numbers:
        assert f'id="source-{number}"' in html


def test_the_grade_scale_is_explained_once_on_the_comparison_page(client):
    html = client.get("/compare/").content.decode()
    assert html.count('id="certainty-heading"') == 1
    assert html.index('id="certainty-heading"') < html.index('<table class="compare">')
    for grade in Certainty:
        assert escape(grade.label) in html


def test_a_graded_cell_without_a_source_is_refused():
    cell = ComparisonCell.objects.get(row__slug="onset", therapy__slug="ketamine")
    cell.text = "Often within hours."
    with pytest.raises(ValidationError, match="Cite the source"):
        cell.full_clean()
    cell.certainty = Certainty.NOT_KNOWN
    cell.full_clean()


def test_a_cell_without_an_as_of_date_is_refused():
    cell = ComparisonCell.objects.get(row__slug="onset", therapy__slug="ketamine")
    cell.as_of = None
    with pytest.raises(ValidationError) as error:
        cell.full_clean()
    assert "as_of" in error.value.message_dict


# Sources that stand up.


def test_no_placeholder_titles_and_every_entry_linked_or_honest(client):
    html = client.get("/sources/").content.decode()
    entries = re.findall(r'<li id="([a-z0-9-]+)">(.*?)</li>', html, re.S)
    assert len(entries) == Source.objects.count() >= 20
    for slug, entry in entries:
        title = re.search(r"<cite>(.*?)</cite>", entry, re.S)[1]
        assert not title.startswith("["), slug
        assert re.search(r'<a href="https://', entry) or "No link available" in entry, slug


def test_company_data_and_official_documents_are_labelled(client):
    html = client.get("/sources/").content.decode()
    for source in Source.objects.exclude(kind=SourceKind.STUDY):
        entry = re.search(rf'<li id="{source.slug}">(.*?)</li>', html, re.S)[1]
        assert escape(source.get_kind_display()) in entry
        assert f'<time datetime="{source.checked:%Y-%m-%d}">' in entry
    assert Source.objects.filter(kind=SourceKind.COMPANY).count() >= 2
    assert "Company announcement (not peer-reviewed)" in html


def test_official_documents_named_by_facts_are_sources():
    for slug, url in [
        ("nice-ta854", "https://www.nice.org.uk/guidance/ta854"),
        ("eo-14401", "https://www.whitehouse.gov/presidential-actions/2026/04/"),
        ("fda-spravato-rems", "https://www.accessdata.fda.gov/scripts/cder/rems/"),
        ("definium-8k-2026", "https://www.sec.gov/Archives/edgar/data/1813814/"),
    ]:
        source = Source.objects.get(slug=slug)
        assert source.url.startswith(url) and source.checked
    # Its address was not verified: cited by title and date, with no link.
    alert = Source.objects.get(slug="fda-2023-ketamine-alert")
    assert alert.link == "" and "10 October 2023" in alert.journal


def test_a_placeholder_title_or_an_undated_official_document_is_refused():
    source = Source.objects.get(slug="davis-2021")
    source.title = "[Randomised trial of psilocybin]"
    with pytest.raises(ValidationError, match="real title"):
        source.full_clean()
    official = Source.objects.get(slug="nice-ta854")
    official.checked = None
    with pytest.raises(ValidationError, match="last checked"):
        official.full_clean()
    study = Source.objects.get(slug="anand-2023")
    study.doi = ""
    with pytest.raises(ValidationError, match="DOI or a URL"):
        study.full_clean()


def test_a_missing_cell_says_not_known(client):
    ComparisonCell.objects.get(row__slug="driving", therapy__slug="lsd").delete()
    html = client.get("/compare/").content.decode()
    assert "Not known: we have no information on this." in html


def test_a_cell_numbers_its_citations_by_the_page_or_links_the_sources_page():
    from therapyinfo.templatetags.clinical import citable_text, number_citations

    cell = ComparisonCell.objects.get(row__slug="evidence", therapy__slug="ketamine")
    text = citable_text(cell.text)
    assert "&nbsp;[@anand-2023]" in text  # the marker stays with the word before it
    # Numbered by a page that lists the source; linked to the sources page by one that does not.
    numbers = {"anand-2023": 1}
    assert '<a href="#source-1" class="cite">[1]</a>' in number_citations(text, numbers)
    assert '<a href="/sources/#anand-2023" class="cite">[source]</a>' in number_citations(text, {})


def test_a_cell_shows_its_text_numbered_citations_grade_and_date(client):
    cell = ComparisonCell.objects.get(row__slug="evidence", therapy__slug="ketamine")
    html = client.get("/compare/").content.decode()
    shown = html.split(escape(cell.text.split(" [@")[0]), 1)[1].split("</td>")[0]
    assert shown.startswith('&nbsp;<a href="#source-')
    assert cell.get_certainty_display() in shown
    assert f'<time datetime="{cell.as_of:%Y-%m}">{cell.as_of:%B %Y}</time>' in shown


def test_an_edited_cell_is_redrawn_when_saved(client):
    cell = ComparisonCell.objects.get(row__slug="evidence", therapy__slug="ketamine")
    cell.text = "Changed for this test [@anand-2023]."
    cell.certainty = "few"
    cell.save()
    html = client.get("/compare/").content.decode()
    assert 'Changed for this test&nbsp;<a href="#source-' in html
    assert "One or two trials" in html.split("Changed for this test")[1].split("</td>")[0]


def test_a_cell_changed_without_signals_is_drawn_from_the_row_once_the_version_moves(client):
    # QuerySet.update() sends no signals: nothing stores a drawing of the cell,
    # so bumping the version (as the README says to) is all it takes.
    ComparisonCell.objects.filter(row__slug="evidence", therapy__slug="ketamine").update(
        text="Updated in bulk [@anand-2023]."
    )
    bump_content_version()
    html = client.get("/compare/").content.decode()
    assert 'Updated in bulk&nbsp;<a href="#source-' in html
    cell = html.split("Updated in bulk")[1].split("</td>")[0]
    assert '<time datetime="2026-12">December 2026</time>' in cell  # its date, drawn too


def test_a_source_changed_without_signals_is_drawn_from_the_row_once_the_version_moves(client):
    anand = Source.objects.get(slug="anand-2023")
    Source.objects.filter(pk=anand.pk).update(title="Retitled in bulk")
    bump_content_version()
    sources = client.get("/compare/").content.decode().split('id="sources-heading"')[1]
    entry = sources.split('id="source-')[1:]
    assert any("<cite>Retitled in bulk</cite>" in item for item in entry)


def test_side_effects_with_no_figure_are_not_presented_as_rare(client):
    html = client.get("/therapies/psilocybin/").content.decode()
    # Dizziness with psilocybin has only a relative risk in our sources: it is
    # listed as "how often is not known", not as less common.
    heading = html.index("Other side effects (how often is not known)")
    assert html.index("Dizziness", heading) > heading


# The three items of the 2 Dec 2026 clinical read (FACTS.md section 7.1) that
# could lead to harm: each on every page where a patient would look for it.
@pytest.mark.parametrize(
    "path, statements",
    [
        (
            "/therapies/ketamine/",
            [
                "Do not breastfeed while you are having esketamine",
                "watch the baby for sleepiness and poor feeding",
            ],
        ),
        (
            "/therapies/psilocybin/",
            [
                "Do not take psilocybin if you are pregnant or breastfeeding",
                "a recent heart attack or stroke",
                "seizure disorders",
                "raise blood pressure and heart rate",
                "Do not take psilocybin or LSD if you take lithium or took it in the last month",
                "Never stop lithium to take part without your psychiatrist",
                "47%",
                "took lithium in the last 30 days",
            ],
        ),
        (
            "/therapies/lsd/",
            [
                "Do not take LSD if you are pregnant or breastfeeding",
                "raises blood pressure and heart rate",
                "seizure disorders",
                "Do not take psilocybin or LSD if you take lithium or took it in the last month",
                "Never stop lithium to take part without your psychiatrist",
            ],
        ),
        (
            "/compare/",
            ["Lithium: do not combine", "Do not breastfeed during treatment", "breastfeeding"],
        ),
        ("/articles/ketamine-infusion-therapy/", ["Do not breastfeed during esketamine"]),
        (
            "/articles/safety-and-side-effects/",
            ["Lithium: do not combine", "Never stop lithium", "seizure disorders"],
        ),
    ],
)
def test_harmful_gaps_of_december_are_closed_where_patients_look(client, path, statements):
    text = page_text(client, path)
    missing = [s for s in statements if s.lower() not in text.lower()]
    assert missing == []


def test_psychedelic_pages_no_longer_say_other_health_problems_are_unknown(client):
    for path in ("/therapies/psilocybin/", "/therapies/lsd/"):
        text = page_text(client, path)
        assert "which other health problems make it unsafe is not known" not in text.lower()
        assert "online reports, not trials" not in text.lower()  # lithium is a plain warning now


def test_the_lithium_warning_cites_the_seizure_study_with_its_doi(client):
    source = Source.objects.get(slug="nayak-2021-lithium")
    assert source.doi == "10.1055/a-1524-2794"
    html = client.get("/therapies/psilocybin/").content.decode()
    assert "https://doi.org/10.1055/a-1524-2794" in html


def test_misleading_lines_of_december_are_corrected(client):
    """FACTS.md 7.2, 7.5 and 7.6: no invented duration, COMP006's 39% is not a
    response, Berman supports days not a week, and no editorial note on a page."""
    psilocybin = page_text(client, "/therapies/psilocybin/")
    assert "3 to 6 weeks" not in psilocybin
    assert "not known beyond the end of the trials" in psilocybin
    assert "23%" not in psilocybin
    assert "39% responded" not in psilocybin
    assert "fall by at least a quarter" in psilocybin
    for path in ("/therapies/ketamine/", "/articles/ketamine-infusion-therapy/", "/compare/"):
        text = page_text(client, path)
        assert "about a week" not in text, path
        assert "at least 3 days" in text, path
        assert "not quoted here" not in text, path
    safety = page_text(client, "/articles/safety-and-side-effects/")
    assert "most people cope well" not in safety


# Side effects from the source that has the figures (FACTS.md 7.2, 7.5, 7.6).


def side_effect_card(html, name):
    """The side-effect card on a therapy page whose heading is `name`, as text."""
    cards = re.findall(r'<details class="effect.*?</details>', html, re.S)
    (card,) = [c for c in cards if f'<span class="effect__name">{escape(name)}</span>' in c]
    return " ".join(TAGS.sub(" ", card).split())


@pytest.mark.parametrize(
    "name, figure",
    [
        ("Dissociation (feeling detached)", "41 in 100 people on esketamine felt detached"),
        ("Dizziness", "29 in 100 people on esketamine felt dizzy"),
        ("Nausea", "28 in 100 people on esketamine felt sick"),
        ("Drowsiness and sedation", "49 to 61 in 100 had some sedation"),
        ("Raised blood pressure", "10 in 100 people on esketamine"),
        ("Headache", "20 in 100 people on esketamine had a headache"),
        ("Anxiety and fear", "13 in 100 people on esketamine felt anxious"),
    ],
)
def test_esketamine_side_effects_show_the_labels_figures(client, name, figure):
    card = side_effect_card(client.get("/therapies/ketamine/").content.decode(), name)
    assert figure in card
    assert "Not known" not in card
    # The ketamine page covers IV ketamine too: the figures say where they come from.
    assert "IV ketamine may differ: these figures come from esketamine nasal spray" in card
    assert "Source: Janssen" in card


def test_the_labels_figures_are_very_common_where_they_are():
    for slug in ("dissociation", "dizziness", "nausea", "drowsiness", "headache", "anxiety-fear"):
        entry = TherapySideEffect.objects.get(therapy__slug="ketamine", side_effect__slug=slug)
        assert entry.frequency == Frequency.VERY_COMMON, slug
        assert entry.source_location, slug


def test_psilocybin_side_effects_show_the_trials_own_groups(client):
    html = client.get("/therapies/psilocybin/").content.decode()
    assert "66 in 100 people on psilocybin had a headache" in side_effect_card(html, "Headache")
    assert "48 in 100 people on psilocybin felt sick" in side_effect_card(html, "Nausea")
    assert "44 in 100" in side_effect_card(html, "Visual changes")
    # A review's relative risks stay relative: no "X in 100" made from them.
    dizziness = side_effect_card(html, "Dizziness")
    assert "about 6 times as likely" in dizziness and "in 100 is not known" in dizziness
    assert "rarely seen in clinical settings" not in html


def test_lsd_side_effects_give_what_the_trials_measured(client):
    html = client.get("/therapies/lsd/").content.decode()
    anxiety = side_effect_card(html, "Anxiety and fear")
    assert "8 had mild, short-lived unwanted effects" in anxiety
    assert "1 had a serious bout of anxiety that passed" in anxiety
    assert "Source: Holze" in anxiety
    pressure = side_effect_card(html, "Raised blood pressure")
    assert "blood pressure and heart rate was measured" in pressure
    assert "Source: Dolder" in pressure
    assert "rarely seen in clinical settings" not in html


def side_effect_cells(html):
    """{side effect name: [cell text per column]} from the comparison's side-effect table."""
    section = html[html.index('id="side-effects-heading"') :]
    table = section[: section.index("</table>")]
    rows = {}
    for name, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S):
        texts = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        rows[name] = [" ".join(TAGS.sub(" ", t).split()) for t in texts]
    return rows


@pytest.mark.parametrize(
    "effect, column",
    [
        ("Anxiety and fear", 0),
        ("Headache", 0),
        ("Blurred vision", 0),
        ("Suicidal thoughts or behaviour", 0),
        ("Visual changes", 1),
        ("Raised blood pressure", 2),
        ("Anxiety and fear", 2),
    ],
)
def test_the_comparison_never_says_not_reported_where_a_source_lists_it(client, effect, column):
    rows = side_effect_cells(client.get("/compare/").content.decode())
    assert "Not reported" not in rows[escape(effect)][column]


# One set of words for the size of an effect (FACTS.md 7.2), in the comparison.


def comparison_cell_text(client, row_slug):
    """{therapy slug: the cell's text as the comparison page shows it} for one row."""
    html = client.get("/compare/").content.decode()
    cells = ComparisonCell.objects.filter(row__slug=row_slug).select_related("therapy", "row")
    shown = {}
    for cell in cells:
        start = escape(cell.text.split(" [@")[0])
        assert start in html, cell
        tail = html[html.index(start) :].split("</td>")[0]
        shown[cell.therapy.slug] = " ".join(TAGS.sub(" ", tail).split())
    return shown


def test_effects_of_the_same_size_get_the_same_words(client):
    evidence = comparison_cell_text(client, "evidence")
    # Esketamine's 3.8-3.9 points (ASPIRE) and psilocybin's 3.6-3.8 are both "modest".
    assert "3.8 and 3.9 points" in evidence["ketamine"]
    assert "3.6 and 3.8 points" in evidence["psilocybin"]
    for slug in ("ketamine", "psilocybin"):
        assert "clear in statistics" in evidence[slug] and "modest for patients" in evidence[slug]


def test_every_evidence_cell_says_blinding_and_funding(client):
    evidence = comparison_cell_text(client, "evidence")
    for slug, text in evidence.items():
        assert "hard to blind" in text, slug
        assert "funded by the maker" in text, slug
    assert "large" not in evidence["lsd"]  # Emerge had 149 people
    assert "As of December 2026" in evidence["lsd"]


# The second clinical read of 2 Dec 2026 (FACTS.md sections 7.2 to 7.5): what
# a patient must see on the therapy pages, the articles and the sources page.


POPOVER = re.compile(r'<span class="term__popover"[^>]*>.*?</span>', re.S)


SECTION_TAG = re.compile(r"<(/?)section\b")
# Which parts of a therapy page (models.THERAPY_PARTS) hold each kind of answer.
PARTS_OF = {
    "evidence": ["how-well"],
    "legal-status": ["cost"],
    "safety": ["who-for", "interactions", "pregnancy", "driving", "long-term"],
}


def section_text(client, path, heading_id):
    """The plain text of one section of a page (or of the therapy-page parts
    that answer it), folded parts included and glossary pop-ups left out."""
    html = POPOVER.sub("", client.get(path).content.decode())
    texts = []
    for anchor in PARTS_OF.get(heading_id, [heading_id]):
        start = html.index(">", html.index(f'aria-labelledby="{anchor}"')) + 1
        depth, end = 1, start
        for tag in SECTION_TAG.finditer(html, start):  # sections nest (outcomes)
            depth += -1 if tag[1] else 1
            if depth == 0:
                end = tag.start()
                break
        section = html[start:end]
        texts.append(" ".join(TAGS.sub(" ", section).replace("&nbsp;", " ").split()))
    return " ".join(texts)


def test_the_same_size_of_effect_is_called_modest_for_esketamine_and_psilocybin(client):
    ketamine = section_text(client, "/therapies/ketamine/", "evidence")
    assert "3.8 and 3.9 points lower with esketamine" in ketamine
    assert "modest for patients" in ketamine
    psilocybin = section_text(client, "/therapies/psilocybin/", "evidence")
    assert "3.6 points more than placebo" in psilocybin
    assert "modest for patients" in psilocybin


@pytest.mark.parametrize("slug", ["ketamine", "psilocybin", "lsd"])
def test_each_evidence_part_says_the_trials_are_hard_to_blind_and_why(client, slug):
    evidence = section_text(client, f"/therapies/{slug}/", "evidence")
    first_part = evidence.split("The main studies, one by one")[0]
    assert "hard to blind" in first_part
    assert "had the real drug" in first_part


def test_blinding_comparators_and_open_label_trials_are_named(client):
    assert "The tiny 1 mg dose was chosen" in page_text(client, "/therapies/psilocybin/")
    assert "It adds a 50 microgram dose" in page_text(client, "/therapies/lsd/")
    ketamine = section_text(client, "/therapies/ketamine/", "evidence")
    assert "open-label trial of 403 people" in ketamine
    assert "195 of 200 people started ketamine and 170 of 203 started ECT" in ketamine
    assert "questionnaire people filled in themselves (QIDS-SR)" in ketamine
    assert "there was no comparison group" in ketamine


def test_no_trial_is_called_large_where_its_size_can_be_stated(client):
    paths = ["/therapies/lsd/", "/articles/how-well-do-they-work/", "/articles/future-directions/"]
    for path in paths:
        text = page_text(client, path)
        assert "large trial" not in text, path
        assert "two large trials" not in text.lower(), path
    assert "149 adults" in section_text(client, "/therapies/lsd/", "evidence")
    assert "In 233 people" in section_text(client, "/therapies/psilocybin/", "evidence")


def test_the_suicidal_depression_approval_is_with_an_antidepressant(client):
    legal = section_text(client, "/therapies/ketamine/", "legal-status")
    assert "also approved, with an antidepressant tablet, for the depressive symptoms" in legal
    article = page_text(client, "/articles/ketamine-infusion-therapy/")
    assert "Since 3 August 2020, with an antidepressant tablet" in article


def test_the_ketamine_page_says_how_to_prepare_and_the_esketamine_schedule(client):
    session = section_text(client, "/therapies/ketamine/", "session")
    for statement in [
        "Do not eat for at least 2 hours, and do not drink for 30 minutes",
        "steroid or decongestant nasal spray, use it at least 1 hour before",
        "weeks 1 to 4: twice a week",
        "weeks 5 to 8: once a week",
        "from week 9: once a week or once every 2 weeks",
        "checks at the end of week 4 whether it is helping",
        "ongoing treatment, not a short course",
        "Each visit takes 2 hours or more",
        "2 a week for 3 weeks",
    ]:
        assert statement in session, statement


def test_the_ketamine_page_has_the_other_label_warnings_and_long_term_use(client):
    safety = section_text(client, "/therapies/ketamine/", "safety")
    for statement in [
        "slow thinking and reactions",
        "about 3 in 1,000",
        "above 140/90, your dose may wait",
        "Severe liver disease",
        "not approved for children or teenagers",
        "27 in 100, against 45 in 100",
        "funded by the maker",
        "No long-term schedule has been tested in large trials for IV ketamine",
    ]:
        assert statement in safety, statement
    html = client.get("/therapies/ketamine/").content.decode()
    assert "https://doi.org/10.1001/jamapsychiatry.2019.1189" in html


@pytest.mark.parametrize("slug", ["psilocybin", "lsd"])
def test_psychedelic_pages_say_what_to_do_about_medicines_and_long_term_use(client, slug):
    safety = section_text(client, f"/therapies/{slug}/", "safety")
    assert "stop these before the dose, with their prescriber" in safety
    assert "Weeks before a session, the team should go through every medicine" in safety
    assert "Long-term use" in safety


def test_cost_figures_are_dated_and_sourced(client):
    ketamine = section_text(client, "/therapies/ketamine/", "legal-status")
    for statement in [
        "$500 to $1,000 a session in 2022",
        "Insurers may refuse to pay, because the use is off-label",
        "At its launch in March 2019, Spravato's list price was $590 to $885 a session",
        "£225 for each IV infusion",
        "ask for the price of the whole course",
    ]:
        assert statement.lower() in ketamine.lower(), statement
    psilocybin = section_text(client, "/therapies/psilocybin/", "legal-status")
    assert "In 2023, Oregon's first licensed centre charged $1,800 to $3,500" in psilocybin
    assert "Cost is not known" not in page_text(client, "/therapies/ketamine/")


def test_uk_status_and_the_nhs_111_mental_health_option(client):
    legal = section_text(client, "/therapies/ketamine/", "legal-status")
    assert "Ketamine is a Schedule 2 controlled drug" in legal
    assert "that advice still stands" in legal
    assert "call NHS 111 and choose the mental health option" in legal


def test_seed_claims_the_sources_do_not_show_say_so(client):
    ketamine = page_text(client, "/therapies/ketamine/")
    assert "eases anxiety within hours: the sources used here do not show that" in ketamine
    psilocybin = page_text(client, "/therapies/psilocybin/")
    assert "do not show a gain in well-being" in psilocybin
    safety = page_text(client, "/articles/safety-and-side-effects/")
    assert "That is not proven. No trial has compared them head to head" in safety


@pytest.mark.parametrize("slug", ["ketamine", "psilocybin", "lsd"])
def test_every_regulatory_status_is_dated_2_december_2026(client, slug):
    legal = section_text(client, f"/therapies/{slug}/", "legal-status")
    assert "Legal status as of 2 December 2026" in legal
    assert "November 2026" not in legal


@pytest.mark.parametrize("slug", ["psilocybin", "lsd"])
def test_schedule_i_cites_the_dea_schedule(client, slug):
    html = client.get(f"/therapies/{slug}/").content.decode()
    assert "https://www.ecfr.gov/current/title-21/chapter-II/part-1308" in html
    assert "21 CFR 1308.11" in html


def test_lsd_anxiety_trials_and_haven_are_reported_as_found(client):
    legal = section_text(client, "/therapies/lsd/", "legal-status")
    assert "No results had been found as of 2 December 2026" in legal
    assert "Haven, with about 200 people, from 2027 (company plans)" in legal
    evidence = section_text(client, "/therapies/lsd/", "evidence")
    assert "5.0 points more than with placebo at week 4, and 7.7 points more at week 12" in evidence
    assert "16.2 points more than with placebo" in evidence


def test_maker_funded_trials_say_so_and_the_sources_page_names_the_funder(client):
    psilocybin = section_text(client, "/therapies/psilocybin/", "evidence")
    assert "(2022, funded by the maker)" in psilocybin
    lsd = section_text(client, "/therapies/lsd/", "evidence")
    assert "(2025, funded by the maker)" in lsd
    sources = page_text(client, "/sources/")
    for funder in [
        "Funded by: COMPASS Pathfinder",
        "Funded by: MindMed (now Definium Therapeutics)",
        "Funded by: Janssen, the maker of esketamine",
        "Funded by: Patient-Centered Outcomes Research Institute (PCORI)",
    ]:
        assert funder in sources, funder
    for slug in ("fu-2020-aspire-1", "ionescu-2021-aspire-2", "daly-2019-sustain-1"):
        assert Source.objects.get(slug=slug).funder.startswith("Janssen")


def test_a_source_without_a_known_funder_shows_no_funder_line(client):
    assert Source.objects.get(slug="berman-2000").funder == ""
    html = client.get("/sources/").content.decode()
    berman = html[html.index('id="berman-2000"') :]
    berman = berman[: berman.index("</li>")]
    assert "Funded by" not in berman


def test_no_source_tells_patients_what_could_not_be_confirmed(client):
    sources = page_text(client, "/sources/")
    assert "could not be confirmed" not in sources
    assert "not quoted on this site" not in sources


def test_the_mm120_paper_names_its_authors_as_a_group_not_a_placeholder(client):
    source = Source.objects.get(slug="robison-2025-mm120")
    assert source.authors == "The MM120 trial investigators (JAMA 2025)"
    assert "The MM120 trial investigators (JAMA 2025)" in page_text(client, "/sources/")


def test_unsourced_lines_are_gone_or_sourced(client):
    safety = page_text(client, "/articles/safety-and-side-effects/")
    assert "cleared within 1 to 2 days" not in safety
    assert "rarely seen in clinical settings" not in safety
    assert "Most side effects pass within about 2 hours" not in safety
    assert "These figures come from the esketamine nasal spray. IV ketamine may differ" in safety
    article = page_text(client, "/articles/ketamine-infusion-therapy/")
    assert re.search(r"Another gave 2 a week for 3 weeks \[\d+\]", article)


def test_editors_can_record_who_funded_a_source_in_the_admin(staff_client):
    source = Source.objects.get(slug="daly-2019-sustain-1")
    page = staff_client.get(f"/admin/therapyinfo/source/{source.pk}/change/").content.decode()
    page = unescape(page)
    assert 'name="funder"' in page
    assert "Janssen, the maker of esketamine (Spravato)" in page
    assert "say 'funded by the maker' there too" in page
