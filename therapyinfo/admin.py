"""Django admin for editors and clinical reviewers.

Pages are edited with the rows they are made of (sections, comparison rows
and cells, a therapy's side effects) as inlines on the same screen.
"""

from django.contrib import admin

from . import models

admin.site.site_header = "therapyinfo content"
admin.site.site_title = "therapyinfo admin"
admin.site.index_title = "Content"

REVIEW_FIELDSET = (
    "Publishing and review",
    {"fields": ["status", "last_reviewed", "next_review_due"]},
)


class ReviewedAdmin(admin.ModelAdmin):
    list_filter = ["status", "next_review_due"]
    date_hierarchy = "last_reviewed"
    prepopulated_fields = {"slug": ["name"]}
    save_on_top = True

    @admin.display(boolean=True, description="Review overdue")
    def overdue(self, obj):
        return obj.review_overdue


class TherapySideEffectInline(admin.TabularInline):
    model = models.TherapySideEffect
    extra = 0
    autocomplete_fields = ["side_effect", "source"]
    fields = [
        "side_effect",
        "frequency",
        "severity",
        "how_long",
        "what_helps",
        "when_to_get_help",
        "source",
    ]


@admin.register(models.Therapy)
class TherapyAdmin(ReviewedAdmin):
    list_display = ["name", "drug_class", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["name", "short_name", "summary", "body"]
    filter_horizontal = ["mechanisms", "sources"]
    inlines = [TherapySideEffectInline]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "slug", "position", "drug_class"]}),
        ("Text", {"fields": ["summary", "body", "evidence", "questions_to_ask"]}),
        ("Treatment", {"fields": ["how_given", "typical_course"]}),
        (
            "Timeline (drives the comparison and the chart)",
            {
                "fields": [
                    ("onset_min_hours", "onset_max_hours"),
                    ("duration_min_days", "duration_max_days"),
                    "timeline_note",
                ]
            },
        ),
        ("Legal status", {"fields": ["regulatory_status", "regulatory_as_of"]}),
        ("Links", {"fields": ["mechanisms", "sources"], "classes": ["collapse"]}),
        REVIEW_FIELDSET,
    ]


@admin.register(models.Mechanism)
class MechanismAdmin(admin.ModelAdmin):
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
class SideEffectAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.TherapySideEffect)
class TherapySideEffectAdmin(admin.ModelAdmin):
    list_display = ["side_effect", "therapy", "frequency", "severity"]
    list_filter = ["therapy", "frequency", "severity"]
    search_fields = ["side_effect__name", "therapy__name", "how_long"]
    list_select_related = ["side_effect", "therapy"]
    autocomplete_fields = ["side_effect", "source"]


class ComparisonRowInline(admin.TabularInline):
    model = models.ComparisonRow
    extra = 0
    fields = ["position", "aspect", "slug"]
    prepopulated_fields = {"slug": ["aspect"]}
    show_change_link = True


class ComparisonCellInline(admin.TabularInline):
    model = models.ComparisonCell
    extra = 0
    fields = ["therapy", "text"]


@admin.register(models.Comparison)
class ComparisonAdmin(ReviewedAdmin):
    list_display = ["title", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["therapies"]
    inlines = [ComparisonRowInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "therapies"]}),
        REVIEW_FIELDSET,
    ]


@admin.register(models.ComparisonRow)
class ComparisonRowAdmin(admin.ModelAdmin):
    list_display = ["aspect", "comparison", "position"]
    list_filter = ["comparison"]
    search_fields = ["aspect", "cells__text"]
    prepopulated_fields = {"slug": ["aspect"]}
    inlines = [ComparisonCellInline]

    def view_on_site(self, obj):
        return obj.comparison.get_absolute_url()


@admin.register(models.ComparisonCell)
class ComparisonCellAdmin(admin.ModelAdmin):
    list_display = ["row", "therapy", "text"]
    list_filter = ["row__comparison", "therapy"]
    search_fields = ["text", "row__aspect"]
    list_select_related = ["row", "therapy"]

    def view_on_site(self, obj):
        return obj.row.comparison.get_absolute_url()


class ArticleSectionInline(admin.StackedInline):
    model = models.ArticleSection
    extra = 0
    fields = [("position", "heading", "anchor"), "body"]
    prepopulated_fields = {"anchor": ["heading"]}


@admin.register(models.Article)
class ArticleAdmin(ReviewedAdmin):
    list_display = ["title", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["title", "summary", "sections__body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["therapies", "sources"]
    inlines = [ArticleSectionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "position", "summary"]}),
        ("Links", {"fields": ["therapies", "sources"]}),
        REVIEW_FIELDSET,
    ]


@admin.register(models.ArticleSection)
class ArticleSectionAdmin(admin.ModelAdmin):
    list_display = ["heading", "article", "position"]
    list_filter = ["article"]
    search_fields = ["heading", "body"]
    prepopulated_fields = {"anchor": ["heading"]}


@admin.register(models.Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "journal", "year", "doi"]
    list_filter = ["year"]
    search_fields = ["authors", "title", "journal", "doi", "finding"]
    prepopulated_fields = {"slug": ["authors", "year"]}


@admin.register(models.GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    list_display = ["term", "definition"]
    search_fields = ["term", "definition"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(models.CrisisResource)
class CrisisResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "phone", "text", "position", "as_of"]
    list_editable = ["position"]
    list_filter = ["region"]
    search_fields = ["name", "region", "description"]
    prepopulated_fields = {"slug": ["name"]}
