"""Draft revisions: no change reaches patients without a clinical reviewer.

An admin save of a *live* record (a published page with its inline rows, or
any shared record: side effect, mechanism, glossary term, source, crisis
line) is stored as a pending `Revision` instead of being written to the live
rows. A clinical reviewer looks at its diff and either publishes it (applied
in one transaction, with a change note readers see, moving the page's review
date) or sends it back with a comment. Drafts are saved directly, and each
save is recorded as a revision too, so every admin change has a row here:
that row's id is the version number that optimistic locking compares.

The revisions are each record's one history: every admin save, publish,
send-back and deletion, and each record a fixture load changes ("Loaded from
fixtures"). `restore()` brings an earlier one back as a pending revision,
reviewed like any other change.

A snapshot is generic over fields (every concrete field, by `attname`, plus
many-to-many ids and the rows of the inlines edited with it), so new model
fields are carried without touching this module.
"""

import json
from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

PUBLISH_SHARED = "therapyinfo.publish_revision"
REVIEW_FIELDS = ("last_reviewed", "next_review_due", "reviewed_by_id")
NOTE_REQUIRED = "Write a short change note: patients see it on /updates/."
NOTE_MISSING = "change_note"  # the code of that refusal, so a form can show it on its field


class RevisionStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    PUBLISHED = "published", "Published"
    SENT_BACK = "sent-back", "Sent back"
    DRAFT = "draft", "Saved (not public)"
    REPLACED = "replaced", "Replaced by a later edit"
    DELETED = "deleted", "Deleted"
    LOADED = "loaded", "Loaded from fixtures"


# The versions of a record that were its stored content, so may be restored.
RESTORABLE = (RevisionStatus.PUBLISHED, RevisionStatus.DRAFT, RevisionStatus.LOADED)


def jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def page_of(record):
    """The public page a record is part of: itself for a therapy, article or
    comparison; its parent page for an inline row (a section, a comparison row
    or cell, a therapy's side-effect row); None for shared records."""
    from .models import Reviewed

    for _ in range(3):
        if record is None or isinstance(record, Reviewed):
            return record
        parents = [
            f
            for f in record._meta.concrete_fields
            if f.many_to_one and f.remote_field.on_delete is models.CASCADE
        ]
        if not parents or getattr(record, parents[0].attname) is None:
            return None
        record = getattr(record, parents[0].name)
    return None


def is_live(record):
    """Whether the public sees this record now: a published page (or a row of
    one), or any shared record that exists. A row counts as live if either the
    page it is stored on or the page a form moves it to is published, so moving
    a row off a live page waits for review like any other change to it."""
    if record.pk is None:
        return False
    stored = type(record)._default_manager.filter(pk=record.pk).first()
    return any(shown(version) for version in (record, stored) if version is not None)


def shown(record):
    page = page_of(record)
    if page is None:
        return True
    return type(page)._default_manager.filter(pk=page.pk, status="published").exists()


def can_publish(user, record):
    """The one rule for who may publish: a reviewer of the record's page, or of
    shared records for a record on no page."""
    page = page_of(record)
    return may_publish_on(user, type(page) if page is not None else None)


def may_publish_on(user, page_model):
    if page_model is None:
        return user.has_perm(PUBLISH_SHARED)
    opts = page_model._meta
    return user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")


def next_review_date(reviewed_on):
    """The one rule for when a review falls due again."""
    from .models import add_months

    return add_months(reviewed_on, settings.REVIEW_INTERVAL_MONTHS)


def set_reviewed(page, by):
    """Record on `page` (in memory) that `by` reviewed it today."""
    page.last_reviewed = date.today()
    page.next_review_due = next_review_date(page.last_reviewed)
    page.reviewed_by = by


def check_change_note(note):
    """The one rule for a publish's change note: readers see it on /updates/ and
    under "What changed on this page", so a publish without one is refused."""
    if not (note or "").strip():
        raise ValidationError(NOTE_REQUIRED, code=NOTE_MISSING)
    return note.strip()


def needs_review_on_add(record):
    """Whether a new record would be public at once: a row added to a published
    page, or a new shared record (a crisis line is on every page). A new page is
    a draft, so it does not."""
    page = page_of(record)
    if page is None:
        from .models import Reviewed

        return not isinstance(record, Reviewed)
    return type(page)._default_manager.filter(pk=page.pk, status="published").exists()


