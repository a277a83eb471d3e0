"""Template tags (`{% load page_meta %}`): what a page says about itself: its
canonical address, its schema.org description for search engines, and whether
it talks about suicide or crisis (so the "Get help now" box goes near the top)."""

import html
import json
import re

from django import template
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.utils.safestring import mark_safe

from therapyinfo.cache import cached

register = template.Library()

# The record a detail page is about, in the order they are looked for.
PAGE_OBJECTS = ("article", "therapy", "comparison")

# As django.utils.html.json_script: no "<", ">" or "&" can close the
# <script> element or start a comment inside it.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}

CRISIS_WORDS = re.compile(r"\bsuicid|\bcrisis\b|\bself-harm", re.IGNORECASE)
CRISIS_STEMS = ("suicid", "crisis", "self-harm")


def page_object(context):
    for name in PAGE_OBJECTS:
        record = context.get(name)
        if isinstance(record, Model) and hasattr(record, "get_absolute_url"):
            return record
    return None


@register.simple_tag(takes_context=True)
def canonical_url(context):
    """The page's one address: the record's own URL on detail pages (so
    /compare/ and /compare/?therapies=… point at the comparison), else the path
    without any query string."""
    request = context.get("request")
    if request is None:  # the 500 page renders without a request
        return ""
    record = page_object(context)
    try:
        return request.build_absolute_uri(record.get_absolute_url() if record else request.path)
    except DisallowedHost:  # the 400 page for a bad Host header has no address of its own
        return ""


@register.simple_tag(takes_context=True)
def medical_webpage(context, name, description):
    """A <script type="application/ld+json"> block describing the page as a
    schema.org MedicalWebPage, with lastReviewed where the page has been reviewed.
    A data block, not a script: a strict script-src CSP does not run or block it."""
    record = page_object(context)
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": html.unescape(name),
        "description": html.unescape(description),
        "url": canonical_url(context),
        "inLanguage": "en",
        "audience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "isPartOf": {"@type": "WebSite", "name": settings.SITE_NAME},
    }
    if settings.SITE_PUBLISHER:  # never made up: no publisher is named until one is set
        data["publisher"] = {"@type": "Organization", "name": settings.SITE_PUBLISHER}
        if settings.SITE_CONTACT_EMAIL:
            data["publisher"]["email"] = settings.SITE_CONTACT_EMAIL
    if record is not None and getattr(record, "last_reviewed", None):
        data["lastReviewed"] = record.last_reviewed
    if record is not None and (changes := page_changes(context, record)):
        data["dateModified"] = changes[0]["reviewed_at"]
    if getattr(record, "drug_class", None):
        data["about"] = {"@type": "MedicalTherapy", "name": record.name}
    elif context.get("comparison") is record and context.get("columns"):
        # The comparison is about the therapies chosen in ?therapies=, no others.
        data["about"] = [
            {"@type": "MedicalTherapy", "name": therapy.name} for therapy in context["columns"]
        ]
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return mark_safe(
        '<script type="application/ld+json">' + text.translate(JSON_SCRIPT_ESCAPES) + "</script>"
    )


def all_published_changes():
    """{(page model name, page id): [changes, newest first]} and the newest date overall."""
    from therapyinfo.revisions import Revision, RevisionStatus

    by_page = {}
    changes = (
        Revision.objects.filter(status=RevisionStatus.PUBLISHED, reviewed_at__isnull=False)
        .order_by("-reviewed_at", "-pk")
        .values("pk", "page_type__model", "page_id", "reviewed_at", "note")
    )
    latest = None
    for change in changes:
        latest = latest or change["reviewed_at"]
        if change["page_id"] is not None:
            by_page.setdefault((change["page_type__model"], change["page_id"]), []).append(change)
    return by_page, latest


def published_changes(context):
    """`all_published_changes()`, kept for the content version (a publish bumps it)."""
    return cached(context.get("request"), "published-changes", all_published_changes)


def page_changes(context, page):
    """The page's published changes, newest first, as dicts with `reviewed_at`
    and `note`."""
    if not isinstance(page, Model) or page.pk is None:
        return []
    by_page, _ = published_changes(context)
    return by_page.get((page._meta.model_name, page.pk), [])


@register.simple_tag(takes_context=True)
def site_last_updated(context):
    """When a reviewer last published a change anywhere on the site, or None."""
    return published_changes(context)[1]


@register.simple_tag(takes_context=True)
def page_change_notes(context, page):
    """The page's published changes that carry a note for readers."""
    return [change for change in page_changes(context, page) if change["note"]]


def _texts(value, depth=0):
    """Every piece of text in strings, records and (nested) lists of them."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Model):
        for field in value._meta.concrete_fields:
            field_value = getattr(value, field.attname)
            if isinstance(field_value, str):
                yield field_value
            # A related record already fetched with this one (a side effect's
            # name, say) is read too; one not fetched is not worth a query.
            elif field.is_relation and depth < 1 and field.is_cached(value):
                yield from _texts(getattr(value, field.name), depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item, depth)
    else:
        try:
            items = iter(value)
        except TypeError:
            return
        for item in items:
            if item.__class__ is str:  # most items: no generator for each
                yield item
            else:
                yield from _texts(item, depth)


@register.simple_tag
def mentions_crisis(*values):
    """`{% mentions_crisis article article.sections.all as crisis %}`: True when any of the
    text talks about suicide, self-harm or a crisis."""
    text = "\n".join(_texts(values))
    lowered = text.lower()
    # The plain substring tests rule out most pages at a fraction of the
    # regular expression's cost; it then checks the words' boundaries.
    if not any(word in lowered for word in CRISIS_STEMS):
        return False
    return CRISIS_WORDS.search(text) is not None


class SquashedNode(template.Node):
    def __init__(self, nodelist, target):
        self.nodelist, self.target = nodelist, target

    def render(self, context):
        context[self.target] = mark_safe(" ".join(self.nodelist.render(context).split()))
        return ""


@register.tag
def squashed(parser, token):
    """`{% squashed as page_title %}{% block title %}…{% endblock %}{% endsquashed %}`:
    what it encloses, drawn once with its runs of white space made single
    spaces, kept as `page_title` for the title, the description and the
    schema.org block to share."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Use {% squashed as name %}…{% endsquashed %}.")
    nodelist = parser.parse(("endsquashed",))
    parser.delete_first_token()
    return SquashedNode(nodelist, bits[2])
