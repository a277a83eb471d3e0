"""The content model: therapies, how they work, their side effects, a
side-by-side comparison, articles and the references behind them.

Every model has a slug-based natural key so fixtures never depend on
database ids, and every public model can be kept as a draft until a
clinical reviewer publishes it.
"""

import re
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from .markup import CITATION, MARKDOWN_MAX_CHARS, render_markdown


def add_months(day, months):
    """The same day of the month `months` later, clamped to the month's end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"


class PublishableQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def visible_to(self, user):
        """Everything for staff who may edit or view these records (previews of
        drafts); only published records for everyone else."""
        return self.all() if sees_drafts(user, self.model) else self.published()


def sees_drafts(user, model):
    """Whether `user` may see `model`'s unpublished records: staff who may
    edit or view them, to preview a draft at its own address."""
    opts = model._meta
    return (
        user.is_active
        and user.is_staff
        and (
            user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
            or user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        )
    )


def editorial_permissions(model_name, plural):
    """Custom permissions that separate clinical reviewers from content editors."""
    return [
        (f"publish_{model_name}", f"Can publish {plural}"),
        (f"review_{model_name}", f"Can mark {plural} as clinically reviewed"),
    ]


def citation_errors(**texts):
    """{field: message} for every field whose text cites a source that does not exist."""
    cited = {field: set(CITATION.findall(text or "")) for field, text in texts.items()}
    wanted = set().union(*cited.values())
    known = set(Source.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    return {
        field: f"Cites {', '.join(sorted(slugs - known))}, but there is no source with that "
        "slug. Check the spelling, or add the source first."
        for field, slugs in cited.items()
        if slugs - known
    }


# A figure a patient could act on: a percentage, a count of people, a score
# difference in points or a trial size ("n=59", "149 adults").
FIGURE = re.compile(
    r"\d\s?%|\bn\s?=\s?\d|\d\s+(?:MADRS\s+)?points?\b"
    r"|\d[\d,]*\s+(?:more\s+)?(?:people|adults|patients|participants|volunteers|women|men)\b",
    re.IGNORECASE,
)
# Where a new unit of text starts: a blank line, a list item or a table row.
UNIT_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)|\n(?=\s*\|)|\|")
FIGURE_ERROR = (
    "States a figure ({figure!r}) without a source. Add a citation such as "
    "[@anand-2023] to the same paragraph, list item or table cell, or remove the figure."
)


def uncited_figure(text):
    """The first figure in `text` whose paragraph, list item or table cell cites
    no source, or None. Every patient-visible text is held to this rule."""
    for unit in UNIT_BREAK.split(text or ""):
        match = FIGURE.search(unit)
        if match and not CITATION.search(unit):
            return match[0]
    return None


def figure_errors(**texts):
    """{field: message} for every field stating a figure with no citation beside it."""
    return {
        field: FIGURE_ERROR.format(figure=figure)
        for field, text in texts.items()
        if (figure := uncited_figure(text))
    }


def text_errors(**texts):
    """Citation and figure errors together, one message per field."""
    return {**figure_errors(**texts), **citation_errors(**texts)}


class SlugManager(models.Manager):
    """Finds records by slug, which is what fixtures refer to."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class PageManager(SlugManager.from_queryset(PublishableQuerySet)):
    """For pages, which have a status: `published()` and `visible_to()` too."""


class SlugNaturalKey:
    def natural_key(self):
        return (self.slug,)


class Reviewed(SlugNaturalKey, models.Model):
    """A page that a clinical reviewer publishes and reviews on a schedule."""

    status = models.CharField(
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        help_text="Only published pages are shown to the public.",
    )
    last_reviewed = models.DateField(
        null=True,
        blank=True,
        help_text="When a clinical reviewer last checked every fact on this page.",
    )
    next_review_due = models.DateField(
        null=True,
        blank=True,
        help_text="Leave empty to set it from the last review date and the "
        "standard review interval.",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The clinical reviewer who last checked this page.",
    )

    objects = PageManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.last_reviewed and not self.next_review_due:
            self.next_review_due = add_months(self.last_reviewed, settings.REVIEW_INTERVAL_MONTHS)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if (
            self.last_reviewed
            and self.next_review_due
            and self.next_review_due < self.last_reviewed
        ):
            raise ValidationError(
                {"next_review_due": "The next review cannot be before the last review."}
            )

    @property
    def is_published(self):
        return self.status == Status.PUBLISHED

    @property
    def review_overdue(self):
        return bool(self.next_review_due and self.next_review_due < date.today())


class SourceKind(models.TextChoices):
    STUDY = "study", "Published study"
    OFFICIAL = "official", "Official document"
    COMPANY = "company", "Company announcement (not peer-reviewed)"
    NEWS = "news", "News report"


