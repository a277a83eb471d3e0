"""Render every record's Markdown (`rendered`) again with the code now deployed.

Pages show the HTML a record's Markdown fields were rendered to when it was
saved (models.RenderedMarkdown). Run this after a release that changes how
Markdown is rendered or sanitised, and after writes that skip `save()`
(`loaddata`, `QuerySet.update()`, `bulk_create()`), so no page keeps the old
HTML until its record is next edited. `make serve` and `make run` run it.

It writes only records whose HTML changed, in one transaction, and then bumps
the content version once, so every app server and nginx move on together.
History and revisions are left alone: the content itself does not change.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from therapyinfo.cache import bump_content_version
from therapyinfo.models import RenderedMarkdown


def markdown_models():
    return [
        model
        for model in apps.get_app_config("therapyinfo").get_models()
        if issubclass(model, RenderedMarkdown)
    ]


class Command(BaseCommand):
    help = "Render every record's Markdown again with the code now deployed."

    def handle(self, *args, **options):
        changed = total = 0
        with transaction.atomic():
            for model in markdown_models():
                for record in model._default_manager.order_by("pk"):
                    stored = record.rendered
                    record.render_markdown_fields()
                    total += 1
                    if record.rendered != stored:
                        model._default_manager.filter(pk=record.pk).update(rendered=record.rendered)
                        changed += 1
            if changed:
                bump_content_version()
        self.stdout.write(f"render_content: rendered {changed} of {total} records again.")