def revisions_touching(record):
    """Revisions that change `record`: its own, those of rows saved from their own
    admin page when `record` is a page, and those of its page when it is a row."""
    mine = ContentType.objects.get_for_model(record)
    touching = Q(content_type=mine, object_id=record.pk) | Q(page_type=mine, page_id=record.pk)
    page = page_of(record)
    if page is not None and page is not record:
        theirs = ContentType.objects.get_for_model(page)
        touching |= Q(content_type=theirs, object_id=page.pk)
    return Revision.objects.filter(touching)


def latest_token(record):
    """The version a form was opened at: the latest revision that touches the
    record and the latest fixture load, so a save after either is refused."""
    if record.pk is None:
        return "0-0"
    revision = revisions_touching(record).order_by("-pk").values_list("pk", flat=True).first()
    load = ContentLoad.objects.order_by("-pk").values_list("pk", flat=True).first()
    return f"{revision or 0}-{load or 0}"


def what_changed_since(record, token):
    """Who or what moved the record on since a form's `token`, in words."""
    revision_pk, _, load_pk = str(token).partition("-")
    revision_pk = int(revision_pk) if revision_pk.isdigit() else 0
    load_pk = int(load_pk) if load_pk.isdigit() else 0
    revision = (
        revisions_touching(record)
        .filter(pk__gt=revision_pk)
        .select_related("author")
        .order_by("-pk")
        .first()
    )
    load = ContentLoad.objects.filter(pk__gt=load_pk).order_by("-pk").first()
    if load is not None and (revision is None or load.loaded_at > revision.created):
        return f"load_content reloaded the fixtures on {load.loaded_at:%d %b %Y at %H:%M} UTC"
    if revision is None:
        return "someone changed this record"
    who = revision.author.get_username() if revision.author else "someone"
    return f"{who} changed this record on {revision.created:%d %b %Y at %H:%M} UTC"


def pending_for(record):
    if record.pk is None:
        return None
    return (
        Revision.objects.filter(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            status=RevisionStatus.PENDING,
        )
        .select_related("author")
        .first()
    )


def work_to_continue(record):
    """The revision a change form should open on: the one awaiting review, or one
    sent back when nothing was saved since (so the editor fixes it, not redoes it)."""
    if record.pk is None:
        return None
    latest = (
        Revision.objects.filter(
            content_type=ContentType.objects.get_for_model(record), object_id=record.pk
        )
        .select_related("author", "reviewer")
        .order_by("-pk")
        .first()
    )
    if latest and latest.status in (RevisionStatus.PENDING, RevisionStatus.SENT_BACK):
        return latest
    return pending_for(record)


def history_of(record):
    """Every revision of `record` and of the rows saved on it, newest first."""
    return revisions_touching(record).select_related("author", "reviewer").order_by("-pk")


def restore(revision, by, token):
    """Bring `revision`'s record back to that version, as user `by` from a form
    opened at version `token`. For a record the public sees, that is a pending
    revision a clinical reviewer publishes or sends back like any other change;
    a draft is saved at once, as every draft save is. The current status and
    review dates are kept: a restore brings back content, never a review."""
    if revision.status not in RESTORABLE:
        raise ValidationError("That version was never saved, so it cannot be restored.")
    with transaction.atomic():
        # The record's row is locked until this commits, so of two restores (or a
        # restore and a save) from the same version the second sees the first.
        record = revision.model._default_manager.select_for_update().filter(pk=revision.object_id)
        record = record.first()
        if record is None:
            raise ValidationError("This record was deleted, so there is nothing to restore onto.")
        if latest_token(record) != token:
            raise ValidationError(
                f"{what_changed_since(record, token)}, after you opened its history. Nothing "
                "was restored: reload the history and choose the version again."
            )
        pending = pending_for(record)
        if pending is not None:
            who = pending.author.get_username() if pending.author else "someone"
            raise ValidationError(
                f"{who} saved changes on {pending.created:%d %b %Y at %H:%M} UTC that are "
                "waiting for a clinical review. A reviewer must publish them or send them "
                "back before an earlier version can be restored."
            )
        data = restored_snapshot(revision, record)
        if is_live(record):
            return Revision.record(record, data, author=by)
        Revision(content_type=revision.content_type, object_id=record.pk, data=data).apply()
        data = {**full_snapshot(record), "restored_from": revision.pk}
        return Revision.record(record, data, by, status=RevisionStatus.DRAFT)


