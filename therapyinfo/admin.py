"""Django admin for editors and clinical reviewers.

Pages are edited with the rows they are made of (sections, comparison rows
and cells, a therapy's side effects) as inlines on the same screen. Every
content record has one history, its revisions (revisions.py): the "History"
button lists them, and "Restore this version" opens a pending revision from
an old one, which a clinical reviewer reviews like any other change.

Roles are enforced here, on the server: without the `publish_<model>`
permission a save can never make a page published, and without
`review_<model>` it can never change the review fields, whatever the form
posts.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from . import models, revisions
from .admin_forms import EditorialAdminMixin, MarkdownPreviewMixin, TimelineUnitsMixin
from .diffs import marked_diff
from .preview import preview_url
from .readability import BODY_TARGET, KEY_FACTS_TARGET, SUMMARY_TARGET, grades
from .review import DUE_SOON_DAYS

REVIEW_FIELDS = ["last_reviewed", "next_review_due", "reviewed_by"]
PUBLISH_REFUSED = (
    'Only a clinical reviewer can publish. Set the status to "In review" to ask for one.'
)

UNPUBLISH_REFUSED = "Only a clinical reviewer can take a published page offline."


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


class EditForm(ContentForm):
    """The change form of a record (not of an inline row): it carries the version
    it was opened at, so a stale second save is refused instead of overwriting."""

    edit_token = forms.CharField(required=False, widget=forms.HiddenInput)
    change_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Shown to readers under "What changed on this page" and on the updates '
        "page. Plain words, one or two sentences.",
    )
    note_for_reviewer = forms.CharField(
        label="Note for the clinical reviewer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: why you made this change, and the source of any new figure. "
        "The reviewer sees it beside your changes; readers never do.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["edit_token"].initial = revisions.latest_token(self.instance)
        work = getattr(self.instance, "continued_revision", None)
        if work is not None:  # the form opens on this work, so on its note too
            self.initial.setdefault("note_for_reviewer", work.editor_note)
        for name, ids in getattr(self.instance, "pending_m2m", {}).items():
            if name in self.fields:
                self.initial[name] = ids

    def clean(self):
        cleaned = super().clean()
        posted = self.data.get(self.add_prefix("edit_token"))
        if self.instance.pk is None:
            return cleaned
        if posted in (None, ""):
            # Every change form carries the field; a post without it (a script,
            # a crafted request) cannot show it was made from the current version.
            raise ValidationError(
                "This form did not say which version of the record it was opened at, so "
                "nothing was saved. Reload the page and make your changes again."
            )
        # The admin holds the record's row from before this check until the save
        # commits (ContentAdmin.changeform_view), so of two saves from forms opened
        # at the same version the second waits here, sees the first and is refused.
        if revisions.latest_token(self.instance) != posted:
            what = revisions.what_changed_since(self.instance, posted)
            raise ValidationError(
                f"{what}, after you opened it. Nothing was saved: copy "
                "your changes, reload the page and apply them again."
            )
        return cleaned


class PendingFilter(admin.SimpleListFilter):
    title = "unpublished changes"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Awaiting review"), ("no", "None")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        ids = revisions.Revision.objects.filter(
            content_type=ContentType.objects.get_for_model(queryset.model),
            status=revisions.RevisionStatus.PENDING,
        ).values("object_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=ids)
        return queryset.exclude(pk__in=ids)


class ContentAdmin(EditorialAdminMixin, admin.ModelAdmin):
    """Every content model: revision history, reading grades for its text, and
    review before any change to a live record reaches the public (revisions.py)."""

    form = EditForm
    change_form_template = "admin/therapyinfo/change_form.html"
    readability_targets = {}

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), PendingFilter]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        # A save holds the record's row until it commits, from before its form's
        # version check: without the lock two saves from forms opened at the same
        # version both pass the check and the second silently replaces the first.
        with transaction.atomic(using=router.db_for_write(self.model)):
            self.lock_record(object_id)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def lock_record(self, object_id):
        try:
            pk = self.opts.pk.to_python(unquote(object_id))
        except ValidationError:
            return  # no such record: the admin answers that itself
        rows = self.model._default_manager.select_for_update().filter(pk=pk)
        list(rows.values("pk"))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        match = request.resolver_match
        if obj is not None and match and match.url_name.endswith("_change"):
            # The change form opens on the work awaiting review, if any, so the
            # next save builds on it instead of losing it.
            work = revisions.work_to_continue(obj)
            if work is not None and not (
                work.status == revisions.RevisionStatus.SENT_BACK
                and request.GET.get("start") == "published"
            ):
                revisions.overlay(obj, work)
                obj.continued_revision = work
        return obj

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        spec = getattr(obj, "pending_inlines", {}).get(inline.model._meta.label_lower)
        if spec:
            kwargs["initial"] = [
                revisions.initial_row(inline.model, row)
                for row in spec["rows"]
                if row["pk"] is None
            ]
        return kwargs

    def get_fieldsets(self, request, obj=None):
        added_here = {"change_note", "note_for_reviewer"}
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in added_here]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        fieldsets.append(("Note for the clinical reviewer", {"fields": ["note_for_reviewer"]}))
        if revisions.can_publish(request.user, obj if obj is not None else self.model()):
            fieldsets.append(("Change note for readers", {"fields": ["change_note"]}))
        return fieldsets

    def save_model(self, request, obj, form, change):
        if not change and revisions.needs_review_on_add(obj):
            request.revision_of = obj
            return
        if change and revisions.is_live(obj):
            # Live rows are written only by Revision.apply(), in save_related.
            request.revision_of = obj
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        self.warn_about_sanitising(request, form, formsets)
        obj = form.instance
        if getattr(request, "revision_of", None) is obj:
            self.propose(request, form, formsets)
            return
        super().save_related(request, form, formsets, change)
        data = revisions.snapshot_of(obj, like=revisions.snapshot_from_forms(form, formsets))
        revision = revisions.Revision.record(
            obj,
            data,
            request.user,
            status=revisions.RevisionStatus.DRAFT,
            editor_note=form.cleaned_data.get("note_for_reviewer", ""),
        )
        if revisions.is_live(obj):
            # A draft page a reviewer has just published.
            revision.mark_published(request.user, form.cleaned_data.get("change_note", ""))

    def propose(self, request, form, formsets):
        """Store what the form asks for as a pending revision; a reviewer's own
        save publishes it at once."""
        obj = form.instance
        data = revisions.snapshot_from_forms(form, formsets)
        for formset in formsets:  # nothing saved through them; the admin's log asks
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        replaced = revisions.pending_for(obj)
        if replaced is not None:  # this form opened on it (EditForm checks), so builds on it
            replaced.status = revisions.RevisionStatus.REPLACED
            replaced.save(update_fields=["status"])
        revision = revisions.Revision.record(
            obj,
            data,
            author=request.user,
            editor_note=form.cleaned_data.get("note_for_reviewer", ""),
        )
        if not revision.may_publish(request.user):
            return
        if replaced is not None and replaced.author_id != request.user.pk:
            # Someone else's changes are folded in: the reviewer reads them field by
            # field on the review screen before they go live, not on this save.
            self.message_user(
                request,
                f"Not published yet: this includes changes by {replaced.author or 'someone'}. "
                "Review them on the review screen, then publish.",
                messages.WARNING,
            )
            return
        note = form.cleaned_data.get("change_note", "")
        try:
            record = revision.publish(by=request.user, note=note)
        except (IntegrityError, ValidationError) as error:
            # No change note, or someone else's change got there first (a clashing
            # anchor, say): keep the revision for review rather than fail the request.
            said = " ".join(error.messages) if isinstance(error, ValidationError) else error
            self.message_user(request, f"Not published: {said}", messages.ERROR)
            return
        obj.pk = record.pk  # for an addition, the admin's redirect and log need it
        request.revision_published = True

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "revision_of", None) is obj:
            if getattr(request, "revision_published", False):
                self.message_user(request, f"Published: {obj}.", messages.SUCCESS)
                return super().response_add(request, obj, post_url_continue)
            self.message_user(
                request,
                f"“{obj}” is saved for review. It will appear once a clinical reviewer "
                "publishes it.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:index"))
        return super().response_add(request, obj, post_url_continue)

    def log_addition(self, request, obj, message):
        if obj.pk is None:  # saved for review, not created yet
            return None
        return super().log_addition(request, obj, message)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and revisions.is_live(obj):
            # Deleting a row of a live page, or a shared record, is a reviewer's call.
            return revisions.can_publish(request.user, obj)
        return allowed

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if revisions.is_live(obj) and not revisions.can_publish(request.user, obj):
                raise PermissionDenied("Only a clinical reviewer can delete what the public sees.")
            self.record_deletion(request, obj)
        super().delete_queryset(request, queryset)

    def response_change(self, request, obj):
        if getattr(request, "revision_of", None) is obj:
            if getattr(request, "revision_published", False):
                self.message_user(request, f"Published: {obj}.", messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    "Saved for review. The public keeps seeing the published version until "
                    "a clinical reviewer publishes your changes.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def message_user(self, request, message, *args, **kwargs):
        # Django's own "was changed successfully" would be untrue for a revision
        # waiting for review; response_change above says what happened instead.
        if getattr(request, "revision_of", None) is not None and "successfully" in str(message):
            return
        super().message_user(request, message, *args, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            ct = ContentType.objects.get_for_model(obj)
            extra["pending_revision"] = revisions.pending_for(obj)
            extra["continued_revision"] = getattr(obj, "continued_revision", None)
            extra["sent_back"] = (
                revisions.Revision.objects.filter(
                    content_type=ct, object_id=obj.pk, status=revisions.RevisionStatus.SENT_BACK
                )
                .select_related("reviewer")
                .first()
            )
            # An editor's save of what the public sees asks for a review: say so
            # on the button (admin/therapyinfo/submit_line.html).
            extra["submits_for_review"] = revisions.is_live(obj) and not revisions.can_publish(
                request.user, obj
            )
            extra["published_revisions"] = revisions.Revision.objects.filter(
                content_type=ct, object_id=obj.pk, status=revisions.RevisionStatus.PUBLISHED
            ).select_related("reviewer")[:10]
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        restore = path(
            "<path:object_id>/history/<int:revision_id>/restore/",
            self.admin_site.admin_view(self.restore_view),
            name="{}_{}_restore".format(*info),
        )
        return [restore, *super().get_urls()]

    def history_view(self, request, object_id, extra_context=None, error="", status=200):
        """The record's revisions, newest first, each restorable version with a form
        that carries the version the page was opened at."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        own_type = ContentType.objects.get_for_model(obj)
        entries = [
            (
                revision,
                revision.content_type_id == own_type.pk
                and revision.object_id == obj.pk
                and revision.status in revisions.RESTORABLE,
            )
            for revision in revisions.history_of(obj).select_related("content_type")
        ]
        pending = revisions.pending_for(obj)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": entries,
            "edit_token": revisions.latest_token(obj),
            "pending_revision": pending,
            "may_restore": pending is None and self.has_change_permission(request, obj),
            "is_live": revisions.is_live(obj),
            "error": error,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/therapyinfo/history.html", context, status=status)

    def restore_view(self, request, object_id, revision_id):
        """POST: restore one version from the history (revisions.restore)."""
        history = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_history", args=[object_id]
        )
        if request.method != "POST":
            return HttpResponseRedirect(history)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such record.")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        revision = revisions.Revision.objects.filter(
            pk=revision_id, content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).first()
        if revision is None:
            raise Http404("No such version of this record.")
        token = request.POST.get("edit_token", "")
        if not token:
            error = (
                "This form did not say which version of the record it was opened at, so "
                "nothing was restored. Reload the history and choose the version again."
            )
            return self.history_view(request, object_id, error=error, status=400)
        try:
            restored = revisions.restore(revision, by=request.user, token=token)
        except ValidationError as error:
            return self.history_view(request, object_id, error=" ".join(error.messages), status=409)
        when = f"{revision.created:%d %b %Y, %H:%M} UTC"
        if restored.status == revisions.RevisionStatus.PENDING:
            self.message_user(
                request,
                f"The version of {when} is restored as changes awaiting review. Visitors keep "
                "seeing the published version until a clinical reviewer publishes them.",
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse("admin:therapyinfo_revision_review", args=[restored.pk])
            )
        self.message_user(request, f"Restored the version of {when}.", messages.SUCCESS)
        return HttpResponseRedirect(history)

    def delete_model(self, request, obj):
        self.record_deletion(request, obj)
        super().delete_model(request, obj)

    @staticmethod
    def record_deletion(request, obj):
        revisions.Revision.record(
            obj, revisions.snapshot_of(obj), request.user, status=revisions.RevisionStatus.DELETED
        )

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


