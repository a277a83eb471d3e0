"""The whole-page cache for anonymous visitors, keyed by the content version.

Why this shape (DESIGN.md, "Caching" and "Scale-out"):

- Every content save or delete bumps `ContentVersion.changed_at` in the same
  transaction (see `signals.py`). The version is part of every cache key, so
  an edit on one app server retires every cached page on all of them, with no
  shared purge. Each thread re-reads the version at most once per
  `VERSION_TTL` seconds; a thread that bumps it sees its own change at once.
- A cached entry is always at least as new as the version in its key: the
  version is read before the page's data, and the bump commits with the data.
  So a stale page can only sit under an old key that nobody asks for again.
- `PageCacheMiddleware` sits at the very top of MIDDLEWARE, so a hit costs one
  cache read and skips every other middleware, URL resolving and the view. The
  stored response already carries the security and CSP headers that the inner
  middleware added when it was rendered.
- Only what is the same for every anonymous visitor is stored: GET/HEAD
  without a session cookie, a 200 from one of `PUBLIC_PAGES`, no cookies set,
  not marked private/no-cache/no-store, varying on nothing but Cookie.
- The key holds only the query parameters a public view reads
  (`VARYING_QUERY_PARAMS`), so `?utm_source=...` or random strings cannot
  fill the cache; a bad value gets a 400, which is never stored. A view that
  starts reading another parameter must add it there.
- Pages must not use CSP nonces (they would be the same for every visitor
  of a cached page); the site has no inline script or style, so none do.
- The key also holds today's date, because pages say "due for review" from
  `date.today()`; a page cached yesterday must not hide that today.

`QuerySet.update()` and raw SQL send no signals: after one, call
`bump_content_version()` yourself (the README says so too).
"""

import hashlib
import threading
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time

from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from .middleware import log_request, start_request_log

# How long a thread trusts the content version it last read from the database.
# An edit reaches every process within this long.
VERSION_TTL = 1.0

# Browsers and CDNs may reuse a page for a minute, then revalidate with its
# ETag (a cheap 304 here). A minute bounds how long a corrected crisis number
# or safety note can stay stale in someone's browser; stale-while-revalidate
# lets a CDN answer at once while it refreshes in the background.
PUBLIC_CACHE_CONTROL = {"public": True, "max_age": 60, "stale_while_revalidate": 300}

# URL names (from therapyinfo/urls.py) whose 200 responses are the same for
# every anonymous visitor.
PUBLIC_PAGES = frozenset(
    {
        "home",
        "articles",
        "article",
        "therapy",
        "compare",
        "comparison",
        "glossary",
        "sources",
        "about",
        "sitemap",
        "robots",
    }
)

# Query parameters that change a public page; every other one is left out of
# the key, because no public view reads it.
VARYING_QUERY_PARAMS = ("therapies",)

# How long an entry may live. The version in the key retires entries on any
# edit; this only returns memory from pages nobody asks for.
ENTRY_TIMEOUT = 24 * 60 * 60

KEY_PREFIX = "page:"


class VersionClock:
    """The content version as this thread last read it, re-read at most once per `ttl`.

    Thread-local, so a thread that bumps the version sees its own change at
    once while other threads (and processes) catch up within `ttl` seconds,
    and no thread ever keys a page on a version whose data it cannot see yet.
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
                # While the database is away, keep serving what was cached under
                # the last version seen (nothing can be edited meanwhile).
                if not hasattr(self.local, "version"):
                    raise
                self.remember(self.local.version, now)
        return self.local.version

    def remember(self, version, now=None):
        self.local.version = version
        self.local.expires = (self.monotonic() if now is None else now) + self.ttl

    def forget(self):
        self.local.__dict__.clear()


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def read_content_version():
    """The latest `changed_at`; a fixed old date when no content was ever saved."""
    from .models import ContentVersion

    latest = ContentVersion.objects.aggregate(latest=Max("changed_at"))["latest"]
    return latest or EPOCH


def bump_content_version():
    """Record that content changed now, in the caller's transaction."""
    from .models import ContentVersion

    now = timezone.now()
    if not ContentVersion.objects.update(changed_at=now):
        ContentVersion.objects.create(changed_at=now)
    version_clock.remember(now)
    return now


version_clock = VersionClock()


def content_version():
    return version_clock.get()


class PerVersion:
    """A value computed once per content version and kept in this process.

    For what every page shows (the crisis lines in the header and footer):
    a page-cache miss then costs no query for it until content changes.
    """

    instances = []

    def __init__(self, compute):
        self.compute = compute
        self.memo = (None, None)  # (version, value); one assignment, so thread-safe
        PerVersion.instances.append(self)

    def __call__(self):
        version = content_version()
        memo_version, value = self.memo
        if memo_version != version:
            value = self.compute()
            self.memo = (version, value)
        return value

    def forget(self):
        self.memo = (None, None)


def forget_process_state():
    """Drop this process's idea of the content version and what was computed
    from it, as a new process would start. For tests, whose rolled-back
    transactions can leave a version behind that the database never kept."""
    version_clock.forget()
    for memo in PerVersion.instances:
        memo.forget()


