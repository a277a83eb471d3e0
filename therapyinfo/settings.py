"""Settings, read from the environment (and an optional `.env` file).

`.env.example` lists every variable. Development values are set by
`make run`; production sets them in its environment.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(or set DJANGO_DEBUG=on for local development)."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured(
        f"DJANGO_ADMIN_URL must look like 'admin/' (no leading slash, one trailing slash), "
        f"not {ADMIN_URL!r}."
    )

INSTALLED_APPS = [
    "therapyinfo.admin_site.EditorialAdminConfig",  # django.contrib.admin, grouped for editors
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
    "therapyinfo",
]

MIDDLEWARE = [
    # Outermost: logs every request with its id (therapyinfo/middleware.py).
    "therapyinfo.middleware.RequestLogMiddleware",
    # Limits first, before anything answers (nginx applies the same before its cache).
    "therapyinfo.middleware.RequestLimitsMiddleware",
    # Turns a database outage anywhere below into the friendly 503 page.
    "therapyinfo.middleware.DatabaseOutageMiddleware",
    # ETags and 304s for revalidations (nginx's, browsers', CDNs'). Public pages
    # say how long they may be kept themselves (therapyinfo/cache.py).
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "therapyinfo.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in staff get the signed cookie nginx checks before bypassing its cache.
    "therapyinfo.frontdoor.StaffCookieMiddleware",
    # Draft previews and staff views are never cached for the public.
    "therapyinfo.preview.PrivateForSignedInUsersMiddleware",
    # ?revision=<id>: staff preview a pending revision at the page's own address.
    "therapyinfo.preview.RevisionPreviewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns its lockout signal into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "therapyinfo.urls"
WSGI_APPLICATION = "therapyinfo.wsgi.application"

# One engine for the public pages (templates/) and the admin's overrides
# (therapyinfo/templates/admin/).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "therapyinfo" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "therapyinfo.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://"),
    # Values and fragments that depend only on content, keyed by the content
    # version (therapyinfo/cache.py). Local memory, so an edit needs no purge
    # across servers and a cache error cannot fail a page; entries of an old
    # version are never read again and age out.
    "content": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "therapyinfo-content",
        "TIMEOUT": 60 * 60,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    # What signed-in staff and previews use instead: they never read or fill it.
    "uncached": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# A cache that accepts connections but never answers must not hold a worker
# (or /healthz) for long: a slow cache is treated as a missing one.
if "redis" in CACHES["default"]["BACKEND"].lower():
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_timeout=env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
        socket_connect_timeout=env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )

# nginx's page cache (deploy/serve.sh); /healthz fails when it cannot be
# written, so a load balancer stops sending visitors to this front door.
FRONT_DOOR_CACHE_DIR = env.str("FRONT_DOOR_CACHE_DIR", default="")

# Browsers, nginx and CDNs may reuse a public page this long, then revalidate
# it with its ETag. A minute bounds how long a corrected crisis number or
# safety note can stay stale; stale-while-revalidate lets a CDN answer at once
# while it refreshes (therapyinfo/cache.py, `public_cache_headers`).
PUBLIC_MAX_AGE = env.int("DJANGO_PUBLIC_MAX_AGE", default=60)
PUBLIC_STALE_WHILE_REVALIDATE = 300

# django-axes first: it refuses a locked-out user before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login throttling: 5 failures for one user name from one address
# lock further attempts out for DJANGO_LOGIN_COOLOFF_MINUTES. Lockouts are
# listed (and can be lifted) in the admin under "Axes".
AXES_FAILURE_LIMIT = 5
# The user name and address together: failures from one address cannot lock
# out a user who signs in from another (issue 20).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# Behind a proxy every request comes from the proxy's address; count back
# this many hops in X-Forwarded-For to find the visitor's (0: REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "therapyinfo.middleware.client_ip"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security. The TLS settings are switched on by the environment behind a proxy.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# A load balancer checks health over plain HTTP: it must get the answer, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Features no page here uses; sent by therapyinfo.middleware.PermissionsPolicyMiddleware.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One line per request on stderr (therapyinfo.middleware.RequestLogMiddleware),
# and every other record, errors included, tagged with the same request id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "therapyinfo.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stderr"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # The request log says it once; django.server's own access lines would repeat it.
        "django.server": {"level": "WARNING"},
    },
}

# How long a clinical review stays current.
REVIEW_INTERVAL_MONTHS = env.int("REVIEW_INTERVAL_MONTHS", default=12)

# The fixtures `load_content` loads, in dependency order (loaddata needs the same).
CONTENT_FIXTURES = [
    "sources",
    "glossary",
    "crisis",
    "mechanisms",
    "side_effects",
    "therapies",
    "therapy_side_effects",
    "outcomes",
    "comparisons",
    "articles",
]
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Who stands behind the site: shown on About and in each page's schema.org
# data. Never invented: when one is unset, About says plainly that it is missing.
SITE_NAME = "Therapy Info"
SITE_PUBLISHER = env.str("SITE_PUBLISHER", default="").strip()
SITE_CONTACT_EMAIL = env.str("SITE_CONTACT_EMAIL", default="").strip()
if SITE_CONTACT_EMAIL:
    try:
        validate_email(SITE_CONTACT_EMAIL)
    except ValidationError:
        raise ImproperlyConfigured(
            f"SITE_CONTACT_EMAIL must be an email address, not {SITE_CONTACT_EMAIL!r}."
        ) from None
# The clinical reviewers' roles and qualifications (not names), free text,
# one per reviewer separated by semicolons.
SITE_REVIEWERS = [
    reviewer.strip()
    for reviewer in env.str("SITE_REVIEWERS", default="").split(";")
    if reviewer.strip()
]