class ReviewedForm(EditForm):
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
        """Whether the stored record (not the form's instance, which may be the
        pending revision the form opened on) is published."""
        if self.instance.pk is None:
            return False
        stored = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        return stored.filter(status=models.Status.PUBLISHED).exists()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == models.Status.PUBLISHED and not self.published_now():
            # A reviewer taking a draft page live publishes it here, on this save.
            try:
                cleaned["change_note"] = revisions.check_change_note(cleaned.get("change_note"))
            except ValidationError as error:
                self.add_error("change_note", error)
        return cleaned

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == models.Status.PUBLISHED and not self.can_publish and not self.published_now():
            raise ValidationError(PUBLISH_REFUSED)
        if status != models.Status.PUBLISHED and not self.can_publish and self.published_now():
            raise ValidationError(UNPUBLISH_REFUSED)
        return status


class ReviewedAdmin(ContentAdmin):
    form = ReviewedForm
    list_filter = ["status", ReviewStateFilter, "next_review_due"]
    date_hierarchy = "last_reviewed"
    prepopulated_fields = {"slug": ["name"]}
    save_on_top = True
    # No list actions that publish or mark reviewed: a reviewer publishes from
    # the review screen or the change form, which check the version they saw.

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
            # Nor can a form without the review permission move the review dates.
            for field in REVIEW_FIELDS:
                setattr(obj, field, getattr(stored, field) if stored else None)
        elif form.cleaned_data.get("mark_reviewed"):
            revisions.set_reviewed(obj, request.user)
        elif stored is None or obj.last_reviewed != stored.last_reviewed:
            obj.reviewed_by = request.user if obj.last_reviewed else None
            if stored and obj.last_reviewed and obj.next_review_due == stored.next_review_due:
                # A new review date with the old due date: move the due date on too.
                obj.next_review_due = None  # Reviewed.save() sets it from the interval
        super().save_model(request, obj, form, change)

    @admin.display(boolean=True, description="Review overdue")
    def overdue(self, obj):
        return obj.review_overdue


