"""Reading grades for editors: Flesch-Kincaid grade of the text a patient reads.

Markdown is rendered and its tags stripped first, and citations like
[@murrough-2013] are dropped, so only the words a visitor sees are graded.
"""

from dataclasses import dataclass

import markdown
import textstat
from django.utils.html import strip_tags

from .models import CITATION

SUMMARY_TARGET = 8
BODY_TARGET = 10
# Key facts are read first, often by someone worried: simpler still.
KEY_FACTS_TARGET = 7


@dataclass(frozen=True)
class Grade:
    label: str
    grade: float | None  # None when there is no text to grade
    target: int

    @property
    def above_target(self):
        return self.grade is not None and self.grade > self.target

    def __str__(self):
        if self.grade is None:
            return "no text yet"
        text = f"grade {self.grade} (target {self.target} or below)"
        if self.above_target:
            text += ". Above target: try shorter sentences and everyday words."
        return text


def plain_text(text):
    return strip_tags(markdown.markdown(CITATION.sub("", text or ""))).strip()


def reading_grade(text):
    """Flesch-Kincaid grade of the visible words, or None for empty text."""
    words = plain_text(text)
    if not words:
        return None
    return round(textstat.flesch_kincaid_grade(words), 1)


def grades(obj, targets):
    """One Grade per (field, target) pair, labelled with the field's verbose name."""
    return [
        Grade(
            label=obj._meta.get_field(field).verbose_name.capitalize(),
            grade=reading_grade(getattr(obj, field)),
            target=target,
        )
        for field, target in targets.items()
    ]
