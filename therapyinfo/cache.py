"""Public pages are cached in front of the app, by nginx (deploy/nginx.conf),
from the app's own Cache-Control; the app keeps no page cache of its own.

Why no in-app page cache (README, "Caching"): behind nginx a page reaches the
app about once per `max-age` per front door (cache lock, background update),
so an app cache would save a few renders a minute and add a second place
where pages can go stale, be poisoned or fail. Measured by `make bench`.

What stays here:

- `PublicCacheHeadersMiddleware`: a public page's 200 for an anonymous
  visitor says `public, max-age=60, stale-while-revalidate=300` (settings.PUBLIC_MAX_AGE);
  ConditionalGetMiddleware adds its ETag and answers revalidations with 304.
  Anything else (errors, the admin, a signed-in user's page, a page that sets
  a cookie) says nothing, so nginx and CDNs do not store it.
- The content version, bumped in the same transaction as any content save or
  delete (`signals.py`), and `PerVersion`: values every page shows (crisis
  lines, the glossary index) and what a comparison shows (views.py,
  `kept_comparisons`) computed once per version per process. Each
  thread re-reads the version at most once per `VERSION_TTL`, so an edit is
  seen by every app server within a second, and by visitors of a front door
  within the `max-age`.

`QuerySet.update()` and raw SQL send no signals: after one, call
`bump_content_version()` yourself (the README says so too).
"""

import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Max
from django.utils import timezone
from django.utils.cache import patch_cache_control

# An edit reaches every process within this long.
VERSION_TTL = 1.0


# URL names (therapyinfo/urls.py) whose 200s are the same for every anonymous
# visitor. deploy/nginx.conf lists the same paths; only they are cached there.
PUBLIC_PAGES = frozenset(
    {"home", "articles", "article", "therapies", "therapy", "compare", "comparison"}
    | {"glossary", "sources", "about", "updates", "updates-feed", "sitemap", "robots"}
)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class VersionClock:
    """The content version as this thread last read it, re-read at most once per `ttl`.

    Thread-local, so a thread that bumps the version sees its own change at
    once, and no thread uses a version whose data it cannot see yet.
    """

    def __init__(self, ttl=VERSION_TTL, monotonic=time.monotonic):
        self.ttl = ttl
        self.monotonic = monotonic
        self.local = threading.local()

    def get(self):
        now = self.monotonic()
        if getattr(self.local, "expires", -1.0) <= now:
            try:
                self.remember(read_content_version(), now)
            except DatabaseError:
                # While the database is away, keep what was computed for the last
                # version seen (nothing can be edited meanwhile).
                if not hasattr(self.local, "version"):
                    raise
                self.remember(self.local.version, now)
        return self.local.version

    def remember(self, version, now=None):
        self.local.version = version
        self.local.expires = (self.monotonic() if now is None else now) + self.ttl


def read_content_version():
    """The latest `changed_at`; a fixed old date when no content was ever saved."""
    from .models import ContentVersion

    return ContentVersion.objects.aggregate(latest=Max("changed_at"))["latest"] or EPOCH


def bump_content_version():
    """Record that content changed now, in the caller's transaction."""
    from .models import ContentVersion

    now = timezone.now()
    if not ContentVersion.objects.update(changed_at=now):
        ContentVersion.objects.create(changed_at=now)
    version_clock.remember(now)
    return now


version_clock = VersionClock()


class PerVersion:
    """A value computed once per content version and kept in this process."""

    def __init__(self, compute):
        self.compute = compute
        self.memo = (None, None)  # (version, value); one assignment, so thread-safe

    def __call__(self):
        from .signals import is_quiet

        if is_quiet():
            # A preview (preview.py) sees its own unpublished changes; keeping
            # them would show them to the next visitor.
            return self.compute()
        version = version_clock.get()
        memo_version, value = self.memo
        if memo_version != version:
            value = self.compute()
            self.memo = (version, value)
        return value


class PublicCacheHeadersMiddleware:
    """Marks a public page's 200 for an anonymous visitor as cacheable by anyone
    for PUBLIC_MAX_AGE seconds (settings.py says why a minute)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and match is not None
            and match.url_name in PUBLIC_PAGES
            and not match.namespace
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not response.cookies
            and not response.has_header("Cache-Control")
        ):
            patch_cache_control(
                response,
                public=True,
                max_age=settings.PUBLIC_MAX_AGE,
                stale_while_revalidate=settings.PUBLIC_STALE_WHILE_REVALIDATE,
            )
        return response
