"""Django admin for editors and clinical reviewers.

Pages are edited with the rows they are made of (sections, comparison rows
and cells, a therapy's side effects) as inlines on the same screen. Every
content model keeps a revision history (django-simple-history): the
"History" button lists versions with what changed, and any version can be
restored, which is itself recorded.

Roles are enforced here, on the server: without the `publish_<model>`
permission a save can never make a page published, and without
`review_<model>` it can never change the review fields, whatever the form
posts.
"""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from . import models
from .admin_forms import EditorialAdminMixin, MarkdownPreviewMixin, TimelineUnitsMixin
from .readability import BODY_TARGET, SUMMARY_TARGET, grades
from .review import DUE_SOON_DAYS

REVIEW_FIELDS = ["last_reviewed", "next_review_due", "reviewed_by"]
PUBLISH_REFUSED = (
    'Only a clinical reviewer can publish. Set the status to "In review" to ask for one.'
)


def render_grades(obj, targets):
    """The reading grade of each text field, flagged when above its target."""
    if obj is None or obj.pk is None:
        return "Shown after the first save."
    items = (
        ("readability__above" if grade.above_target else "readability__ok", grade.label, grade)
        for grade in grades(obj, targets)
    )
    return format_html(
        '<ul class="readability">{}</ul>',
        format_html_join("", '<li class="{}">{}: {}</li>', items),
    )


class ContentForm(forms.ModelForm):
    """Browsers send text areas with Windows line endings; store plain newlines,
    so a save changes only what the editor changed (in history and in exports)."""

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = value.replace("\r\n", "\n")
        return cleaned


class ContentAdmin(EditorialAdminMixin, SimpleHistoryAdmin):
    """Every content model: revision history, and reading grades for its text."""

    form = ContentForm
    object_history_list_template = "admin/history_list.html"
    readability_targets = {}

    class Media:
        css = {"all": ["css/admin-editorial.css"]}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self.readability_targets:
            fields.append("reading_grade")
        return fields

    @admin.display(description="Reading grade")
    def reading_grade(self, obj):
        return render_grades(obj, self.readability_targets)


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue"),
            ("due-soon", f"Due within {DUE_SOON_DAYS} days"),
            ("current", "Current"),
        ]

    def queryset(self, request, queryset):
        today = date.today()
        horizon = today + timedelta(days=DUE_SOON_DAYS)
        if self.value() == "overdue":
            return queryset.filter(next_review_due__lt=today)
        if self.value() == "due-soon":
            return queryset.filter(next_review_due__gte=today, next_review_due__lte=horizon)
        if self.value() == "current":
            return queryset.filter(next_review_due__gt=horizon)
        return queryset


