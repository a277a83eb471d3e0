"""Template tags for the admin's review dashboard."""

from django import template

from therapyinfo.review import review_queue as build_review_queue

register = template.Library()


@register.simple_tag
def review_queue():
    """`{% review_queue as queue %}`: pages overdue or due for review soon."""
    return build_review_queue()