class Source(SlugNaturalKey, models.Model):
    """A published study or official document that the site's facts rest on."""

    slug = models.SlugField(unique=True, help_text="Short name, e.g. berman-2000.")
    kind = models.CharField(
        max_length=10,
        choices=SourceKind,
        default=SourceKind.STUDY,
        help_text="Company announcements are labelled as not peer-reviewed on every page.",
    )
    authors = models.CharField(
        max_length=300, help_text="As cited, e.g. 'Berman RM, Cappiello A, et al.'"
    )
    title = models.CharField(max_length=300)
    journal = models.CharField(
        max_length=200, blank=True, help_text="Journal or publisher, with volume."
    )
    year = models.PositiveSmallIntegerField()
    doi = models.CharField(
        "DOI",
        max_length=100,
        blank=True,
        help_text="Only a DOI listed as verified in FACTS.md, e.g. 10.1056/NEJMoa2032994.",
    )
    url = models.URLField("URL", blank=True, help_text="Used when the source has no DOI.")
    checked = models.DateField(
        null=True,
        blank=True,
        help_text="Official documents and company announcements: the day someone last "
        "checked the page or filing still says this.",
    )
    finding = models.TextField(help_text="What it found, in one or two plain sentences.")
    funder = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who paid for the study, as the paper or registry says, e.g. "
        "'Janssen (the maker of esketamine)'. Leave empty when not known. Where a "
        "maker-funded result is used on a page, say 'funded by the maker' there too.",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["authors", "year"]

    def __str__(self):
        return f"{self.authors.split(',')[0]} {self.year}"

    def get_absolute_url(self):
        return f"{reverse('sources')}#{self.slug}"

    def clean(self):
        super().clean()
        # A source's finding is the figure's own source, so it needs no citation.
        errors = {}
        if self.doi.startswith(("http:", "https:", "doi:")):
            errors["doi"] = "Enter the bare DOI, e.g. 10.1056/NEJMoa2032994."
        if self.title.startswith("[") or not self.title.strip():
            errors["title"] = "Give the source's real title, not a description in brackets."
        if self.kind == SourceKind.STUDY and not (self.doi or self.url):
            errors["doi"] = "A study needs a DOI or a URL so readers can find it."
        if self.kind != SourceKind.STUDY and not self.checked:
            errors["checked"] = "Say when this document was last checked."
        if errors:
            raise ValidationError(errors)

    @property
    def link(self):
        return f"https://doi.org/{self.doi}" if self.doi else self.url


class GlossaryTerm(SlugNaturalKey, models.Model):
    slug = models.SlugField(unique=True)
    term = models.CharField(max_length=100, unique=True)
    definition = models.TextField(help_text="One or two short, plain sentences.")

    objects = SlugManager()

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        return f"{reverse('glossary')}#{self.slug}"

    def clean(self):
        super().clean()
        if errors := figure_errors(definition=self.definition):
            raise ValidationError(errors)


class CrisisResource(SlugNaturalKey, models.Model):
    """A helpline or emergency number shown on every page."""

    slug = models.SlugField(unique=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers are listed first."
    )
    region = models.CharField(max_length=100, help_text="e.g. 'United States'.")
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=40, blank=True)
    text = models.CharField(
        "text message", max_length=40, blank=True, help_text="Number to text, if any."
    )
    url = models.URLField("URL", blank=True)
    description = models.CharField(max_length=300, help_text="Who it is for and when it is open.")
    as_of = models.DateField(
        null=True, blank=True, help_text="When these details were last checked."
    )

    objects = SlugManager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return f"{self.name} ({self.region})"

    def get_absolute_url(self):
        # Listed in every page's footer; the About page is where it stands for itself.
        return f"{reverse('about')}#get-help"

    @property
    def is_emergency(self):
        """An emergency number (911, 999, 112, 000), listed on one line with the
        others in the footer. The admin makes the slug from the name, so these
        are the records named "Emergency services (...)"."""
        return self.slug.startswith("emergency")

    def clean(self):
        super().clean()
        if not (self.phone or self.text or self.url):
            raise ValidationError("Give at least a phone number, a text number or a URL.")
        from .phones import crisis_number_errors

        errors = crisis_number_errors(self.region, phone=self.phone, text=self.text)
        errors.update(figure_errors(description=self.description))
        if errors:
            raise ValidationError(errors)


def rendered_markdown_field():
    """HTML of a model's `markdown_fields`, rendered by its `save()`, so pages do
    not render Markdown per request. Not exported, not in history."""
    return models.JSONField(default=dict, blank=True, editable=False)


class RenderedMarkdown:
    """A model whose `markdown_fields` are rendered to sanitised HTML, into its
    `rendered` field, each time it is saved.

    Fixture loads save raw, without `save()`: `load_content` calls
    `render_markdown_fields()` itself, and after `loaddata` or `update()`
    `manage.py render_content` does (until then a page renders the field itself).
    """

    markdown_fields = ()

    def render_markdown_fields(self):
        self.rendered = {
            name: str(render_markdown(getattr(self, name) or "")) for name in self.markdown_fields
        }

    def save(self, *args, **kwargs):
        self.render_markdown_fields()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        """Text longer than MARKDOWN_MAX_CHARS would be shown as typed, not as
        Markdown (markup.py): refused, with a message that says so."""
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in self.markdown_fields:
            length = len(getattr(self, name) or "")
            if name not in (exclude or ()) and length > MARKDOWN_MAX_CHARS:
                errors.setdefault(name, []).append(
                    ValidationError(
                        f"This text is {length:,} characters long; a field can hold at most "
                        f"{MARKDOWN_MAX_CHARS:,}. Shorten it or split it into sections."
                    )
                )
        if errors:
            raise ValidationError(errors)