class ReviewedForm(ContentForm):
    """The change form of a page. `can_publish` and `can_review` are set per
    request by the admin."""

    can_publish = False
    can_review = False
    mark_reviewed = forms.BooleanField(
        required=False,
        label="Mark as reviewed today",
        help_text="Confirms you have checked every fact on this page today. Sets the last "
        "review date to today, the next one a standard interval ahead, and you as reviewer.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.can_review:
            self.fields.pop("mark_reviewed", None)
        if "status" in self.fields and not self.can_publish and not self.published_now():
            self.fields["status"].choices = [
                choice
                for choice in self.fields["status"].choices
                if choice[0] != models.Status.PUBLISHED
            ]

    def published_now(self):
        """Whether the stored record (not the form's instance, which may be an
        old version being restored) is published."""
        if self.instance.pk is None:
            return False
        stored = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        return stored.filter(status=models.Status.PUBLISHED).exists()

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == models.Status.PUBLISHED and not self.can_publish and not self.published_now():
            raise ValidationError(PUBLISH_REFUSED)
        return status


class ReviewedAdmin(ContentAdmin):
    form = ReviewedForm
    list_filter = ["status", ReviewStateFilter, "next_review_due"]
    date_hierarchy = "last_reviewed"
    prepopulated_fields = {"slug": ["name"]}
    save_on_top = True
    actions = ["publish", "mark_reviewed"]

    def permission(self, request, action):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def has_publish_permission(self, request):
        return self.permission(request, "publish")

    def has_review_permission(self, request):
        return self.permission(request, "review")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        permissions = {
            "can_publish": self.has_publish_permission(request),
            "can_review": self.has_review_permission(request),
        }
        return type(form.__name__, (form,), permissions)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if self.has_review_permission(request):
            return [*fields, "reviewed_by"]
        return [*fields, *REVIEW_FIELDS]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        review = ["status", *REVIEW_FIELDS]
        if self.has_review_permission(request):
            review.append("mark_reviewed")
        return [
            *fieldsets,
            ("Reading grade", {"fields": ["reading_grade"]}),
            ("Publishing and review", {"fields": review}),
        ]

    def save_model(self, request, obj, form, change):
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None
        was_published = stored is not None and stored.is_published
        if obj.is_published and not was_published and not self.has_publish_permission(request):
            # The form refuses this already; this catches any other way in.
            raise PermissionDenied(PUBLISH_REFUSED)
        if not self.has_review_permission(request):
            # Restoring an old version must not bring back its review dates either.
            for field in REVIEW_FIELDS:
                setattr(obj, field, getattr(stored, field) if stored else None)
        elif form.cleaned_data.get("mark_reviewed"):
            self.set_reviewed(obj, request.user)
        elif stored is None or obj.last_reviewed != stored.last_reviewed:
            obj.reviewed_by = request.user if obj.last_reviewed else None
            if stored and obj.last_reviewed and obj.next_review_due == stored.next_review_due:
                # A new review date with the old due date: move the due date on too.
                obj.next_review_due = None  # Reviewed.save() sets it from the interval
        super().save_model(request, obj, form, change)

    @staticmethod
    def set_reviewed(obj, user):
        obj.last_reviewed = date.today()
        obj.next_review_due = models.add_months(obj.last_reviewed, settings.REVIEW_INTERVAL_MONTHS)
        obj.reviewed_by = user

    @admin.action(permissions=["publish"], description="Publish the selected pages")
    def publish(self, request, queryset):
        for obj in queryset.exclude(status=models.Status.PUBLISHED):
            obj.status = models.Status.PUBLISHED
            obj._history_user = request.user
            obj.save()
        self.message_user(request, "Published.", messages.SUCCESS)

    @admin.action(permissions=["review"], description="Mark the selected pages as reviewed today")
    def mark_reviewed(self, request, queryset):
        for obj in queryset:
            self.set_reviewed(obj, request.user)
            obj._history_user = request.user
            obj.save()
        self.message_user(request, "Marked as reviewed today.", messages.SUCCESS)

    @admin.display(boolean=True, description="Review overdue")
    def overdue(self, obj):
        return obj.review_overdue


class TherapySideEffectInline(admin.StackedInline):
    form = ContentForm
    model = models.TherapySideEffect
    extra = 0
    autocomplete_fields = ["side_effect", "source"]
    fields = [
        ("side_effect", "frequency", "severity"),
        ("how_long", "source"),
        "what_helps",
        "when_to_get_help",
    ]


class TherapyForm(TimelineUnitsMixin, ReviewedForm):
    """Onset and duration in one unit the editor picks (admin_forms.py)."""


@admin.register(models.Therapy)
class TherapyAdmin(ReviewedAdmin):
    form = TherapyForm
    readability_targets = {"summary": SUMMARY_TARGET, "body": BODY_TARGET, "evidence": BODY_TARGET}
    list_display = ["name", "drug_class", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["name", "short_name", "summary", "body"]
    filter_horizontal = ["mechanisms", "sources"]
    inlines = [TherapySideEffectInline]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "slug", "position", "drug_class"]}),
        ("Text", {"fields": ["summary", "body", "safety", "evidence", "questions_to_ask"]}),
        ("Treatment", {"fields": ["how_given", "typical_course"]}),
        (
            "Timeline (drives the comparison and the chart)",
            {
                "fields": [
                    ("onset_min", "onset_max", "onset_unit"),
                    ("duration_min", "duration_max", "duration_unit"),
                    "timeline_note",
                ]
            },
        ),
        ("Legal status", {"fields": ["regulatory_status", "regulatory_as_of"]}),
        ("Links", {"fields": ["mechanisms", "sources"], "classes": ["collapse"]}),
    ]


