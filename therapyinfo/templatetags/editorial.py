"""Template tags for the admin's review dashboard and its header."""

from django import template

from therapyinfo.review import review_queue as build_review_queue
from therapyinfo.revisions import PUBLISH_SHARED, Revision, RevisionStatus

register = template.Library()


@register.simple_tag
def review_queue():
    """`{% review_queue as queue %}`: pages overdue or due for review soon."""
    return build_review_queue()


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
