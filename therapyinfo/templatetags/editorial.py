"""Template tags for the admin's review dashboard and its header."""

from django import template
from django.db.models import Q

from therapyinfo.review import DUE_SOON_DAYS
from therapyinfo.review import review_queue as build_review_queue
from therapyinfo.revisions import PUBLISH_SHARED, Revision, RevisionStatus

register = template.Library()


@register.simple_tag
def review_queue():
    """`{% review_queue as queue %}`: pages overdue or due for review soon."""
    return build_review_queue()


@register.simple_tag
def due_soon_days():
    """`{% due_soon_days %}`: how many days ahead the review queue looks."""
    return DUE_SOON_DAYS


@register.simple_tag
def awaiting_review():
    """`{% awaiting_review as pending %}`: changes waiting for a clinical reviewer, oldest first."""
    return list(
        Revision.objects.filter(status=RevisionStatus.PENDING)
        .select_related("author", "content_type")
        .order_by("created", "pk")
    )


@register.simple_tag
def awaiting_review_count(user):
    """The number of changes waiting for review, for users who can publish; else None."""
    if not user.has_perm(PUBLISH_SHARED):
        return None
    return Revision.objects.filter(status=RevisionStatus.PENDING).count()


@register.simple_tag
def published_revisions(record):
    """A record's published revisions (and those of the rows on it), newest first."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(record)
    mine = Q(content_type=content_type, object_id=record.pk) | Q(
        page_type=content_type, page_id=record.pk
    )
    return list(
        Revision.objects.filter(mine, status=RevisionStatus.PUBLISHED)
        .select_related("reviewer")
        .order_by("-reviewed_at", "-pk")
    )
