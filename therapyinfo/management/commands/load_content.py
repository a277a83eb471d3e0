"""Load every content fixture in one transaction, validating each record.

Unlike `loaddata`, each record goes through `full_clean()` (choices,
ranges, constraints), and any error names the file, the record and the
field at fault. Nothing is written unless every record is valid. Records
are matched on their natural keys, so running it twice changes nothing.

It never silently overwrites work done in the admin: each load stores a hash
of every record it wrote, and when a record the load would change differs
from what the last load wrote (edited, published, unpublished or deleted in
the admin since, whenever that change was proposed), or has changes awaiting
review, it refuses, lists those records and changes nothing, unless run with
--force, which says what it replaced. A record the load leaves as it is never
counts, so exported content loads again.

Every record it changes gets a revision ("Loaded from fixtures"), its rows
included, so the history shows the load and an admin edit can be undone by
restoring it. An unchanged reload adds none.

"""

import hashlib
import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, models, transaction

from therapyinfo.management.commands.export_content import record as fixture_record
from therapyinfo.revisions import (
    ContentLoad,
    Revision,
    RevisionStatus,
    full_snapshot,
    revisions_touching,
)


class FixtureError(CommandError):
    pass


class Command(BaseCommand):
    help = "Load all content fixtures (validated, in one transaction, idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures-dir",
            type=Path,
            default=Path(settings.FIXTURE_DIRS[0]),
            help="Folder holding the fixture files (default: fixtures/).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate everything, then roll back.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace records changed in the admin since the last load (lists them).",
        )

    def handle(self, *args, fixtures_dir, dry_run, force=False, **options):
        paths = [fixtures_dir / f"{name}.json" for name in settings.CONTENT_FIXTURES]
        counts = {}
        with transaction.atomic():
            plan = LoadPlan(ContentLoad.objects.order_by("-pk").first())
            for path in paths:
                counts[path.name] = load_file(path, plan)
            plan.finish()
            if plan.overwritten and not force:
                raise CommandError(
                    "Nothing was loaded: these records were changed in the admin since the "
                    "last load, and loading would replace that work:\n"
                    + "\n".join(f"  - {line}" for line in plan.overwritten)
                    + "\nExport them first (manage.py export_content), or run again with "
                    "--force to replace them."
                )
            for line in plan.overwritten:
                self.stdout.write(self.style.WARNING(f"Replaced admin work: {line}"))
            if dry_run:
                transaction.set_rollback(True)
            else:
                ContentLoad.objects.create(forced=force, hashes=plan.hashes)
                plan.record_revisions()
        total = sum(counts.values())
        verb = "Checked" if dry_run else "Loaded"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {total} records from {len(paths)} fixture files.")
        )


def record_key(record):
    """A record's name across databases: its model and natural key."""
    return f"{record._meta.label_lower}:{json.dumps(list(record.natural_key()))}"


