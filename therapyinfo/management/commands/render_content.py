"""Draw every record's stored HTML (`rendered`) again with the code now deployed.

Pages show HTML drawn when a record was saved (signals.py): the Markdown
fields of therapies and article sections, comparison cells, sources. After a
release that changes how that HTML is drawn (a template, the Markdown
sanitiser), run this once, after `migrate`, so no page keeps the old drawing
until its record is next edited. `make serve` and `make run` run it.

It writes only records whose HTML changed, in one transaction, and then bumps
the content version once, so every app server and nginx move on together.
History and revisions are left alone: the content itself does not change.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from therapyinfo.cache import bump_content_version
from therapyinfo.signals import render_html


def drawn_models():
    return [
        model
        for model in apps.get_app_config("therapyinfo").get_models()
        if any(field.name == "rendered" for field in model._meta.concrete_fields)
    ]


class Command(BaseCommand):
    help = "Draw every record's stored HTML again with the code now deployed."

    def handle(self, *args, **options):
        changed = total = 0
        with transaction.atomic():
            for model in drawn_models():
                for record in model._default_manager.order_by("pk"):
                    stored = record.rendered
                    render_html(model, record)
                    total += 1
                    if record.rendered != stored:
                        model._default_manager.filter(pk=record.pk).update(rendered=record.rendered)
                        changed += 1
            if changed:
                bump_content_version()
        self.stdout.write(f"render_content: drew {changed} of {total} records again.")