def restored_snapshot(revision, record):
    """`revision`'s snapshot as a change to `record` now: its current status and
    review dates kept, links to records since deleted left out, and old rows no
    longer on it added back as new rows."""
    from django.apps import apps

    old = revision.data
    current = field_values(record)
    kept = {name: current[name] for name in ("status", *REVIEW_FIELDS) if name in current}
    m2m = {}
    for name, ids in (old.get("m2m") or {}).items():
        related = record._meta.get_field(name).related_model._default_manager
        m2m[name] = sorted(related.filter(pk__in=ids).values_list("pk", flat=True))
    inlines = {}
    for accessor, spec in (old.get("inlines") or {}).items():
        rows_here = apps.get_model(spec["model"])._default_manager.filter(**{spec["fk"]: record.pk})
        here = set(rows_here.values_list("pk", flat=True))
        rows = [{**row, "pk": row["pk"] if row["pk"] in here else None} for row in spec["rows"]]
        inlines[accessor] = {**spec, "rows": rows}
    return {
        "fields": {**old["fields"], **kept},
        "m2m": m2m,
        "inlines": inlines,
        "restored_from": revision.pk,
    }


# Snapshots ------------------------------------------------------------------


def field_values(record, skip=()):
    return {
        f.attname: jsonable(f.value_from_object(record))
        for f in record._meta.concrete_fields
        if not f.primary_key and f.attname not in skip
    }


def m2m_values(record, cleaned=None):
    """Many-to-many ids: from a form's cleaned data when given, else the database."""
    values = {}
    for f in record._meta.many_to_many:
        if cleaned is not None and f.name in cleaned:
            values[f.name] = sorted(obj.pk for obj in cleaned[f.name])
        elif record.pk is not None:
            values[f.name] = sorted(getattr(record, f.name).values_list("pk", flat=True))
        else:
            values[f.name] = []
    return values


def row_snapshot(row, fk_attname, cleaned=None):
    return {
        "pk": row.pk,
        "fields": field_values(row, skip={fk_attname}),
        "m2m": m2m_values(row, cleaned),
    }


def snapshot_from_forms(form, formsets):
    """What an admin change form (with its inline formsets) asks the record to become."""
    record = form.instance
    inlines = {}
    for formset in formsets:
        fk = formset.fk
        rows = []
        for inline_form in formset.forms:
            is_new = inline_form.instance.pk is None
            if formset.can_delete and formset._should_delete_form(inline_form):
                continue
            if is_new and not inline_form.has_changed():
                if "pending_row" in inline_form.initial:  # added by the pending revision
                    rows.append(inline_form.initial["pending_row"])
                continue
            rows.append(row_snapshot(inline_form.instance, fk.attname, inline_form.cleaned_data))
        inlines[fk.remote_field.get_accessor_name()] = {
            "model": formset.model._meta.label_lower,
            "fk": fk.attname,
            "rows": rows,
        }
    return {
        "fields": field_values(record),
        "m2m": m2m_values(record, form.cleaned_data),
        "inlines": inlines,
    }


def rows_of(model):
    """The inline rows a record of `model` is edited with, as a snapshot's
    "inlines" spec: every model whose rows are deleted with it (a therapy's side
    effects, an article's sections, a comparison's rows, a row's cells)."""
    return {
        relation.get_accessor_name(): {
            "model": relation.related_model._meta.label_lower,
            "fk": relation.field.attname,
        }
        for relation in model._meta.related_objects
        if relation.one_to_many
        and relation.related_model._meta.app_label == model._meta.app_label
        and relation.on_delete is models.CASCADE
    }


def full_snapshot(record):
    """The stored record with all its inline rows (what a load or a restore keeps)."""
    return snapshot_of(record, like={"inlines": rows_of(type(record))})