class PendingRowsFormSet(BaseInlineFormSet):
    """Inline rows as the pending revision has them: changed rows with their new
    values, removed rows left out (rows it adds come as extra forms)."""

    def get_queryset(self):
        rows = super().get_queryset()
        spec = getattr(self.instance, "pending_inlines", {}).get(self.model._meta.label_lower)
        if spec is None:
            return rows
        if not getattr(self, "_pending_applied", False):
            by_pk = {row["pk"]: row for row in spec["rows"] if row["pk"] is not None}
            self._queryset = [
                revisions.set_fields(row, by_pk[row.pk]["fields"])
                for row in rows
                if row.pk in by_pk
            ]
            self._pending_applied = True
        return self._queryset


class RowInline:
    """An inline whose rows follow the pending revision of the page (see above)."""

    formset = PendingRowsFormSet

    def get_extra(self, request, obj=None, **kwargs):
        spec = getattr(obj, "pending_inlines", {}).get(self.model._meta.label_lower)
        added = sum(row["pk"] is None for row in spec["rows"]) if spec else 0
        return super().get_extra(request, obj, **kwargs) + added


class TherapySideEffectInline(RowInline, admin.StackedInline):
    form = ContentForm
    model = models.TherapySideEffect
    extra = 0
    autocomplete_fields = ["side_effect", "source"]
    fields = [
        ("side_effect", "frequency", "severity"),
        "how_often",
        ("source", "source_location"),
        "how_long",
        "what_helps",
        "when_to_get_help",
    ]


