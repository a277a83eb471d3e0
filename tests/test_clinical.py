"""The clinical corrections of 26 Nov 2026 (FACTS.md section 6), on the pages
where a patient would look for them, and the rules that keep the comparison,
the side effects and the sources honest."""

import re

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
                "As of 26 November 2026",
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
                "No approval had been given as of 26 November 2026",
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


def test_an_effect_without_a_figure_says_not_known(client):
    html = client.get("/therapies/lsd/").content.decode()
    assert "Not known: no figure in our sources" in html
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
    assert '<time datetime="2026-11">November 2026</time>' in shown


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
    assert '<time datetime="2026-11">November 2026</time>' in cell  # its date, drawn too


def test_a_source_changed_without_signals_is_drawn_from_the_row_once_the_version_moves(client):
    anand = Source.objects.get(slug="anand-2023")
    Source.objects.filter(pk=anand.pk).update(title="Retitled in bulk")
    bump_content_version()
    sources = client.get("/compare/").content.decode().split('id="sources-heading"')[1]
    entry = sources.split('id="source-')[1:]
    assert any("<cite>Retitled in bulk</cite>" in item for item in entry)


def test_side_effects_with_no_figure_are_not_presented_as_rare(client):
    html = client.get("/therapies/ketamine/").content.decode()
    # Dissociation, dizziness and drowsiness have no frequency in our sources:
    # they are listed as "how often is not known", not as less common.
    heading = html.index("Other side effects (how often is not known)")
    assert html.index("Dissociation", heading) > heading


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