def snapshot_of(record, like=None):
    """The stored record, with the same inlines as the snapshot `like`."""
    from django.apps import apps

    inlines = {}
    for accessor, spec in ((like or {}).get("inlines") or {}).items():
        model = apps.get_model(spec["model"])
        rows = model._default_manager.filter(**{spec["fk"]: record.pk}).order_by("pk")
        inlines[accessor] = {
            **spec,
            "rows": [row_snapshot(row, spec["fk"]) for row in rows],
        }
    return {"fields": field_values(record), "m2m": m2m_values(record), "inlines": inlines}


def set_fields(record, fields):
    for f in record._meta.concrete_fields:
        if not f.primary_key and f.attname in fields:
            setattr(record, f.attname, f.to_python(fields[f.attname]))
    return record


def overlay(record, revision):
    """`record` in memory as the pending `revision` would make it, so the change
    form opens on the work waiting for review (inline rows: see admin.py)."""
    set_fields(record, revision.data["fields"])
    record.pending_m2m = revision.data.get("m2m", {})
    record.pending_inlines = {
        spec["model"]: spec for spec in revision.data.get("inlines", {}).values()
    }
    return record


def initial_row(model, row):
    """Form initial data for a row the revision adds (it has no database row yet)."""
    initial = {"pending_row": row}
    for f in model._meta.concrete_fields:
        if f.attname in row["fields"]:
            initial[f.name] = f.to_python(row["fields"][f.attname])
    initial.update(row.get("m2m", {}))
    return initial


# Diffs ----------------------------------------------------------------------


def describe_value(model, attname, value):
    field = next((f for f in model._meta.concrete_fields if f.attname == attname), None)
    if value in (None, ""):
        return "(empty)"
    if field is not None and field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related else f"#{value}"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def field_label(model, name):
    for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        if name in (f.attname, f.name):
            return str(f.verbose_name).capitalize()
    return name


def field_changes(model, old, new):
    """[(label, old text, new text)] for every field or link that differs."""
    changes = []
    for name, value in new["fields"].items():
        if old["fields"].get(name) != value and name not in REVIEW_FIELDS:
            changes.append(
                (
                    field_label(model, name),
                    describe_value(model, name, old["fields"].get(name)),
                    describe_value(model, name, value),
                )
            )
    for name, ids in new.get("m2m", {}).items():
        if sorted(old.get("m2m", {}).get(name, [])) != sorted(ids):
            related = model._meta.get_field(name).related_model._default_manager
            changes.append(
                (
                    field_label(model, name),
                    names(related, old.get("m2m", {}).get(name, [])),
                    names(related, ids),
                )
            )
    return changes


def names(manager, pks):
    return ", ".join(str(record) for record in manager.filter(pk__in=pks)) or "(none)"


def row_label(model, fk, parent_pk, row):
    instance = set_fields(model(**{fk: parent_pk}), row["fields"])
    try:
        return str(instance)
    except Exception:  # a row whose parts are not all set yet
        return f"row {row['pk'] or '(new)'}"


def diff(old, new, model, parent_pk):
    """{"fields": [(label, old, new)], "rows": [(group, kind, row label, changes)]}."""
    from django.apps import apps

    rows = []
    for accessor, spec in new.get("inlines", {}).items():
        row_model = apps.get_model(spec["model"])
        group = str(row_model._meta.verbose_name_plural).capitalize()
        before = {r["pk"]: r for r in old.get("inlines", {}).get(accessor, {}).get("rows", [])}
        seen = set()
        for row in spec["rows"]:
            label = row_label(row_model, spec["fk"], parent_pk, row)
            if row["pk"] in before:
                seen.add(row["pk"])
                changes = field_changes(row_model, before[row["pk"]], row)
                if changes:
                    rows.append((group, "changed", label, changes))
            else:
                rows.append((group, "added", label, field_changes(row_model, EMPTY, row)))
        for pk, row in before.items():
            if pk not in seen:
                label = row_label(row_model, spec["fk"], parent_pk, row)
                rows.append((group, "removed", label, []))
    return {"fields": field_changes(model, old, new), "rows": rows}


EMPTY = {"fields": {}, "m2m": {}}


