"""Public pages. Each view asks only for published records (staff may preview
a draft page at its own URL) and fetches related rows up front, so a page's
query count does not grow with its content."""

import logging
import os
import sys
import tempfile

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .cache import cached
from .markup import CITATION
from .middleware import is_database_outage, outage_response
from .models import (
    Article,
    ArticleSection,
    Comparison,
    ComparisonCell,
    GlossaryTerm,
    Outcome,
    Source,
    Therapy,
    TherapySideEffect,
)
from .selection import SelectionError, canonical_query, parse_selection
from .templatetags.content import source_numbers
from .templatetags.page_meta import mentions_crisis

DEFAULT_COMPARISON = "ketamine-vs-psychedelics"

logger = logging.getLogger(__name__)


def viewer(request):
    """Who is looking. Without a session cookie nobody is signed in, and not
    touching the session keeps `Vary: Cookie` off public pages, which a CDN
    would otherwise key on."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return AnonymousUser()
    return request.user


@require_safe
def home(request):
    return render(
        request,
        "therapyinfo/home.html",
        {
            "therapies": Therapy.objects.published(),
            "articles": Article.objects.published(),
            "comparisons": Comparison.objects.published(),
        },
    )


@require_safe
def article_list(request):
    return render(
        request,
        "therapyinfo/article_list.html",
        {
            "articles": Article.objects.published().prefetch_related(
                Prefetch("therapies", queryset=Therapy.objects.published())
            ),
        },
    )


@require_safe
def article_detail(request, slug):
    article = cached(
        request,
        "article",
        lambda: get_object_or_404(
            Article.objects.visible_to(viewer(request)).prefetch_related(
                Prefetch("sections", queryset=ArticleSection.objects.order_by("position", "id")),
                "sources",
                Prefetch("therapies", queryset=Therapy.objects.published()),
            ),
            slug=slug,
        ),
        slug,
    )
    return render(
        request,
        "therapyinfo/article_detail.html",
        {
            "article": article,
            "sources": list(article.sources.all()),
            "preview": not article.is_published,
        },
    )


@require_safe
def therapy_list(request):
    return render(
        request, "therapyinfo/therapy_list.html", {"therapies": Therapy.objects.published()}
    )


@require_safe
def therapy_detail(request, slug):
    therapy = cached(
        request,
        "therapy",
        lambda: get_object_or_404(
            Therapy.objects.visible_to(viewer(request)).prefetch_related(
                "mechanisms",
                "sources",
                Prefetch(
                    "side_effects",
                    queryset=TherapySideEffect.objects.select_related("side_effect", "source"),
                ),
                # How many therapies each article covers: one that covers only this
                # one is its background reading, and the page says so at the top.
                # (A subquery: the prefetch's own join would count this therapy only.)
                Prefetch(
                    "articles",
                    to_attr="published_articles",  # a list, so the page can be cached
                    queryset=Article.objects.published().annotate(
                        therapy_count=Subquery(
                            Article.therapies.through.objects.filter(article=OuterRef("pk"))
                            .values("article")
                            .annotate(count=Count("pk"))
                            .values("count")
                        )
                    ),
                ),
                Prefetch("comparisons", queryset=Comparison.objects.published()),
                Prefetch("outcomes", queryset=Outcome.objects.select_related("source")),
            ),
            slug=slug,
        ),
        slug,
    )
    sources = list(therapy.sources.all())
    # The trials behind the page's natural frequencies are listed with the rest.
    sources += [
        s for s in dict.fromkeys(o.source for o in therapy.outcomes.all()) if s not in sources
    ]
    return render(
        request,
        "therapyinfo/therapy_detail.html",
        {
            "therapy": therapy,
            "therapy_list": [therapy],
            "sources": sources,
            "preview": not therapy.is_published,
        },
    )


@require_safe
def comparison_detail(request, slug=DEFAULT_COMPARISON):
    """The side-by-side page; `?therapies=ketamine,lsd` picks its columns."""
    comparison = cached(
        request,
        "comparison",
        lambda: get_object_or_404(
            Comparison.objects.visible_to(viewer(request)).prefetch_related(
                Prefetch("therapies", queryset=Therapy.objects.published(), to_attr="available")
            ),
            slug=slug,
        ),
        slug,
    )
    available = comparison.available
    raw = request.GET.get("therapies")
    try:
        columns = parse_selection(raw, available)
    except SelectionError as error:
        return render(
            request,
            "therapyinfo/comparison_error.html",
            {
                "comparison": comparison,
                "error": error,
                "available": available,
                "preview": not comparison.is_published,
            },
            status=400,
        )
    if raw is not None and raw != canonical_query(columns):
        # ?therapies=KETAMINE, LSD is the page at ?therapies=ketamine,lsd: one
        # address per selection, for bookmarks, the page cache and search engines.
        query = request.GET.copy()
        query["therapies"] = canonical_query(columns)
        return HttpResponsePermanentRedirect(f"{request.path}?{query.urlencode(safe=',')}")
    selection = canonical_query(columns)
    # The tables are read from the content cache only if the page's cached
    # fragment of them is missing: a warm page unpickles no rows at all.
    tables = SimpleLazyObject(
        lambda: cached(
            request,
            "comparison-tables",
            lambda: comparison_tables(comparison, columns),
            slug,
            selection,
        )
    )
    context = {
        "comparison": comparison,
        "available": available,
        "selection": selection,
        "columns": columns,
        "is_subset": len(columns) != len(available),
        "names": names_in_words([therapy.short_name for therapy in columns]),
        "preview": not comparison.is_published,
        "mentions_crisis": cached(
            request, "comparison-crisis", lambda: tables["mentions_crisis"], slug, selection
        ),
        **{
            name: SimpleLazyObject(lambda name=name: tables[name])
            for name in ("table", "side_effect_rows", "sources", "numbers")
        },
    }
    return render(request, "therapyinfo/comparison_detail.html", context)


def comparison_tables(comparison, columns):
    """What the page's tables show for these columns, in four queries whatever
    the size of the table: rows with their cells, the sources they cite, side
    effects. Kept for the content version per comparison and selection (cache.py)."""
    column_ids = [therapy.pk for therapy in columns]
    rows = comparison.rows.order_by("position", "id").prefetch_related(
        Prefetch("cells", queryset=ComparisonCell.objects.filter(therapy__in=column_ids).order_by())
    )
    table, texts = [], []
    for row in rows:
        by_therapy = {cell.therapy_id: cell for cell in row.cells.all()}
        cells = [(therapy, by_therapy.get(therapy.pk)) for therapy in columns]
        texts += [row.aspect, *(cell.text for _, cell in cells if cell)]
        table.append({"aspect": row.aspect, "cells": cells})
    side_effect_rows, side_effect_texts = side_effect_table(columns)
    sources = cited_sources(texts)
    return {
        "table": table,
        "side_effect_rows": side_effect_rows,
        "sources": sources,
        "numbers": source_numbers(sources),
        "mentions_crisis": mentions_crisis(comparison, texts, side_effect_texts),
    }


def cited_sources(texts):
    """The sources the texts cite, in the order a reader meets them."""
    slugs = list(dict.fromkeys(CITATION.findall("\n".join(texts))))
    by_slug = {source.slug: source for source in Source.objects.filter(slug__in=slugs)}
    return [by_slug[slug] for slug in slugs if slug in by_slug]


def side_effect_table(columns):
    """One row per side effect any column lists: its name and, per column, the
    therapy with its entry (None where it does not list it); and the rows' text."""
    rows, texts = {}, []
    entries = (
        TherapySideEffect.objects.filter(therapy__in=columns)
        .select_related("side_effect")
        .order_by("side_effect__position", "side_effect__name")
    )
    for entry in entries:
        effect = entry.side_effect
        if effect.pk not in rows:
            rows[effect.pk] = (effect.name, dict.fromkeys(therapy.pk for therapy in columns))
            texts += [effect.name, effect.summary]
        rows[effect.pk][1][entry.therapy_id] = entry
        texts += [entry.how_long, entry.what_helps, entry.when_to_get_help]
    return [
        {"name": name, "cells": list(zip(columns, by_therapy.values(), strict=True))}
        for name, by_therapy in rows.values()
    ], texts