@admin.register(models.Mechanism)
class MechanismAdmin(ContentAdmin):
    readability_targets = {"summary": SUMMARY_TARGET, "detail": BODY_TARGET}
    list_display = ["name", "target", "action", "used_by"]
    search_fields = ["name", "target", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["sources"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("therapies")

    @admin.display(description="Therapies")
    def used_by(self, obj):
        return ", ".join(therapy.short_name for therapy in obj.therapies.all())


@admin.register(models.SideEffect)
class SideEffectAdmin(ContentAdmin):
    readability_targets = {"summary": SUMMARY_TARGET}
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.TherapySideEffect)
class TherapySideEffectAdmin(ContentAdmin):
    list_display = ["side_effect", "therapy", "frequency", "severity"]
    list_filter = ["therapy", "frequency", "severity"]
    search_fields = ["side_effect__name", "therapy__name", "how_long"]
    list_select_related = ["side_effect", "therapy"]
    autocomplete_fields = ["side_effect", "source"]


class ComparisonRowInline(admin.TabularInline):
    form = ContentForm
    model = models.ComparisonRow
    extra = 0
    fields = ["position", "aspect", "slug"]
    prepopulated_fields = {"slug": ["aspect"]}
    show_change_link = True


class ComparisonCellInline(admin.TabularInline):
    form = ContentForm
    model = models.ComparisonCell
    extra = 0
    fields = ["therapy", "text", "certainty", "as_of"]


@admin.register(models.Comparison)
class ComparisonAdmin(ReviewedAdmin):
    readability_targets = {"summary": SUMMARY_TARGET}
    list_display = ["title", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["therapies"]
    inlines = [ComparisonRowInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "therapies"]}),
    ]


@admin.register(models.ComparisonRow)
class ComparisonRowAdmin(ContentAdmin):
    list_display = ["aspect", "comparison", "position"]
    list_filter = ["comparison"]
    search_fields = ["aspect", "cells__text"]
    prepopulated_fields = {"slug": ["aspect"]}
    inlines = [ComparisonCellInline]

    def view_on_site(self, obj):
        return obj.comparison.get_absolute_url()


@admin.register(models.ComparisonCell)
class ComparisonCellAdmin(ContentAdmin):
    list_display = ["row", "therapy", "text", "certainty", "as_of"]
    list_filter = ["row__comparison", "therapy", "certainty"]
    search_fields = ["text", "row__aspect"]
    list_select_related = ["row", "therapy"]

    def view_on_site(self, obj):
        return obj.row.comparison.get_absolute_url()


class ArticleSectionInline(MarkdownPreviewMixin, admin.StackedInline):
    form = ContentForm
    model = models.ArticleSection
    extra = 0
    fields = [("position", "heading", "anchor"), "body", "reading_grade"]
    readonly_fields = ["reading_grade"]

    @admin.display(description="Reading grade")
    def reading_grade(self, obj):
        return render_grades(obj, {"body": BODY_TARGET})

    prepopulated_fields = {"anchor": ["heading"]}


@admin.register(models.Article)
class ArticleAdmin(ReviewedAdmin):
    readability_targets = {"summary": SUMMARY_TARGET}
    list_display = ["title", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["title", "summary", "sections__body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["therapies", "sources"]
    inlines = [ArticleSectionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "position", "summary"]}),
        ("Links", {"fields": ["therapies", "sources"]}),
    ]


@admin.register(models.ArticleSection)
class ArticleSectionAdmin(ContentAdmin):
    readability_targets = {"body": BODY_TARGET}
    list_display = ["heading", "article", "position"]
    list_filter = ["article"]
    search_fields = ["heading", "body"]
    prepopulated_fields = {"anchor": ["heading"]}


@admin.register(models.Source)
class SourceAdmin(ContentAdmin):
    list_display = ["__str__", "title", "kind", "journal", "year", "doi", "checked"]
    list_filter = ["kind", "year"]
    search_fields = ["authors", "title", "journal", "doi", "finding"]
    prepopulated_fields = {"slug": ["authors", "year"]}


@admin.register(models.GlossaryTerm)
class GlossaryTermAdmin(ContentAdmin):
    readability_targets = {"definition": SUMMARY_TARGET}
    list_display = ["term", "definition"]
    search_fields = ["term", "definition"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(models.CrisisResource)
class CrisisResourceAdmin(ContentAdmin):
    list_display = ["name", "region", "phone", "text", "position", "as_of"]
    list_editable = ["position"]
    list_filter = ["region"]
    search_fields = ["name", "region", "description"]
    prepopulated_fields = {"slug": ["name"]}