def content_of(snapshot):
    """A snapshot without its review dates, which a review may move at any time."""
    if snapshot is None:
        return None
    fields = {k: v for k, v in snapshot["fields"].items() if k not in REVIEW_FIELDS}
    return {**snapshot, "fields": fields}


# The models -----------------------------------------------------------------


class Revision(models.Model):
    """One admin change to a record: proposed, published, sent back, or a draft save."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveIntegerField(null=True, blank=True)
    object_repr = models.CharField("record", max_length=200)
    # Not `natural_key`: a field of that name hides the serializers' method of
    # that name, and `dumpdata --natural-primary` (the README's backup) fails.
    record_key = models.JSONField(
        null=True, blank=True, help_text="The record's slug(s), kept after a deletion."
    )
    page_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    page_id = models.PositiveIntegerField(null=True, blank=True)
    url = models.CharField(
        "public address", max_length=300, blank=True, help_text="Where readers see the change."
    )
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=RevisionStatus, default=RevisionStatus.PENDING)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(
        "change note", blank=True, help_text="Shown to readers: what changed, in plain words."
    )
    comment = models.TextField(blank=True, help_text="The reviewer's comment when sent back.")
    editor_note = models.TextField(
        "note for the reviewer",
        blank=True,
        help_text="From the editor to the clinical reviewer: why the change, where a new "
        "figure comes from. Shown on the review screen, never to readers.",
    )

    class Meta:
        ordering = ["-created", "-pk"]
        permissions = [("publish_revision", "Can publish changes to shared records")]
        indexes = [models.Index(fields=["content_type", "object_id", "status"])]

    def __str__(self):
        return f"{self.object_repr} ({self.get_status_display()}, {self.created:%d %b %Y %H:%M})"

    @classmethod
    def record(cls, record, data, author, status=RevisionStatus.PENDING, note="", editor_note=""):
        page = page_of(record)
        if status == RevisionStatus.PENDING:
            # What the editor started from: publishing refuses if the live record
            # has moved on since (a load, say), rather than undo that silently.
            stored = record._meta.model._default_manager.filter(pk=record.pk).first()
            data = {**data, "base": snapshot_of(stored, like=data) if stored else None}
        return cls.objects.create(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            object_repr=str(record)[:200],
            record_key=list(record.natural_key()) if hasattr(record, "natural_key") else None,
            page_type=ContentType.objects.get_for_model(page) if page else None,
            page_id=page.pk if page else None,
            data=jsonable(data),
            status=status,
            author=author,
            note=note,
            editor_note=editor_note.strip(),
        )

    @property
    def model(self):
        return self.content_type.model_class()

    def live_record(self):
        return self.model._default_manager.filter(pk=self.object_id).first()

    def page(self):
        if self.page_type_id is None:
            return None
        return self.page_type.model_class()._default_manager.filter(pk=self.page_id).first()

    def preview_address(self):
        """Where the public would see this change: its page, the address of the
        shared record (a source on the sources page, a crisis line in every
        page's footer), or a page that shows it (a side effect or a mechanism
        on a therapy's page); None where there is none."""
        target = self.page() or self.live_record()
        if hasattr(target, "get_absolute_url"):
            return target.get_absolute_url()
        return target.shown_on() if hasattr(target, "shown_on") else None

    def diff(self):
        record = self.live_record()
        old = snapshot_of(record, like=self.data) if record else EMPTY
        return diff(old, self.data, self.model, self.object_id)

    def current_base(self):
        record = self.live_record()
        return jsonable(snapshot_of(record, like=self.data)) if record else None

    def may_publish(self, user):
        page_model = self.page_type.model_class() if self.page_type_id else None
        return may_publish_on(user, page_model)

    def changes_content(self):
        """Whether publishing would change what readers see (not only review dates)."""
        changes = self.diff()
        return bool(changes["fields"] or changes["rows"])

    def apply(self, before_save=None):
        """Write the snapshot to the live rows (the caller holds a transaction).
        `before_save(page)` may set more fields on a page in the same save."""
        from django.apps import apps

        from .models import Reviewed

        record = set_fields(self.live_record() or self.model(), self.data["fields"])
        if before_save is not None and isinstance(record, Reviewed):
            before_save(record)
        record.save()
        for name, ids in self.data.get("m2m", {}).items():
            getattr(record, name).set(ids)
        for spec in self.data.get("inlines", {}).values():
            row_model = apps.get_model(spec["model"])
            existing = {
                row.pk: row for row in row_model._default_manager.filter(**{spec["fk"]: record.pk})
            }
            kept = {row["pk"] for row in spec["rows"]}
            for pk, row in existing.items():
                if pk not in kept:
                    row.delete()
            for row in spec["rows"]:
                instance = existing.get(row["pk"]) or row_model(**{spec["fk"]: record.pk})
                set_fields(instance, row["fields"]).save()
                for name, ids in row.get("m2m", {}).items():
                    getattr(instance, name).set(ids)
        return record

    def publish(self, by, note=""):
        """Apply this revision in one transaction, as clinical reviewer `by`, with a
        change note for readers (refused without one when readers' text changes);
        the page's review date moves to today."""
        if not self.may_publish(by):
            raise PermissionError("Only a clinical reviewer can publish.")
        with transaction.atomic():
            # Row lock: of two reviewers publishing at once, the second sees the first.
            type(self)._default_manager.select_for_update().filter(pk=self.pk).first()
            self.refresh_from_db(fields=["status"])
            if self.status != RevisionStatus.PENDING:
                raise ValidationError("these changes were already published or sent back.")
            if "base" in self.data and content_of(self.data["base"]) != content_of(
                self.current_base()
            ):
                raise ValidationError(
                    "the live version changed after these changes were made, so publishing "
                    "them would undo that. Send them back, and edit the current version."
                )
            content_changed = self.changes_content()
            if content_changed:
                # Only a review date moving needs no note: readers' text is the same.
                note = check_change_note(note)

            def move_review_date(page):
                # A review date older than the content it vouches for would mislead.
                if content_changed:
                    set_reviewed(page, by)

            record = self.apply(before_save=move_review_date)
            page = page_of(record)
            if page is not None and page is not record and content_changed:
                move_review_date(page)
                page.save()
            target = page or record
            self.object_id = record.pk
            self.object_repr = str(record)[:200]
            self.url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""
            self.status = RevisionStatus.PUBLISHED
            self.reviewer, self.reviewed_at, self.note = by, timezone.now(), note.strip()
            self.save()
        return record

    def mark_published(self, by, note=""):
        """Record that a draft page went live in a direct save (or the publish action)."""
        note = check_change_note(note)
        record = self.live_record()
        target = page_of(record) or record
        self.status = RevisionStatus.PUBLISHED
        self.url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""
        self.reviewer, self.reviewed_at = by, timezone.now()
        self.note = note
        self.save()

    def send_back(self, by, comment):
        self.status = RevisionStatus.SENT_BACK
        self.reviewer, self.reviewed_at, self.comment = by, timezone.now(), comment.strip()
        self.save()


class ContentLoad(models.Model):
    """When `load_content` last wrote the fixtures to this database."""

    loaded_at = models.DateTimeField(default=timezone.now)
    forced = models.BooleanField(default=False)
    hashes = models.JSONField(
        default=dict, help_text="A content hash of every record this load wrote, by natural key."
    )

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self):
        return f"Content loaded {self.loaded_at:%Y-%m-%d %H:%M}"


def citing_records(source, links=True):
    """Where a source is used: every record that cites `[@slug]` in its text or
    (unless `links` is false) links to it, named by the page it is on
    ("Therapy: Ketamine"), sorted."""
    from django.apps import apps
    from django.db.models import Q

    def label(record):
        shown = page_of(record) or record
        return f"{shown._meta.verbose_name.capitalize()}: {shown}"

    found = set()
    marker = f"[@{source.slug}]"
    for model in apps.get_app_config("therapyinfo").get_models():
        if model in (Revision, ContentLoad):
            continue
        text_fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.TextField, models.CharField))
        ]
        query = Q()
        for name in text_fields:
            query |= Q(**{f"{name}__contains": marker})
        if text_fields:
            found.update(label(record) for record in model._default_manager.filter(query))
    for relation in source._meta.related_objects if links else ():
        model = relation.related_model
        if model in (Revision, ContentLoad):
            continue
        records = model._default_manager.filter(**{relation.field.name: source})
        found.update(label(record) for record in records)
    return sorted(found)
