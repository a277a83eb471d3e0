"""Plain language, measured: every summary a patient reads first is at most US
grade 8 (Flesch-Kincaid) with sentences of about 20 words or fewer, and every
longer text (article sections, therapy bodies, safety, how it is given, legal
status and timing notes, comparison cells) at most grade 10.

Scores are taken over the published content in the database (loaded from the
fixtures), after Markdown and citations are stripped. A failure names the record
and field, so an editor knows what to rewrite.
"""

import re

import pytest
import textstat

from therapyinfo.models import (
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    Mechanism,
    Therapy,
)
from therapyinfo.readability import KEY_FACTS_TARGET

SUMMARY_GRADE = 8
BODY_GRADE = 10
SUMMARY_SENTENCE_WORDS = 20

CITATION = re.compile(r"\s*\[@[a-z0-9-]+\]")
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
HEADING = re.compile(r"^#+\s*", re.M)
# A list item is read as a unit of its own, so it is scored as a sentence
# rather than run into its neighbours as one long one.
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+\.)\s+(.*?)[.;:,]?[ \t]*$", re.M)
MARKUP = re.compile(r"[*_`|>]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def plain_text(markdown_text):
    text = CITATION.sub("", markdown_text)
    text = LINK.sub(r"\1", text)
    text = HEADING.sub("", text)
    text = LIST_ITEM.sub(r"\1.", text)
    return MARKUP.sub("", text).strip()


def grade(text):
    return textstat.flesch_kincaid_grade(plain_text(text))


def longest_sentence(text):
    sentences = [s for s in SENTENCE_END.split(plain_text(text)) if s.strip()]
    return max(sentences, key=lambda s: len(s.split()))


def summaries():
    for model in (Therapy, Article, Comparison):
        for record in model.objects.published():
            yield f"{model.__name__} '{record.slug}' summary", record.summary
    for mechanism in Mechanism.objects.all():
        yield f"Mechanism '{mechanism.slug}' summary", mechanism.summary


def bodies():
    for section in ArticleSection.objects.select_related("article"):
        yield f"ArticleSection '{section.article.slug}#{section.anchor}' body", section.body
    for therapy in Therapy.objects.published():
        for field in Therapy.markdown_fields:
            if field not in ("key_facts", "timeline_note"):
                yield f"Therapy '{therapy.slug}' {field}", getattr(therapy, field)
    for mechanism in Mechanism.objects.exclude(detail=""):
        yield f"Mechanism '{mechanism.slug}' detail", mechanism.detail
    for therapy in Therapy.objects.published():
        yield f"Therapy '{therapy.slug}' timeline_note", therapy.timeline_note
    for cell in ComparisonCell.objects.select_related("row", "therapy"):
        yield f"ComparisonCell '{cell.row.slug}/{cell.therapy.slug}' text", cell.text


def too_hard(texts, limit):
    return [
        f"{name}: grade {grade(text):.1f} (limit {limit})"
        for name, text in texts
        if text.strip() and grade(text) > limit
    ]


@pytest.mark.django_db
def test_every_summary_is_at_most_grade_8():
    found = list(summaries())
    assert len(found) >= 10  # the content really was loaded
    assert too_hard(found, SUMMARY_GRADE) == []


@pytest.mark.django_db
def test_summary_sentences_are_short():
    long_ones = [
        f"{name}: {len(sentence.split())} words: {sentence!r}"
        for name, text in summaries()
        for sentence in [longest_sentence(text)]
        if len(sentence.split()) > SUMMARY_SENTENCE_WORDS
    ]
    assert long_ones == []


@pytest.mark.django_db
def test_every_article_section_and_body_is_at_most_grade_10():
    found = list(bodies())
    assert len(found) >= 20
    assert too_hard(found, BODY_GRADE) == []


@pytest.mark.django_db
def test_key_facts_are_at_most_grade_7():
    """Key facts are read first, often by someone worried (readability.KEY_FACTS_TARGET)."""
    found = [
        (f"Therapy '{therapy.slug}' key_facts", therapy.key_facts)
        for therapy in Therapy.objects.published()
    ]
    assert len(found) == 3
    assert too_hard(found, KEY_FACTS_TARGET) == []


@pytest.mark.django_db
def test_a_hard_summary_fails_and_is_named(ketamine):
    ketamine.summary = (
        "Ketamine, an N-methyl-D-aspartate receptor antagonist, demonstrates rapid-onset "
        "antidepressant efficacy in treatment-resistant major depressive disorder, "
        "notwithstanding considerable interindividual heterogeneity."
    )
    ketamine.save()
    failures = too_hard(summaries(), SUMMARY_GRADE)
    assert any(failure.startswith("Therapy 'ketamine' summary") for failure in failures)


def test_markdown_and_citations_are_stripped_before_scoring():
    text = "## Heading\n\n- one item\n- [a link](https://example.org) [@berman-2000]\n"
    assert plain_text(text) == "Heading\n\none item.\na link."