OUTCOME_FIELDS = [
    ("slug", "position", "kind", "side_effect"),
    ("source", "trial", "evidence_type", "certainty"),
    "population",
    ("treatment", "comparator"),
    ("measure", "definition", "time_point"),
    ("treatment_per_100", "treatment_events", "treatment_size"),
    ("comparator_per_100", "comparator_events", "comparator_size"),
    ("funder", "maker_funded"),
    ("caveat", "as_of"),
]


class OutcomeInline(RowInline, admin.StackedInline):
    """How many in 100 were helped or harmed: rows of the therapy page, so they
    wait for the same clinical review as the rest of it."""

    form = ContentForm
    model = models.Outcome
    extra = 0
    autocomplete_fields = ["source", "side_effect"]
    fields = OUTCOME_FIELDS
    classes = ["collapse"]
    verbose_name = "outcome in 100 people"
    verbose_name_plural = "outcomes in 100 people (natural frequencies and icon arrays)"


class TherapyForm(TimelineUnitsMixin, ReviewedForm):
    """Onset and duration in one unit the editor picks (admin_forms.py)."""


@admin.register(models.Therapy)
class TherapyAdmin(ReviewedAdmin):
    form = TherapyForm
    readability_targets = {
        "summary": SUMMARY_TARGET,
        "key_facts": KEY_FACTS_TARGET,
        "body": BODY_TARGET,
        "evidence": BODY_TARGET,
    }
    list_display = ["name", "drug_class", "status", "last_reviewed", "next_review_due", "overdue"]
    search_fields = ["name", "short_name", "summary", "body"]
    filter_horizontal = ["mechanisms", "sources"]
    inlines = [TherapySideEffectInline, OutcomeInline]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "slug", "position", "drug_class", "summary"]}),
        # The parts of every therapy page, in the page's order (models.THERAPY_PARTS);
        # each is required before the page can be published. Side effects are the
        # rows below the form.
        ("Key facts", {"fields": ["key_facts", "body"]}),
        ("Who it is for, and who should not have it", {"fields": ["who_for"]}),
        ("How it is given and what a session is like", {"fields": ["how_given", "typical_course"]}),
        (
            "How well it works (the timeline drives the comparison and the chart)",
            {
                "fields": [
                    "evidence",
                    ("onset_min", "onset_max", "onset_unit"),
                    ("duration_min", "duration_max", "duration_unit"),
                    "timeline_note",
                ]
            },
        ),
        (
            "Safety: medicines, pregnancy, driving, long-term use",
            {"fields": ["interactions", "pregnancy", "driving", "long_term"]},
        ),
        (
            "Cost, insurance and where to get it",
            {"fields": ["cost_access", "regulatory_status", "regulatory_as_of"]},
        ),
        ("Questions to ask your doctor", {"fields": ["questions_to_ask"]}),
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
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.TherapySideEffect)
class TherapySideEffectAdmin(ContentAdmin):
    list_display = ["side_effect", "therapy", "frequency", "severity"]
    list_filter = ["therapy", "frequency", "severity"]
    search_fields = ["side_effect__name", "therapy__name", "how_long"]
    list_select_related = ["side_effect", "therapy"]
    autocomplete_fields = ["side_effect", "source"]


