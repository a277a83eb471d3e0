"""Load every content fixture in one transaction, validating each record.

Unlike `loaddata`, each record goes through `full_clean()` (choices,
ranges, constraints), and any error names the file, the record and the
field at fault. Nothing is written unless every record is valid. Records
are matched on their natural keys, so running it twice changes nothing.

It never silently overwrites work done in the admin: when a record the load
would change (or a page a reviewer deleted, which it would bring back) was
changed in the admin since the last load, it refuses, lists those records and
changes nothing, unless run with --force, which says what it replaced. A
record the load leaves as it is never counts, so exported content loads again.

Fixture saves are raw, so the revision history does not see them; after the
load, each record that is new or differs from its latest version gets one
history row ("Loaded from fixtures"). That gives an admin edit an earlier
version to restore, and an unchanged reload adds no rows.
"""

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.db.models import Q

from therapyinfo.revisions import ContentLoad, Revision, RevisionStatus, field_values, page_of


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
        admin_work = AdminWork()
        with transaction.atomic():
            for path in paths:
                counts[path.name] = load_file(path, admin_work)
            record_history()
            if admin_work.overwritten and not force:
                raise CommandError(
                    "Nothing was loaded: these records were changed in the admin since the "
                    "last load, and loading would replace that work:\n"
                    + "\n".join(f"  - {line}" for line in admin_work.overwritten)
                    + "\nExport them first (manage.py export_content), or run again with "
                    "--force to replace them."
                )
            for line in admin_work.overwritten:
                self.stdout.write(self.style.WARNING(f"Replaced admin work: {line}"))
            if dry_run:
                transaction.set_rollback(True)
            else:
                ContentLoad.objects.create(forced=force)
        total = sum(counts.values())
        verb = "Checked" if dry_run else "Loaded"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {total} records from {len(paths)} fixture files.")
        )


def record_history():
    """One history row for every content record that is new or changed since its
    latest version; records that did not change get none."""
    for model in apps.get_app_config("therapyinfo").get_models():
        history = getattr(model, "history", None)
        if history is None or not hasattr(history, "bulk_history_create"):
            continue
        fields = [field.attname for field in history.model.tracked_fields]
        latest = {}
        for version in history.order_by("history_date", "history_id"):
            latest[getattr(version, model._meta.pk.attname)] = version
        new, changed = [], []
        for record in model._default_manager.all():
            version = latest.get(record.pk)
            if version is None:
                new.append(record)
            elif any(getattr(version, name) != getattr(record, name) for name in fields):
                changed.append(record)
        for records, update in ((new, False), (changed, True)):
            if records:
                history.bulk_history_create(
                    records, update=update, default_change_reason="Loaded from fixtures"
                )


class AdminWork:
    """Admin changes since the last load, and the ones this load would overwrite."""

    def __init__(self):
        last = ContentLoad.objects.first()
        since = Revision.objects.exclude(status=RevisionStatus.SENT_BACK)
        if last is not None:
            # Work still waiting for review counts whenever it was made.
            since = since.filter(Q(created__gt=last.loaded_at) | Q(status=RevisionStatus.PENDING))
        self.by_record, self.deleted = {}, {}
        for revision in since.select_related("author").order_by("created", "pk"):
            self.by_record[(revision.content_type_id, revision.object_id)] = revision
            if revision.page_type_id:
                self.by_record[(revision.page_type_id, revision.page_id)] = revision
            if revision.status == RevisionStatus.DELETED and revision.natural_key:
                key = (revision.content_type_id, tuple(revision.natural_key))
                self.deleted[key] = revision
        self.overwritten = []

    def check(self, where, instance, changed):
        """Note `instance` when saving it would overwrite (or undo) admin work."""
        if not changed or not (self.by_record or self.deleted):
            return
        target = page_of(instance) or instance
        content_type = ContentType.objects.get_for_model(target)
        revision = self.by_record.get((content_type.id, target.pk))
        if target.pk is None and hasattr(target, "natural_key"):
            revision = self.deleted.get((content_type.id, tuple(target.natural_key())))
        if revision is not None:
            who = revision.author.get_username() if revision.author else "someone"
            self.overwritten.append(
                f"{where}: {revision.get_status_display().lower()} in the admin by {who} "
                f"on {revision.created:%Y-%m-%d %H:%M} UTC"
            )


def differs(instance, names, m2m_data):
    """Whether saving the deserialized `instance` would change one of the fields
    the fixture gives (`names`) in the database."""
    if instance.pk is None:
        return True
    stored = type(instance)._default_manager.filter(pk=instance.pk).first()
    if stored is None:
        return True
    attnames = {
        field.attname
        for field in instance._meta.concrete_fields
        if field.name in names and not field.primary_key
    }
    values = field_values(instance)
    if any(field_values(stored)[name] != values[name] for name in attnames):
        return True
    return any(
        sorted(getattr(stored, name).values_list("pk", flat=True)) != sorted(pks)
        for name, pks in (m2m_data or {}).items()
    )


def load_file(path, admin_work=None):
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
        load_record(path, number, record, admin_work)
    return len(records)


def load_record(path, number, record, admin_work=None):
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
    if admin_work is not None:
        m2m = {
            name: [getattr(obj, "pk", obj) for obj in values]
            for name, values in (deserialized.m2m_data or {}).items()
        }
        admin_work.check(where, instance, differs(instance, set(fields), m2m))
    if hasattr(instance, "render_markdown_fields"):
        instance.render_markdown_fields()  # a raw save skips the model's save()
    try:
        with transaction.atomic():
            deserialized.save()
    except DatabaseError as error:
        raise FixtureError(f"{where}: the database refused it: {error}") from None


def describe(fields):
    """A human handle for a record: its slug, anchor or term."""
    for key in ("slug", "anchor", "term", "name"):
        if fields.get(key):
            return repr(fields[key])
    return ""


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
