"""What needs a clinical review: pages overdue, or due within the next 30 days.

The admin dashboard and `manage.py review_report` both show this list.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse

from .models import Article, Comparison, Therapy

REVIEWED_MODELS = [Therapy, Comparison, Article]
DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class ReviewItem:
    record: object
    overdue: bool

    @property
    def kind(self):
        return self.record._meta.verbose_name.capitalize()

    @property
    def due(self):
        return self.record.next_review_due

    @property
    def admin_url(self):
        opts = self.record._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.record.pk])


def review_queue(today=None, within_days=DUE_SOON_DAYS):
    """Every reviewed page whose next review is due by `today + within_days`,
    soonest first."""
    today = today or date.today()
    horizon = today + timedelta(days=within_days)
    items = [
        ReviewItem(record, overdue=record.next_review_due < today)
        for model in REVIEWED_MODELS
        for record in model.objects.filter(next_review_due__lte=horizon).select_related(
            "reviewed_by"
        )
    ]
    return sorted(items, key=lambda item: (item.due, item.kind, str(item.record)))