def names_in_words(names):
    """'ketamine and LSD', 'ketamine, psilocybin and LSD': for use mid-sentence
    (a name in capitals, like LSD, keeps them)."""
    names = [name if name.isupper() else name.lower() for name in names]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@require_safe
def glossary(request):
    return render(request, "therapyinfo/glossary.html", {"terms": GlossaryTerm.objects.all()})


@require_safe
def sources(request):
    return render(request, "therapyinfo/sources.html", {"sources": Source.objects.all()})


@require_safe
def about(request):
    return render(
        request,
        "therapyinfo/about.html",
        {
            "review_interval_months": settings.REVIEW_INTERVAL_MONTHS,
            "publisher": settings.SITE_PUBLISHER,
            "contact_email": settings.SITE_CONTACT_EMAIL,
            "reviewers": settings.SITE_REVIEWERS,
        },
    )


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers (with `"cache": "degraded"` when the cache
    does not: pages are still served), 503 when the database does not, or when
    nginx's page cache (FRONT_DOOR_CACHE_DIR) cannot be written or its disk is
    full. Bounded in time by the cache's and database's short timeouts (settings.py)."""
    if settings.FRONT_DOOR_CACHE_DIR and not cache_dir_writable(settings.FRONT_DOOR_CACHE_DIR):
        return JsonResponse(
            {"status": "unavailable", "front_door": "cache not writable"}, status=503
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    try:
        cache.set("healthz", 1, timeout=10)
        cache.get("healthz")
    except Exception as error:
        logger.warning("cache unavailable: %s", type(error).__name__)
        return JsonResponse({"status": "ok", "cache": "degraded"})
    return JsonResponse({"status": "ok"})


# A page's worth: a disk that cannot take this cannot store pages either.
CACHE_PROBE = b"\0" * 65536


def cache_dir_writable(folder):
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-") as probe:
            probe.write(CACHE_PROBE)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError:
        return False
    return True


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without the request context: the database may be what failed.
    if is_database_outage(sys.exc_info()[1]):
        return outage_response()
    return HttpResponse(loader.get_template("500.html").render(), status=500)


UPDATES_SHOWN = 50


def recent_updates():
    """The latest published changes that carry a note for readers, newest first."""
    from .revisions import Revision, RevisionStatus

    return (
        Revision.objects.filter(status=RevisionStatus.PUBLISHED, reviewed_at__isnull=False)
        .exclude(note="")
        .order_by("-reviewed_at", "-pk")[:UPDATES_SHOWN]
    )


@require_safe
def updates(request):
    return render(request, "therapyinfo/updates.html", {"updates": recent_updates()})


class UpdatesFeed(Feed):
    """An Atom feed of the same change notes as /updates/, with the publisher
    (or, while none is set, the site's name) as its author, as Atom requires."""

    feed_type = Atom1Feed
    title = f"{settings.SITE_NAME}: recent updates"
    subtitle = "Dated notes on every change a clinical reviewer published."

    def get_object(self, request, *args, **kwargs):
        # The page's absolute address, for the entries' ids: an Atom id must be
        # a full IRI, the same wherever the feed is read.
        return request.build_absolute_uri(reverse("updates"))

    def link(self):
        return reverse("updates")

    def author_name(self):
        return settings.SITE_PUBLISHER or settings.SITE_NAME

    def author_email(self):
        return settings.SITE_CONTACT_EMAIL or None

    def items(self, updates_url):
        updates = list(recent_updates())
        for update in updates:
            update.entry_id = f"{updates_url}#update-{update.pk}"
        return updates

    def item_title(self, item):
        return item.object_repr

    def item_description(self, item):
        return item.note

    def item_link(self, item):
        return item.url or f"{reverse('updates')}#update-{item.pk}"

    def item_guid(self, item):
        return item.entry_id

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.reviewed_at

    def item_updateddate(self, item):
        return item.reviewed_at