class Mechanism(RenderedMarkdown, SlugNaturalKey, models.Model):
    """How a drug acts in the brain; one mechanism can be shared by therapies."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100, help_text="e.g. 'Blocking NMDA receptors'.")
    target = models.CharField(max_length=100, help_text="e.g. 'NMDA receptor'.")
    action = models.CharField(max_length=100, help_text="e.g. 'blocks (antagonist)'.")
    summary = models.TextField(help_text="Plain words, short sentences.")
    detail = models.TextField(
        blank=True,
        help_text="Markdown: more about the idea, for readers who open "
        "'How it may work in the brain' on each therapy page that uses it.",
    )
    sources = models.ManyToManyField(Source, blank=True, related_name="mechanisms")
    markdown_fields = ("detail",)
    rendered = rendered_markdown_field()

    objects = SlugManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if errors := text_errors(summary=self.summary, detail=self.detail):
            raise ValidationError(errors)

    def shown_on(self):
        """Where readers meet it: the first published therapy page that explains
        it (a revision is previewed there), or None."""
        therapy = Therapy.objects.published().filter(mechanisms=self).first()
        return f"{therapy.get_absolute_url()}#key-facts" if therapy else None


ONSET_ERROR = "The soonest onset cannot be later than the latest onset."
DURATION_ERROR = "The shortest duration cannot be longer than the longest."


class TherapyPart(NamedTuple):
    """One part of every therapy page: its anchor, its heading, and the Therapy
    fields it shows (none for the side-effect rows, which are their own model)."""

    anchor: str
    title: str
    fields: tuple[str, ...] = ()


# Every therapy page answers the same questions in the same order, the way NHS
# medicines pages do; the page, the contents list, the publish rule and the
# comparison's links all read this one list.
THERAPY_PARTS = (
    TherapyPart("key-facts", "Key facts", ("key_facts",)),
    TherapyPart("who-for", "Who it is for, and who should not have it", ("who_for",)),
    TherapyPart(
        "session", "How it is given and what a session is like", ("how_given", "typical_course")
    ),
    TherapyPart("how-well", "How well it works", ("evidence",)),
    TherapyPart("side-effects", "Side effects"),
    TherapyPart("interactions", "Medicines and drinks that do not mix", ("interactions",)),
    TherapyPart("pregnancy", "Pregnancy, breastfeeding and contraception", ("pregnancy",)),
    TherapyPart("driving", "Driving", ("driving",)),
    TherapyPart("long-term", "Long-term use and stopping", ("long_term",)),
    TherapyPart(
        "cost", "Cost, insurance and where to get it", ("regulatory_status", "cost_access")
    ),
    TherapyPart("questions", "Questions to ask your doctor", ("questions_to_ask",)),
)
# The new part fields (the others were on Therapy before the parts were).
PART_FIELDS = (
    "key_facts",
    "who_for",
    "interactions",
    "pregnancy",
    "driving",
    "long_term",
    "cost_access",
)
KEY_FACTS_MAX_SENTENCES = 6


def sentences(markdown_text):
    """The sentences of a short Markdown text: each list item or line ending in
    a full stop, question or exclamation mark counts once."""
    text = re.sub(r"\[@[^\]]+\]", "", markdown_text)
    return [
        part
        for line in text.splitlines()
        for part in re.split(r"(?<=[.!?])\s+", line.strip().lstrip("-*").strip())
        if part.strip()
    ]


class Therapy(RenderedMarkdown, Reviewed):
    slug = models.SlugField(unique=True, help_text="Part of the page address.")
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order of the therapy in lists and comparison columns."
    )
    name = models.CharField(max_length=100, unique=True)
    short_name = models.CharField(max_length=30, help_text="Used in table headings.")
    drug_class = models.CharField(max_length=100, help_text="e.g. 'Dissociative anaesthetic'.")
    summary = models.TextField(help_text="Two or three short sentences for patients.")
    body = models.TextField(
        blank=True, help_text="Markdown: how it works and what to expect, for patients."
    )
    evidence = models.TextField(
        help_text="Markdown: what the main studies found. Cite a source by its slug, "
        "e.g. [@murrough-2013]; it must also be in this therapy's sources."
    )
    key_facts = models.TextField(
        blank=True,
        help_text="Markdown list, at most 6 short sentences: whether it is an approved "
        "treatment (as of the status date below), the strongest warning, what a course "
        "involves. Shown first, open.",
    )
    who_for = models.TextField(
        "who it is for, and who should not have it",
        blank=True,
        help_text="Markdown: the conditions it is for, age, pregnancy and breastfeeding, heart "
        "and blood pressure, psychosis and bipolar disorder, seizures, substance use. "
        "Shown open. Cite a source for every fact.",
    )
    interactions = models.TextField(
        "medicines and drinks that do not mix",
        blank=True,
        help_text="Markdown list: each medicine or drink, what happens, and what to do.",
    )
    pregnancy = models.TextField(
        "pregnancy, breastfeeding and contraception",
        blank=True,
        help_text="Markdown: what the label or the trials say, and what is not known.",
    )
    driving = models.TextField(
        blank=True, help_text="Markdown: when it is safe to drive and use machines again."
    )
    long_term = models.TextField(
        "long-term use and stopping",
        blank=True,
        help_text="Markdown: what is known about keeping it going, long-term risks, and what "
        "to do if it stops working.",
    )
    cost_access = models.TextField(
        "cost, insurance and where to get it",
        blank=True,
        help_text="Markdown: what a session or course costs (dated, with its source), whether "
        "insurers pay, where to get it safely, what to ask a clinic.",
    )
    questions_to_ask = models.TextField(
        help_text="Questions a patient could ask their doctor, one per line."
    )
    how_given = models.TextField(help_text="How and where it is given.")
    typical_course = models.TextField(help_text="How many sessions, how often.")
    onset_min_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Soonest relief usually starts, in hours after a dose. "
        "Leave both onset fields empty when the evidence does not say.",
    )
    onset_max_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Latest relief usually starts, in hours after a dose."
    )
    duration_min_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Shortest time relief usually lasts, in days. "
        "Leave both duration fields empty when the evidence does not say.",
    )
    duration_max_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longest time relief usually lasts, in days."
    )
    timeline_note = models.TextField(
        help_text="What the onset and duration figures are based on, in plain words."
    )
    regulatory_status = models.TextField(help_text="Legal and approval status.")
    regulatory_as_of = models.DateField(
        help_text="Date the legal and approval status was last checked."
    )
    mechanisms = models.ManyToManyField(Mechanism, related_name="therapies")
    sources = models.ManyToManyField(Source, blank=True, related_name="therapies")
    markdown_fields = (
        "key_facts",
        "who_for",
        "body",
        "evidence",
        "how_given",
        "typical_course",
        "interactions",
        "pregnancy",
        "driving",
        "long_term",
        "regulatory_status",
        "cost_access",
        "timeline_note",
    )
    rendered = rendered_markdown_field()

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "therapies"
        permissions = editorial_permissions("therapy", "therapies")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    onset_min_hours__isnull=False,
                    onset_max_hours__isnull=False,
                    onset_min_hours__lte=F("onset_max_hours"),
                )
                | Q(onset_min_hours__isnull=True, onset_max_hours__isnull=True),
                name="therapy_onset_range_valid",
                violation_error_message=ONSET_ERROR,
            ),
            models.CheckConstraint(
                condition=Q(
                    duration_min_days__isnull=False,
                    duration_max_days__isnull=False,
                    duration_min_days__lte=F("duration_max_days"),
                )
                | Q(duration_min_days__isnull=True, duration_max_days__isnull=True),
                name="therapy_duration_range_valid",
                violation_error_message=DURATION_ERROR,
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("therapy", args=[self.slug])

    def clean(self):
        super().clean()
        errors = text_errors(
            summary=self.summary,
            body=self.body,
            evidence=self.evidence,
            how_given=self.how_given,
            typical_course=self.typical_course,
            timeline_note=self.timeline_note,
            regulatory_status=self.regulatory_status,
            questions_to_ask=self.questions_to_ask,
            **{name: getattr(self, name) for name in PART_FIELDS},
        )
        errors.update(self.missing_part_errors())
        if len(sentences(self.key_facts)) > KEY_FACTS_MAX_SENTENCES:
            errors.setdefault(
                "key_facts",
                f"Key facts are at most {KEY_FACTS_MAX_SENTENCES} short sentences. "
                "Move the rest to the part it belongs to.",
            )
        for low, high, message in [
            ("onset_min_hours", "onset_max_hours", ONSET_ERROR),
            ("duration_min_days", "duration_max_days", DURATION_ERROR),
        ]:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if (low_value is None) != (high_value is None):
                errors[low] = "Fill in both ends of the range, or leave both empty."
            elif low_value is not None and low_value > high_value:
                errors[low] = message
        if errors:
            raise ValidationError(errors)

    def missing_part_errors(self):
        """A published page answers every question in THERAPY_PARTS: each part's
        text is required before the page can be published."""
        if self.status != Status.PUBLISHED:
            return {}
        return {
            name: f'"{part.title}" is part of every therapy page: fill it in before publishing.'
            for part in THERAPY_PARTS
            for name in part.fields
            if not getattr(self, name).strip()
        }

    @property
    def question_list(self):
        return [line.strip() for line in self.questions_to_ask.splitlines() if line.strip()]


class Frequency(models.TextChoices):
    VERY_COMMON = "very-common", "Very common (more than 1 in 10)"
    COMMON = "common", "Common (up to 1 in 10)"
    UNCOMMON = "uncommon", "Less common"
    RARE = "rare", "Rare"
    NOT_MEASURED = "not-measured", "Not known"


class Severity(models.TextChoices):
    MILD = "mild", "Usually mild"
    MODERATE = "moderate", "Can be distressing"
    SERIOUS = "serious", "Serious: get help"


class SideEffect(SlugNaturalKey, models.Model):
    slug = models.SlugField(unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100, unique=True)
    summary = models.TextField(help_text="What it feels like, in plain words.")

    objects = SlugManager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if errors := figure_errors(summary=self.summary):
            raise ValidationError(errors)

    def shown_on(self):
        """Where readers meet it: the side effects of the first published
        therapy page that lists it (a revision is previewed there), or None."""
        therapy = Therapy.objects.published().filter(side_effects__side_effect=self).first()
        return f"{therapy.get_absolute_url()}#side-effects" if therapy else None


# Sources that print their figures in a table or a section a reviewer can point
# to: a published trial's tables and an official label. Company announcements
# and news reports may give figures, but not a checkable table of them.
FIGURE_SOURCE_KINDS = (SourceKind.STUDY, SourceKind.OFFICIAL)
BARE_NOT_KNOWN = re.compile(r"[\W_]*(?:not known|unknown|no figure|not reported)[\W_]*", re.I)


def says_what_is_not_known(text):
    """Whether a "not known" text says what is not known, rather than only
    "Not known" (or nothing)."""
    return bool(text.strip()) and not BARE_NOT_KNOWN.fullmatch(text)


class TherapySideEffectManager(models.Manager):
    def get_by_natural_key(self, therapy_slug, side_effect_slug):
        return self.get(therapy__slug=therapy_slug, side_effect__slug=side_effect_slug)


class TherapySideEffect(models.Model):
    """How one side effect shows up with one therapy."""

    therapy = models.ForeignKey(Therapy, on_delete=models.CASCADE, related_name="side_effects")
    side_effect = models.ForeignKey(
        SideEffect, on_delete=models.PROTECT, related_name="therapy_rows"
    )
    frequency = models.CharField(
        max_length=12,
        choices=Frequency,
        help_text="As the source gives it. 'Not known' only when no listed source gives a "
        "figure (not when the label or a trial table this row cites has one); then say what "
        "is not known under 'how often, in words'.",
    )
    severity = models.CharField(max_length=10, choices=Severity)
    how_often = models.CharField(
        "how often, in words",
        max_length=400,
        blank=True,
        help_text="The figure as the source gives it, in plain words, e.g. '41 in 100 "
        "people on esketamine, 9 in 100 on a placebo spray, over 4 weeks'. If no source "
        "gives one, say exactly what is not known, e.g. 'No trial has reported how often "
        "this happens with LSD.'",
    )
    how_long = models.CharField(
        max_length=200, help_text="How long it usually lasts, e.g. 'Gone within 2 hours'."
    )
    what_helps = models.TextField(blank=True)
    when_to_get_help = models.TextField(blank=True)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the frequency comes from. Leave empty only when no source gives one.",
    )
    source_location = models.CharField(
        "where in the source",
        max_length=100,
        blank=True,
        help_text="Where in the source the figure is, so a reviewer can check it, e.g. "
        "'Table 2' or 'Warnings 5.1'. Leave empty when the source gives no figure.",
    )

    objects = TherapySideEffectManager()

    class Meta:
        ordering = ["therapy", "side_effect"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapy", "side_effect"],
                name="one_row_per_therapy_side_effect",
                violation_error_message="This therapy already lists this side effect.",
            )
        ]

    def __str__(self):
        return f"{self.side_effect} with {self.therapy}"

    def get_absolute_url(self):
        return f"{self.therapy.get_absolute_url()}#side-effects"

    def clean(self):
        super().clean()
        texts = {
            "how_often": self.how_often,
            "how_long": self.how_long,
            "what_helps": self.what_helps,
            "when_to_get_help": self.when_to_get_help,
        }
        # The row's source stands beside its text on the page, so it cites it.
        errors = {} if self.source_id else figure_errors(**texts)
        errors.update(citation_errors(**texts))
        errors.update(self.frequency_errors())
        if errors:
            raise ValidationError(errors)

    def frequency_errors(self):
        """{field: message} for the rules on "Not known" (docs/side-effects-and-grades.md):
        a frequency needs its source; "Not known" is refused where the row's own
        label or trial table has the figure, and must say what is not known."""
        errors = {}
        not_known = self.frequency == Frequency.NOT_MEASURED
        if not not_known and not self.source_id:
            errors["source"] = (
                "A frequency needs the source it comes from. Choose 'Not known' "
                "if no source gives one."
            )
        source = self.source if self.source_id else None
        if (
            not_known
            and source is not None
            and source.kind in FIGURE_SOURCE_KINDS
            and self.source_location.strip()
        ):
            errors["frequency"] = (
                f"'Not known' is not allowed here: this row's source ({source}, a "
                f"{source.get_kind_display().lower()}) has the figure at "
                f"'{self.source_location.strip()}'. Choose the frequency it gives, or clear "
                "'where in the source' if the source really gives no figure."
            )
        if not_known and not says_what_is_not_known(self.how_often):
            errors["how_often"] = (
                "Say what is not known, e.g. 'No trial has reported how often this "
                "happens with LSD.', not just 'Not known'."
            )
        elif not self.how_often.strip():
            errors["how_often"] = "Give the figure in plain words, as the source gives it."
        return errors

    def natural_key(self):
        return self.therapy.natural_key() + self.side_effect.natural_key()

    natural_key.dependencies = ["therapyinfo.therapy", "therapyinfo.sideeffect"]


class Comparison(Reviewed):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    therapies = models.ManyToManyField(
        Therapy,
        related_name="comparisons",
        help_text="Columns of the table, in the therapies' own order.",
    )

    class Meta:
        ordering = ["title"]
        permissions = editorial_permissions("comparison", "comparisons")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("comparison", args=[self.slug])

    def clean(self):
        super().clean()
        if errors := figure_errors(summary=self.summary):
            raise ValidationError(errors)


class ComparisonRowManager(models.Manager):
    def get_by_natural_key(self, comparison_slug, slug):
        return self.get(comparison__slug=comparison_slug, slug=slug)


class ComparisonRow(models.Model):
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveSmallIntegerField(default=0)
    slug = models.SlugField(help_text="e.g. 'onset'. Unique within the comparison.")
    aspect = models.CharField(max_length=100, help_text="Row heading, e.g. 'How soon it helps'.")

    objects = ComparisonRowManager()

    class Meta:
        ordering = ["comparison", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "slug"],
                name="unique_row_slug_per_comparison",
                violation_error_message="This comparison already has a row with this slug.",
            )
        ]

    def __str__(self):
        return self.aspect

    def natural_key(self):
        return self.comparison.natural_key() + (self.slug,)

    natural_key.dependencies = ["therapyinfo.comparison"]


class ComparisonCellManager(models.Manager):
    def get_by_natural_key(self, comparison_slug, row_slug, therapy_slug):
        return self.get(
            row__comparison__slug=comparison_slug,
            row__slug=row_slug,
            therapy__slug=therapy_slug,
        )


class Certainty(models.TextChoices):
    """One small scale for how sure the evidence behind a cell is."""

    SEVERAL_TRIALS = "several", "Several large trials or an official document"
    FEW_TRIALS = "few", "One or two trials"
    LIMITED = "limited", "Small studies or company data only"
    NOT_KNOWN = "not-known", "Not known"


# The scale from least to most sure, and the highest grade each kind of source
# allows: company data or a news report cannot be "several large trials", and
# a cell resting on them alone is "company data only".
CERTAINTY_ORDER = [
    Certainty.NOT_KNOWN,
    Certainty.LIMITED,
    Certainty.FEW_TRIALS,
    Certainty.SEVERAL_TRIALS,
]
UNREVIEWED_KINDS = (SourceKind.COMPANY, SourceKind.NEWS)
HIGHEST_GRADE_BESIDE_UNREVIEWED = Certainty.FEW_TRIALS
HIGHEST_GRADE_UNREVIEWED_ONLY = Certainty.LIMITED
# A cell that says something is not known is at most "one or two trials"; one
# whose answer is "Not known" is graded "Not known".
HIGHEST_GRADE_WHEN_PARTLY_NOT_KNOWN = Certainty.FEW_TRIALS
SAYS_NOT_KNOWN = re.compile(r"\bnot known\b", re.IGNORECASE)
ANSWER_NOT_KNOWN = re.compile(r"\W*not known\b", re.IGNORECASE)


def grade_errors(text, certainty):
    """{"certainty": message} when `certainty` is higher than the weakest kind of
    source the text cites allows, or than a "not known" answer allows (the rule
    is explained in docs/side-effects-and-grades.md)."""
    if certainty not in CERTAINTY_ORDER or certainty == Certainty.NOT_KNOWN:
        return {}
    text = text or ""
    label = Certainty(certainty).label
    if ANSWER_NOT_KNOWN.match(text):
        return {
            "certainty": f"This cell's answer is 'Not known', so it cannot be graded "
            f"'{label}'. Grade it 'Not known'."
        }
    limits = []  # (highest grade allowed, why)
    if SAYS_NOT_KNOWN.search(text):
        limits.append((HIGHEST_GRADE_WHEN_PARTLY_NOT_KNOWN, "it says something is not known"))
    cited = list(dict.fromkeys(CITATION.findall(text)))
    kinds = dict(Source.objects.filter(slug__in=cited).values_list("slug", "kind"))
    unreviewed = [slug for slug in cited if kinds.get(slug) in UNREVIEWED_KINDS]
    if unreviewed:
        names = ", ".join(
            f"{slug} ({SourceKind(kinds[slug]).label.lower()})" for slug in unreviewed
        )
        if len(unreviewed) == len(cited):
            limits.append((HIGHEST_GRADE_UNREVIEWED_ONLY, f"it rests only on {names}"))
        else:
            limits.append((HIGHEST_GRADE_BESIDE_UNREVIEWED, f"it rests partly on {names}"))
    if not limits:
        return {}
    limit, why = min(limits, key=lambda item: CERTAINTY_ORDER.index(item[0]))
    if CERTAINTY_ORDER.index(certainty) <= CERTAINTY_ORDER.index(limit):
        return {}
    return {
        "certainty": f"Graded '{label}', but {why}: the highest grade that allows is "
        f"'{Certainty(limit).label}'. Lower the grade, or cite a stronger source."
    }


class ComparisonCell(models.Model):
    row = models.ForeignKey(ComparisonRow, on_delete=models.CASCADE, related_name="cells")
    therapy = models.ForeignKey(Therapy, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(
        help_text="Plain words; keep it to a sentence or two. Cite every source it rests "
        "on, e.g. [@anand-2023]; only 'Not known' may cite none."
    )
    certainty = models.CharField(
        max_length=10,
        choices=Certainty,
        default=Certainty.NOT_KNOWN,
        help_text="How sure the evidence is, on the scale explained on the page. Company "
        "data or news reports allow at most 'One or two trials', and only 'Small studies or "
        "company data only' when the cell cites nothing else; a cell that says something is "
        "not known allows at most 'One or two trials'; a 'Not known' answer is 'Not known'.",
    )
    as_of = models.DateField(
        "as of",
        null=True,
        help_text="When the evidence in this cell was last checked (shown as month and year).",
    )

    objects = ComparisonCellManager()

    class Meta:
        ordering = ["row", "therapy"]
        constraints = [
            models.UniqueConstraint(
                fields=["row", "therapy"],
                name="one_cell_per_row_and_therapy",
                violation_error_message="This row already has a cell for this therapy.",
            )
        ]

    def __str__(self):
        return f"{self.row}: {self.therapy.short_name}"

    def clean(self):
        super().clean()
        errors = text_errors(text=self.text)
        if self.certainty != Certainty.NOT_KNOWN and not CITATION.search(self.text):
            errors.setdefault(
                "text",
                "Cite the source this rests on, e.g. [@anand-2023], or grade it 'Not known'.",
            )
        errors.update(grade_errors(self.text, self.certainty))
        if not says_what_is_not_known(CITATION.sub("", self.text)):
            errors.setdefault(
                "text",
                "Say what is not known, e.g. 'No trial has reported how long relief lasts "
                "beyond week 12.', not just 'Not known'.",
            )
        if errors:
            raise ValidationError(errors)

    @property
    def cited_slugs(self):
        return list(dict.fromkeys(CITATION.findall(self.text)))

    def natural_key(self):
        return self.row.natural_key() + self.therapy.natural_key()

    natural_key.dependencies = ["therapyinfo.comparisonrow", "therapyinfo.therapy"]


class Article(Reviewed):
    slug = models.SlugField(unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text="Two or three short sentences; also the page description.")
    therapies = models.ManyToManyField(Therapy, blank=True, related_name="articles")
    sources = models.ManyToManyField(Source, blank=True, related_name="articles")

    class Meta:
        ordering = ["position", "title"]
        permissions = editorial_permissions("article", "articles")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("article", args=[self.slug])

    def clean(self):
        super().clean()
        if errors := figure_errors(summary=self.summary):
            raise ValidationError(errors)


class ArticleSectionManager(models.Manager):
    def get_by_natural_key(self, article_slug, anchor):
        return self.get(article__slug=article_slug, anchor=anchor)


class ArticleSection(RenderedMarkdown, models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0)
    heading = models.CharField(max_length=200)
    anchor = models.SlugField(help_text="Part of the link to this section.")
    body = models.TextField(
        help_text="Markdown. Cite a source by its slug, e.g. [@murrough-2013]; "
        "it must also be in the article's sources."
    )
    markdown_fields = ("body",)
    rendered = rendered_markdown_field()

    objects = ArticleSectionManager()

    class Meta:
        ordering = ["article", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "anchor"],
                name="unique_section_anchor_per_article",
                violation_error_message="This article already has a section with this anchor.",
            )
        ]

    def __str__(self):
        return self.heading

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#{self.anchor}"

    def clean(self):
        super().clean()
        if errors := text_errors(body=self.body):
            raise ValidationError(errors)

    def natural_key(self):
        return self.article.natural_key() + (self.anchor,)

    natural_key.dependencies = ["therapyinfo.article"]


class ContentVersion(models.Model):
    """One row whose timestamp changes with any content save or delete.

    Cached values and fragments carry it in their keys (cache.py), so an edit
    on one app server is seen by all of them on the next request, with no purge.
    """

    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Content as of {self.changed_at:%Y-%m-%d %H:%M:%S.%f}"


# Outcomes: how many people in 100 were helped or harmed in one trial -----------


class OutcomeKind(models.TextChoices):
    BENEFIT = "benefit", "How many people improved"
    HARM = "harm", "How many people had a side effect"


class EvidenceType(models.TextChoices):
    PEER_REVIEWED = "peer-reviewed", "Published, peer-reviewed trial"
    LABEL = "label", "Medicine label (checked by the regulator)"
    COMPANY = "company", "Company data, not peer-reviewed"


# Which kinds of source each evidence type may rest on.
EVIDENCE_SOURCE_KINDS = {
    EvidenceType.PEER_REVIEWED: {SourceKind.STUDY},
    EvidenceType.LABEL: {SourceKind.OFFICIAL},
    EvidenceType.COMPANY: {SourceKind.COMPANY},
}
GROUPS = ("treatment", "comparator")
GROUP_ERROR = "Give this group's number in 100, or both its events and its size."
RATE_ERROR = "A number in 100 must be between 0 and 100."
EVENTS_ERROR = "The number of people with the outcome cannot be more than the group size."
TIME_POINT_ERROR = "Say when it was measured, e.g. 'by day 28'."


def per_100(events, size):
    """Whole people in 100, rounded half up (so 0.5 is 1, as FACTS.md rounds)."""
    return (200 * events + size) // (2 * size)


def group_fields(label):
    """One group's number in 100, or its events and size (either will do)."""
    return (
        models.PositiveSmallIntegerField(
            f"{label}: number in 100",
            null=True,
            blank=True,
            help_text="As the source gives it, rounded to whole people. Leave empty to "
            "work it out from the two fields after it.",
        ),
        models.PositiveIntegerField(
            f"{label}: people with the outcome",
            null=True,
            blank=True,
            help_text="Optional: the count of people, when the source gives it.",
        ),
        models.PositiveIntegerField(
            f"{label}: group size",
            null=True,
            blank=True,
            help_text="Optional: how many people were in the group.",
        ),
    )


