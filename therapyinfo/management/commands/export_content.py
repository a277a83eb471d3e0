"""Write the database's content back to the fixture files, ready to review and commit.

The inverse of `load_content`: the same files (settings.CONTENT_FIXTURES),
the same models in each, records referring to each other by natural key and
never by id. The output depends only on the content: records in each
model's own order with its natural key breaking ties, fields in a fixed
order, 2-space indentation, UTF-8 text and a trailing newline. So exporting,
loading into an empty database and exporting again gives identical files.
Revision history, the content version and the reviewing user (an account,
not content) are left out.
"""

import json
from datetime import date, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Which models each fixture file holds; the README's table says the same.
FILE_MODELS = {
    "sources": ["source"],
    "glossary": ["glossaryterm"],
    "crisis": ["crisisresource"],
    "mechanisms": ["mechanism"],
    "side_effects": ["sideeffect"],
    "therapies": ["therapy"],
    "therapy_side_effects": ["therapysideeffect"],
    "outcomes": ["outcome"],
    "comparisons": ["comparison", "comparisonrow", "comparisoncell"],
    "articles": ["article", "articlesection"],
}

# The lookups that make up each model's natural key: the last word on order.
NATURAL_KEY_LOOKUPS = {
    "therapysideeffect": ["therapy__slug", "side_effect__slug"],
    "outcome": ["therapy__slug", "slug"],
    "comparisonrow": ["comparison__slug", "slug"],
    "comparisoncell": ["row__comparison__slug", "row__slug", "therapy__slug"],
    "articlesection": ["article__slug", "anchor"],
}

# Publishing fields go last in each record, after the content they describe.
REVIEW_FIELDS = ["status", "last_reviewed", "next_review_due"]
# `rendered` is derived HTML, rendered again whenever a record is saved (models.RenderedMarkdown).
LEFT_OUT = {"id", "reviewed_by", "rendered"}


class Command(BaseCommand):
    help = "Write all content back to the fixture files (natural keys, stable order)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=Path(settings.FIXTURE_DIRS[0]),
            help="Folder to write the fixture files to (default: fixtures/).",
        )

    def handle(self, *args, output_dir, **options):
        if set(FILE_MODELS) != set(settings.CONTENT_FIXTURES):
            raise CommandError(
                "export_content's FILE_MODELS and settings.CONTENT_FIXTURES name different "
                "files; update both."
            )
        output_dir.mkdir(parents=True, exist_ok=True)
        # One consistent snapshot, even while editors keep working.
        with transaction.atomic():
            files = {name: export_file(FILE_MODELS[name]) for name in settings.CONTENT_FIXTURES}
        total = 0
        for name, records in files.items():
            write_atomically(output_dir / f"{name}.json", dumps(records))
            total += len(records)
        self.stdout.write(
            self.style.SUCCESS(f"Exported {total} records to {len(files)} files in {output_dir}.")
        )


def dumps(records):
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path, text):
    """Write beside the target, then rename, so a failure never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def export_file(model_names):
    return [
        record(model, obj)
        for model_name in model_names
        for model in [apps.get_model("therapyinfo", model_name)]
        for obj in ordered(model)
    ]


def ordered(model):
    """The model's own ordering, with its natural key (not the id) breaking ties."""
    natural = NATURAL_KEY_LOOKUPS.get(model._meta.model_name, ["slug"])
    ordering = [field for field in model._meta.ordering if field not in ("id", "pk")]
    return model._default_manager.order_by(*ordering, *natural)


def field_order(model):
    fields = [f for f in model._meta.concrete_fields if f.name not in LEFT_OUT]
    fields += list(model._meta.many_to_many)
    return [f for f in fields if f.name not in REVIEW_FIELDS] + [
        f for f in fields if f.name in REVIEW_FIELDS
    ]


def record(model, obj):
    fields = {}
    for field in field_order(model):
        if field.many_to_many:
            related = ordered(field.related_model).filter(
                pk__in=getattr(obj, field.name).values("pk")
            )
            fields[field.name] = [list(item.natural_key()) for item in related]
        elif field.is_relation:
            target = getattr(obj, field.name)
            fields[field.name] = list(target.natural_key()) if target else None
        else:
            value = field.value_from_object(obj)
            fields[field.name] = value.isoformat() if isinstance(value, date | datetime) else value
    return {"model": model._meta.label_lower, "fields": fields}