@admin.register(models.Outcome)
class OutcomeAdmin(ContentAdmin):
    list_display = ["trial", "measure", "therapy", "kind", "rates", "evidence_type", "as_of"]
    list_filter = ["therapy", "kind", "evidence_type", "certainty"]
    search_fields = ["trial", "measure", "population", "comparator", "source__authors"]
    list_select_related = ["therapy", "source"]
    autocomplete_fields = ["source", "side_effect"]
    fields = ["therapy", *OUTCOME_FIELDS]

    @admin.display(description="In 100: treatment vs comparison")
    def rates(self, obj):
        return f"{obj.treatment_rate} vs {obj.comparator_rate}"


class ComparisonRowInline(RowInline, admin.TabularInline):
    form = ContentForm
    model = models.ComparisonRow
    extra = 0
    fields = ["position", "aspect", "slug"]
    prepopulated_fields = {"slug": ["aspect"]}
    show_change_link = True


class ComparisonCellInline(RowInline, admin.TabularInline):
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


class ArticleSectionInline(RowInline, MarkdownPreviewMixin, admin.StackedInline):
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


class SourceForm(EditForm):
    def clean_slug(self):
        """A slug that text cites as [@slug] stays: renamed, those citations would
        silently vanish from patients' pages."""
        slug = self.cleaned_data["slug"]
        stored = models.Source.objects.filter(pk=self.instance.pk).first()
        if stored is None or slug == stored.slug:
            return slug
        citing = revisions.citing_records(stored, links=False)
        if citing:
            raise ValidationError(
                f"The slug was not changed: these pages cite this source as [@{stored.slug}], "
                f"and a new slug would break their citations: {'; '.join(citing)}. To rename "
                "it, add a source with the new slug, change each citation to it, then delete "
                "this one."
            )
        return slug