def group_constraints(group, label):
    rate, events, size = (f"{group}_{name}" for name in ("per_100", "events", "size"))
    has_count = Q(**{f"{events}__isnull": False, f"{size}__isnull": False})
    return [
        models.CheckConstraint(
            condition=Q(**{f"{rate}__isnull": False}) | has_count,
            name=f"outcome_{group}_group_given",
            violation_error_message=f"{label}: {GROUP_ERROR}",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{rate}__isnull": True}) | Q(**{f"{rate}__lte": 100}),
            name=f"outcome_{group}_per_100_at_most_100",
            violation_error_message=f"{label}: {RATE_ERROR}",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{events}__isnull": True})
            | Q(**{f"{size}__isnull": True})
            | Q(**{f"{size}__gt": 0, f"{events}__lte": F(size)}),
            name=f"outcome_{group}_events_within_size",
            violation_error_message=f"{label}: {EVENTS_ERROR}",
        ),
    ]


class OutcomeManager(models.Manager):
    def get_by_natural_key(self, therapy_slug, slug):
        return self.get(therapy__slug=therapy_slug, slug=slug)


class Outcome(models.Model):
    """How many people in 100 had one outcome in one trial, with the treatment
    and with that trial's own comparator: the natural frequencies and icon
    arrays of a therapy page. A row of the therapy page, reviewed with it."""

    therapy = models.ForeignKey(Therapy, on_delete=models.CASCADE, related_name="outcomes")
    slug = models.SlugField(help_text="e.g. 'transform-2-response'. Unique within the therapy.")
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers are shown first; the first benefit is shown open."
    )
    kind = models.CharField(max_length=10, choices=OutcomeKind, default=OutcomeKind.BENEFIT)
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="outcomes",
        help_text="The paper, label or filing the figures come from.",
    )
    side_effect = models.ForeignKey(
        SideEffect,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcomes",
        help_text="For a side effect: which one. The figure is then shown inside that side "
        "effect on the therapy page; without one, it is shown with the trial results.",
    )
    trial = models.CharField(max_length=100, help_text="The trial's name, e.g. 'TRANSFORM-2'.")
    population = models.CharField(
        max_length=200,
        help_text="Who took part, in plain words, e.g. 'adults under 65 with "
        "treatment-resistant depression'.",
    )
    treatment = models.CharField(
        max_length=200,
        help_text="What the first group had, as it reads after 'people who had', e.g. "
        "'esketamine spray with a new antidepressant'.",
    )
    comparator = models.CharField(
        max_length=200,
        help_text="What the comparison group had, read the same way, e.g. 'a placebo "
        "spray with a new antidepressant'.",
    )
    measure = models.CharField(
        max_length=100,
        help_text="What happened, as it reads after 'people who had ...', e.g. "
        "'felt much better' or 'had nausea'.",
    )
    definition = models.CharField(
        max_length=300,
        help_text="What the measure means, in plain words, e.g. 'their depression score "
        "fell by half or more'.",
    )
    time_point = models.CharField(
        max_length=100,
        help_text="When it was measured, as it reads at the end of the sentence, e.g. "
        "'by day 28' or 'in the first 4 weeks'.",
    )
    treatment_per_100, treatment_events, treatment_size = group_fields("Treatment group")
    comparator_per_100, comparator_events, comparator_size = group_fields("Comparison group")
    certainty = models.CharField(
        max_length=10,
        choices=Certainty,
        default=Certainty.FEW_TRIALS,
        help_text="How sure the evidence is, on the scale the comparison page explains.",
    )
    evidence_type = models.CharField(
        max_length=15,
        choices=EvidenceType,
        default=EvidenceType.PEER_REVIEWED,
        help_text="Company data is labelled as not peer-reviewed wherever it is shown.",
    )
    funder = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who paid for the trial, e.g. 'Janssen, the maker of esketamine'. "
        "Leave empty if the source does not say.",
    )
    maker_funded = models.BooleanField(
        "funded by the maker",
        default=False,
        help_text="Tick when the company that makes or sells the medicine paid for the trial.",
    )
    caveat = models.CharField(
        max_length=300,
        blank=True,
        help_text="One plain sentence readers need to weigh the figures, e.g. 'Open-label: "
        "everyone knew which treatment they had.'",
    )
    as_of = models.DateField(
        "figures checked",
        help_text="When someone last checked these figures against the source.",
    )

    objects = OutcomeManager()

    class Meta:
        ordering = ["therapy", "kind", "position", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapy", "slug"],
                name="unique_outcome_slug_per_therapy",
                violation_error_message="This therapy already has an outcome with this slug.",
            ),
            models.CheckConstraint(
                condition=~Q(time_point=""),
                name="outcome_time_point_given",
                violation_error_message=TIME_POINT_ERROR,
            ),
            *group_constraints("treatment", "Treatment group"),
            *group_constraints("comparator", "Comparison group"),
        ]

    def __str__(self):
        return f"{self.trial}: {self.measure} ({self.therapy.short_name})"

    def get_absolute_url(self):
        return f"{self.therapy.get_absolute_url()}#outcome-{self.slug}"

    def natural_key(self):
        return self.therapy.natural_key() + (self.slug,)

    natural_key.dependencies = ["therapyinfo.therapy", "therapyinfo.source"]

    def clean(self):
        super().clean()
        errors = {}
        if not self.time_point.strip():
            errors["time_point"] = TIME_POINT_ERROR
        for group in GROUPS:
            rate, events, size = (
                getattr(self, f"{group}_{n}") for n in ("per_100", "events", "size")
            )
            if rate is None and (events is None or size is None):
                errors[f"{group}_per_100"] = GROUP_ERROR
            elif rate is not None and rate > 100:
                errors[f"{group}_per_100"] = RATE_ERROR
            elif events is not None and size is not None:
                if size == 0 or events > size:
                    errors[f"{group}_events"] = EVENTS_ERROR
                elif rate is not None and rate != per_100(events, size):
                    errors[f"{group}_per_100"] = (
                        f"{events} of {size} is {per_100(events, size)} in 100, not {rate}."
                    )
        if self.source_id is not None:
            allowed = EVIDENCE_SOURCE_KINDS[self.evidence_type]
            if self.source.kind not in allowed:
                errors["evidence_type"] = (
                    f"The source is a {self.source.get_kind_display().lower()}; "
                    f"that is not '{self.get_evidence_type_display()}'."
                )
        if self.maker_funded and not self.funder.strip():
            errors["funder"] = "Name the maker that funded the trial."
        if self.side_effect_id is not None and self.kind != OutcomeKind.HARM:
            errors["side_effect"] = "Only a side-effect figure can be about a side effect."
        errors.update(figure_errors(caveat=self.caveat, definition=self.definition))
        if errors:
            raise ValidationError(errors)

    def rate(self, group):
        """Whole people in 100 in `group` ("treatment" or "comparator")."""
        stored = getattr(self, f"{group}_per_100")
        if stored is not None:
            return stored
        return per_100(getattr(self, f"{group}_events"), getattr(self, f"{group}_size"))

    @property
    def treatment_rate(self):
        return self.rate("treatment")

    @property
    def comparator_rate(self):
        return self.rate("comparator")


# Registered here so Django sees them; the logic lives in revisions.py.
from .revisions import ContentLoad, Revision  # noqa: E402, F401
