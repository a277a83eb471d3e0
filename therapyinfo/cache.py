"""Caching inside the app: Django's cache framework, keyed by the content version.

Public pages are cached in front of the app by nginx (deploy/nginx.conf),
from the app's own Cache-Control (`public_cache_headers`). Inside
the app, values and template fragments that depend only on content (the
crisis lines, the glossary index, a page's records and its main content, the
comparison's tables) are kept in the "content" cache, a local-memory alias
(settings.CACHES), under keys that carry the content version:

- `cached(request, name, compute, *parts)`: `cache.get_or_set` for a value;
- `{% cache ... content_version using=content_cache %}` for a fragment
  (context_processors.site gives templates both names).

The content version is the `changed_at` of one row, bumped in the same
transaction as any content save or delete (signals.py) and read at most once
per request, so an edit is seen by every app server on its next request and
old entries are never read again (they age out). Signed-in staff and previews
(preview.py) never read or fill the cache: their pages can show drafts.

`QuerySet.update()` and raw SQL send no signals: after one, call
`bump_content_version()` yourself.
"""

import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db.models import Max
from django.utils import timezone
from django.utils.cache import patch_cache_control

# settings.CACHES: the content cache, and one that keeps nothing, for staff.
CONTENT_CACHE = "content"
NO_CACHE = "uncached"

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


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
    return now


_quiet = threading.local()


@contextmanager
def quiet():
    """No version bumps in this thread, and no cache: for a preview that applies
    a revision and rolls it back (preview.py)."""
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


def is_quiet():
    """Whether this thread is inside `quiet()`: rendering a preview whose writes
    are rolled back, so nothing read now may be kept for later requests."""
    return getattr(_quiet, "on", False)


def content_version(request):
    """The content version as this request sees it, as text for cache keys;
    read from the database once per request."""
    if not hasattr(request, "content_version"):
        request.content_version = f"{read_content_version():%Y%m%d%H%M%S%f}"
    return request.content_version


def shares_content_cache(request):
    """Whether this request may read and fill the content cache: an anonymous
    visitor's, not a signed-in user's and not a preview's, which may show
    unpublished content. Without a session cookie nobody is signed in (and
    the session is left alone, which keeps `Vary: Cookie` off public pages)."""
    if request is None or is_quiet() or getattr(request, "revision_preview", None):
        return False
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    return not request.user.is_authenticated


def content_cache_alias(request):
    """The cache a `{% cache %}` fragment of this request uses."""
    return CONTENT_CACHE if shares_content_cache(request) else NO_CACHE


def cached(request, name, compute, *parts):
    """`compute()`, kept for this content version under `name` and `parts`
    (slugs, a canonical selection: never a visitor's raw input)."""
    if not shares_content_cache(request):
        return compute()
    key = ":".join([name, *map(str, parts), content_version(request)])
    return caches[CONTENT_CACHE].get_or_set(key, compute)


def public_cache_headers(view):
    """For a public page (therapyinfo/urls.py, `public_urlpatterns`): its 200 for
    an anonymous visitor may be kept by anyone for PUBLIC_MAX_AGE seconds
    (settings.py says why a minute); ConditionalGetMiddleware adds its ETag.
    Anything else (errors, redirects, a page for someone with a session, a page
    that sets a cookie) says nothing, so nginx and CDNs do not store it; and
    preview.py marks a signed-in user's page private."""

    @wraps(view)
    def public_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
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

    return public_view