def content_hash(record):
    """A digest of the record as a fixture holds it (natural keys, no ids), so two
    loads and the admin's saves in between compare by content, not by clock."""
    text = json.dumps(fixture_record(type(record), record), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parent_of(record):
    """The record whose inline rows `record` is one of (a section's article), if any."""
    for field in record._meta.concrete_fields:
        if field.many_to_one and field.remote_field.on_delete is models.CASCADE:
            return getattr(record, field.name)
    return None


class LoadPlan:
    """What this load changes, and which of those changes would replace admin work.

    Each load stores a content hash of every record it wrote (`ContentLoad.hashes`).
    A record this load would change counts as admin work when its stored hash
    differs from the one the last load wrote (changed, published or unpublished
    since), when it is missing though the last load wrote it (deleted since),
    when the last load did not write it (added since), or when changes to it are
    waiting for review (publishing them later would undo this load). A record
    missing from the database counts only if the admin deleted it: a database
    emptied by hand simply loads again."""

    def __init__(self, last_load):
        self.last_load = last_load
        self.recorded = last_load.hashes if last_load is not None else None
        self.loaded, self.changed, self.overwritten, self.hashes = [], [], [], {}

    @staticmethod
    def before(instance):
        """The hash of the stored version of a deserialized record, None if new."""
        if instance.pk is None:
            return None
        stored = type(instance)._default_manager.filter(pk=instance.pk).first()
        return content_hash(stored) if stored is not None else None

    def saved(self, where, instance, before):
        self.loaded.append((where, type(instance), instance.pk, before))

    def finish(self):
        for where, model, pk, before in self.loaded:
            record = model._default_manager.get(pk=pk)
            after = self.hashes[record_key(record)] = content_hash(record)
            if after == before:
                continue
            self.changed.append(record)
            why = self.admin_work(record, before)
            if why:
                self.overwritten.append(f"{where}: {why}")

    def admin_work(self, record, before):
        """Why changing `record` would replace admin work, in words; "" if it would not."""
        key = record_key(record)
        pending = revisions_touching(record).filter(status=RevisionStatus.PENDING)
        pending = pending.select_related("author").first()
        if pending is not None:
            who = pending.author.get_username() if pending.author else "someone"
            return (
                f"changes by {who} saved on {pending.created:%Y-%m-%d %H:%M} UTC are "
                "awaiting review"
            )
        if self.recorded is None:  # the first load into this database
            return ""
        if before is None:
            deletion = self.deletion(record) if key in self.recorded else None
            if deletion is None:  # new in the fixtures, or not deleted in the admin
                return ""
            who = deletion.author.get_username() if deletion.author else "someone"
            return (
                f"deleted in the admin since the last load (by {who} on "
                f"{deletion.created:%Y-%m-%d %H:%M} UTC)"
            )
        if key not in self.recorded:
            if not self.recorded:
                return "the last load did not record what it wrote, so it may be admin work"
            return "added in the admin since the last load" + last_change(record)
        if self.recorded[key] != before:
            return "changed in the admin since the last load" + last_change(record)
        return ""

    def deletion(self, record):
        """The admin's deletion of `record` since the last load, if any. (A deletion
        happens when it is made, so its time is when it took effect.)"""
        return (
            Revision.objects.filter(
                content_type=ContentType.objects.get_for_model(record),
                record_key=list(record.natural_key()),
                status=RevisionStatus.DELETED,
                created__gt=self.last_load.loaded_at,
            )
            .select_related("author")
            .order_by("-pk")
            .first()
        )

    def record_revisions(self):
        """One "Loaded from fixtures" revision for each record this load changed, and
        for the record a changed row is part of, with its rows, so either can be
        restored from its history."""
        done = set()
        for record in self.changed:
            for target in (record, parent_of(record)):
                if target is None or (type(target), target.pk) in done:
                    continue
                done.add((type(target), target.pk))
                Revision.record(
                    target,
                    full_snapshot(target),
                    author=None,
                    status=RevisionStatus.LOADED,
                    note="Loaded from fixtures",
                )


def last_change(record):
    """(published by rev on 2026-12-02 10:00 UTC)": the latest admin change to `record`."""
    revision = (
        revisions_touching(record)
        .exclude(status__in=[RevisionStatus.LOADED, RevisionStatus.REPLACED])
        .select_related("author", "reviewer")
        .order_by("-pk")
        .first()
    )
    if revision is None:
        return ""
    by = revision.reviewer if revision.status == RevisionStatus.PUBLISHED else revision.author
    when = revision.reviewed_at or revision.created
    who = by.get_username() if by else "someone"
    return f" ({revision.get_status_display().lower()} by {who} on {when:%Y-%m-%d %H:%M} UTC)"


def load_file(path, plan=None):
    """Validate and save every record of one fixture file; return the count."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{path}: file not found.") from None
    except json.JSONDecodeError as error:
        raise FixtureError(
            f"{path.name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    if not isinstance(records, list):
        raise FixtureError(f"{path.name}: expected a list of records at the top level.")
    for number, record in enumerate(records, start=1):
        load_record(path, number, record, plan)
    return len(records)


def load_record(path, number, record, plan=None):
    where = f"{path.name}, record {number}"
    if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
        raise FixtureError(f"{where}: each record needs a 'model' and a 'fields' object.")
    try:
        model = apps.get_model(record.get("model", ""))
    except (LookupError, ValueError):
        raise FixtureError(f"{where}: unknown model {record.get('model')!r}.") from None
    fields = record["fields"]
    where = f"{where} ({model._meta.label} {describe(fields)})"
    if "pk" in record:
        raise FixtureError(
            f"{where}: has a 'pk'; content fixtures refer to records by slug, never by id."
        )
    known = {f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many}
    for name in fields:
        if name not in known:
            raise FixtureError(f"{where}: field '{name}': {model.__name__} has no such field.")

    try:
        (deserialized,) = serializers.deserialize("json", json.dumps([record]))
    except serializers.base.DeserializationError as error:
        field, message = find_bad_field(model, fields) or ("?", str(error))
        raise FixtureError(f"{where}: field '{field}': {message}") from None

    instance = deserialized.object
    # The deserializer matched an existing row by natural key if there is one;
    # tell validation so, or the row would clash with itself as a duplicate.
    instance._state.adding = instance.pk is None
    try:
        instance.full_clean()
    except ValidationError as error:
        raise FixtureError(f"{where}: {format_validation_error(error)}") from None
    before = plan.before(instance) if plan is not None else None
    if hasattr(instance, "render_markdown_fields"):
        instance.render_markdown_fields()  # a raw save skips the model's save()
    try:
        with transaction.atomic():
            deserialized.save()
    except DatabaseError as error:
        raise FixtureError(f"{where}: the database refused it: {error}") from None
    if plan is not None:
        plan.saved(where, instance, before)


def describe(fields):
    """A human handle for a record: its slug, anchor or term, or else the natural
    keys it is made of (a side-effect row's therapy and side effect, a cell's row
    and therapy)."""
    for key in ("slug", "anchor", "term", "name"):
        if fields.get(key):
            return repr(fields[key])
    keys = [
        "/".join(value)
        for value in fields.values()
        if isinstance(value, list) and value and all(isinstance(part, str) for part in value)
    ]
    return " ".join(repr(key) for key in keys)


def find_bad_field(model, fields):
    """Say which field made deserialisation fail, and why."""
    for name, value in fields.items():
        field = model._meta.get_field(name)
        if field.is_relation:
            related = field.remote_field.model
            for key in value if field.many_to_many else [value]:
                if key is None:
                    continue
                try:
                    if isinstance(key, list):
                        related._default_manager.get_by_natural_key(*key)
                    else:
                        related._default_manager.get(pk=key)
                except (ObjectDoesNotExist, TypeError, ValueError):
                    return name, (
                        f"refers to {related._meta.verbose_name} {key!r}, which does not "
                        f"exist (is it in an earlier fixture file?)."
                    )
        else:
            try:
                field.to_python(value)
            except ValidationError as error:
                return name, f"{value!r} is not valid: {' '.join(error.messages)}"
    return None


def format_validation_error(error):
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return "; ".join(
        f"field '{field}': {' '.join(messages)}" if field != "__all__" else " ".join(messages)
        for field, messages in error.message_dict.items()
    )