@admin.register(models.Source)
class SourceAdmin(ContentAdmin):
    form = SourceForm
    list_display = ["__str__", "title", "kind", "journal", "year", "doi", "checked"]
    list_filter = ["kind", "year"]
    search_fields = ["authors", "title", "journal", "doi", "finding", "funder"]
    prepopulated_fields = {"slug": ["authors", "year"]}

    def get_deleted_objects(self, objs, request):
        """A source still cited anywhere is protected: the refusal names the pages."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for source in objs:
            protected.extend(
                f"{source} is cited by {where}" for where in revisions.citing_records(source)
            )
        return deleted, counts, perms_needed, protected


@admin.register(models.GlossaryTerm)
class GlossaryTermAdmin(ContentAdmin):
    readability_targets = {"definition": SUMMARY_TARGET}
    list_display = ["term", "definition"]
    search_fields = ["term", "definition"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(models.CrisisResource)
class CrisisResourceAdmin(ContentAdmin):
    list_display = ["name", "region", "phone", "text", "position", "as_of"]
    list_filter = ["region"]
    search_fields = ["name", "region", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="Change note for readers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Needed to publish. Shown under "What changed on this page" and on the '
        "updates page.",
    )
    comment = forms.CharField(
        label="Comment for the editor",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when you send the changes back: say what to fix.",
    )


@admin.register(revisions.Revision)
class RevisionAdmin(admin.ModelAdmin):
    """Every admin change, and the review screen for the pending ones."""

    list_display = ["object_repr", "kind", "status", "author", "created", "reviewer", "note"]
    list_filter = ["status", "content_type"]
    search_fields = ["object_repr", "note", "comment", "editor_note"]
    list_select_related = ["author", "reviewer", "content_type"]
    date_hierarchy = "created"

    @admin.display(description="Type")
    def kind(self, obj):
        return obj.content_type.name.capitalize()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="therapyinfo_revision_review",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="therapyinfo_revision_preview",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:therapyinfo_revision_review", args=[object_id]))

    def get_revision(self, request, pk):
        revision = revisions.Revision.objects.select_related("author", "reviewer").filter(pk=pk)
        revision = revision.first()
        if revision is None or not self.has_view_permission(request):
            raise Http404("No such revision.")
        return revision

    def review_view(self, request, pk):
        revision = self.get_revision(request, pk)
        record = revision.live_record()
        may_publish = revision.may_publish(request.user)
        form = ReviewForm(request.POST or None)
        pending = revision.status == revisions.RevisionStatus.PENDING
        if request.method == "POST":
            if not (pending and may_publish):
                raise PermissionDenied("Only a clinical reviewer can publish or send back.")
            if form.is_valid():
                if "_publish" in request.POST:
                    try:
                        revision.publish(by=request.user, note=form.cleaned_data["note"])
                    except (IntegrityError, ValidationError) as error:
                        if getattr(error, "code", None) == revisions.NOTE_MISSING:
                            form.add_error("note", error)
                        else:
                            form.add_error(
                                None, f"Not published, the live page has changed: {error}"
                            )
                    else:
                        self.message_user(request, f"Published: {revision.object_repr}.")
                        return HttpResponseRedirect(reverse("admin:index"))
                elif form.cleaned_data["comment"].strip():
                    revision.send_back(request.user, form.cleaned_data["comment"])
                    self.message_user(request, f"Sent back to {revision.author}.", messages.WARNING)
                    return HttpResponseRedirect(reverse("admin:index"))
                else:
                    form.add_error("comment", "Say what the editor should fix.")
        opts = revision.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review changes to {revision.object_repr}",
            "opts": self.opts,
            "revision": revision,
            "diff": marked_diff(revision.diff()),
            "form": form,
            "may_publish": may_publish and pending,
            "record_url": reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[revision.object_id]
            )
            if record
            else "",
            "can_preview": revision.preview_address() is not None,
        }
        return TemplateResponse(request, "admin/therapyinfo/revision_review.html", context)

    def preview_view(self, request, pk):
        """To the page's own address, where the revision is shown (preview.py)."""
        revision = self.get_revision(request, pk)
        if revision.preview_address() is None:
            raise Http404("This change is not shown at any one address.")
        return HttpResponseRedirect(preview_url(revision))