class PageCacheMiddleware:
    """Serve and store whole public pages for anonymous visitors; answer revalidations with 304.

    Put it first in MIDDLEWARE.
    """

    def __init__(self, get_response, cache_alias="default", clock=None):
        self.get_response = get_response
        self.cache = caches[cache_alias]
        self.clock = clock or version_clock
        # The bench baseline (bench_urls.py) must not pay for a lookup either.
        self.skip_prefixes = (
            "/" + settings.ADMIN_URL,
            "/" + settings.STATIC_URL.lstrip("/"),
            "/healthz",
            "/_bench/",
        )
        self.session_cookie = settings.SESSION_COOKIE_NAME

    def cacheable(self, request):
        """Whether this request may be served from, or stored into, the public cache."""
        return (
            request.method in ("GET", "HEAD")
            and not request.path.startswith(self.skip_prefixes)
            and self.session_cookie not in request.COOKIES
        )

    def __call__(self, request):
        if not self.cacheable(request):
            response = self.get_response(request)
            if self.session_cookie in request.COOKIES and not response.has_header("Cache-Control"):
                # Staff (or anyone with a session) get a fresh page that no shared cache may keep.
                patch_cache_control(response, private=True)
            return response

        try:
            version = self.clock.get()
        except DatabaseError:
            # The database is away and this thread never saw a version: nothing
            # cached can be trusted, so the page itself answers (with the outage
            # page, when it needs the database).
            return self.get_response(request)
        today = date.today()
        key = self.key(request, version, today)
        cached = self.cache.get(key)
        if cached is not None:
            status, headers, content = cached
            response = HttpResponse(content, status=status, headers=dict(headers))
        else:
            response = self.get_response(request)
            if not self.storable(request, response):
                return response
            self.add_validators(response, key, version, today)
            self.cache.set(
                key, (response.status_code, list(response.items()), response.content), ENTRY_TIMEOUT
            )
        return get_conditional_response(
            request,
            etag=response["ETag"],
            last_modified=self.last_modified_timestamp(version, today),
            response=response,
        )

    def key(self, request, version, today):
        varying = [(name, request.GET.getlist(name)) for name in VARYING_QUERY_PARAMS]
        # get_host() validates the Host header against ALLOWED_HOSTS (a bad
        # one raises DisallowedHost, a 400), as the uncached path would.
        raw = repr(
            (request.scheme, request.get_host(), request.path, varying, version.isoformat(), today)
        )
        return KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def storable(request, response):
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in PUBLIC_PAGES or match.namespace:
            return False
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-cache", "no-store")):
            return False
        vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
        return vary <= {"cookie"}

    def add_validators(self, response, key, version, today):
        response["ETag"] = f'"{key.removeprefix(KEY_PREFIX)[:32]}"'
        response["Last-Modified"] = http_date(self.last_modified_timestamp(version, today))
        patch_cache_control(response, **PUBLIC_CACHE_CONTROL)

    @staticmethod
    def last_modified_timestamp(version, today):
        """The later of the content version and midnight today (UTC), as a Unix time."""
        midnight = datetime.combine(today, clock_time(), tzinfo=UTC)
        return int(max(version, midnight).timestamp())


# Headers a 304 keeps (RFC 9110 section 15.4.5; as django.utils.cache does).
NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "date", "etag", "expires", "vary"}


class CachedPageApp:
    """WSGI wrapper that answers cache hits before Django handles the request at all.

    The issue's stretch goal: a hit skips the request_started/finished
    signals, the handler and the middleware, and costs building the request,
    one version check and one cache read. The lookup is exactly the
    middleware's (same request checks, same key); anything else (a miss, a
    conditional request other than If-None-Match, a bad Host header, any
    error) goes to Django as usual, where PageCacheMiddleware stores the page.
    """

    def __init__(self, application, middleware=None):
        self.application = application
        self.middleware = middleware or PageCacheMiddleware(get_response=None)

    def __call__(self, environ, start_response):
        started = time.monotonic()
        hit = self.lookup(environ) if environ.get("REQUEST_METHOD") in ("GET", "HEAD") else None
        if hit is None:
            return self.application(environ, start_response)
        status, headers, content = hit
        # Logged and tagged like every other request (RequestLogMiddleware).
        request_id = start_request_log(environ.get("HTTP_X_REQUEST_ID"))
        headers = [*headers, ("X-Request-ID", request_id)]
        not_modified = self.not_modified(environ, headers)
        log_request(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
            304 if not_modified else status, started,
        )  # fmt: skip
        if not_modified:
            start_response(
                "304 Not Modified",
                [
                    (k, v)
                    for k, v in headers
                    if k.lower() in NOT_MODIFIED_HEADERS | {"last-modified", "x-request-id"}
                ],
            )
            return [b""]
        start_response(f"{status} OK", list(headers))
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else content]

    @staticmethod
    def not_modified(environ, headers):
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        etag = dict(headers).get("ETag")
        return if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}

    def lookup(self, environ):
        if "HTTP_IF_MODIFIED_SINCE" in environ and "HTTP_IF_NONE_MATCH" not in environ:
            return None  # rare; Django's full conditional handling answers it
        try:
            request = WSGIRequest(environ)
            if not self.middleware.cacheable(request):
                return None
            version = self.middleware.clock.get()
            key = self.middleware.key(request, version, date.today())
            return self.middleware.cache.get(key)
        except Exception:
            return None  # e.g. DisallowedHost, or the database is down: let Django answer
