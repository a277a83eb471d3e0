"""List the pages whose clinical review is overdue or due within 30 days.

The same list as the admin dashboard. With --fail-on-overdue the command
exits with status 1 when anything is overdue, so a scheduler can alert.
"""

from django.core.management.base import BaseCommand, CommandError

from therapyinfo.review import DUE_SOON_DAYS, review_queue


class Command(BaseCommand):
    help = f"List pages overdue for clinical review or due within {DUE_SOON_DAYS} days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fail-on-overdue",
            action="store_true",
            help="Exit with status 1 when any page is overdue.",
        )

    def handle(self, *args, fail_on_overdue, **options):
        queue = review_queue()
        if not queue:
            self.stdout.write(
                self.style.SUCCESS(f"Nothing is overdue or due within {DUE_SOON_DAYS} days.")
            )
            return
        for item in queue:
            state = "OVERDUE" if item.overdue else "due soon"
            reviewed = item.record.last_reviewed or "never"
            line = (
                f"{state:8}  {item.due:%Y-%m-%d}  {item.kind:10}  {item.record}  "
                f"({item.record.get_status_display()}, last reviewed {reviewed}, "
                f"{item.record.get_absolute_url()})"
            )
            self.stdout.write(self.style.ERROR(line) if item.overdue else line)
        overdue = sum(item.overdue for item in queue)
        summary = f"{overdue} overdue, {len(queue) - overdue} due within {DUE_SOON_DAYS} days."
        if fail_on_overdue and overdue:
            raise CommandError(summary)
        self.stdout.write(summary)
