"""Operations middleware: the request log, the database-outage page and the
Permissions-Policy header.

The request log and the outage page sit at the top of MIDDLEWARE so they see
every request, including the ones other middleware turn away.
"""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger("therapyinfo.requests")

# The id of the request being handled, for every log record made meanwhile.
request_id_var = contextvars.ContextVar("request_id", default="-")

# An incoming X-Request-ID (from a load balancer) is kept if it is short and
# plain, so it cannot forge log lines; anything else is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record (`-` outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class RequestLogMiddleware:
    """One log line per request: id, method, path, status, duration.

    Only the path is logged: no query string, headers, cookies or form data,
    so no secrets or session data reach the logs; its control and non-ASCII
    characters are escaped, so a "%0A" in a path cannot forge a log line. The
    id (nginx's, when it is sane) is echoed in the `X-Request-ID` response
    header so a visitor's report can be matched to it.

    The id is not reset on the way out: Django logs 4xx/5xx responses ("Not
    Found: ...") after the middleware chain returns, and those need it too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request_id_var.set(request.request_id)
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            printable(request.path),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response


def printable(text):
    """`text` with control and non-ASCII characters as escapes: one line, nothing hidden."""
    return text.encode("ascii", "backslashreplace").decode().translate(CONTROL_ESCAPES)


CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), 127]}


def is_database_outage(exception):
    return isinstance(exception, OperationalError | InterfaceError)


def outage_response():
    """The friendly 503 page. Rendered without a request context: the
    context processors read the database, which is what is down."""
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = "30"
    add_never_cache_headers(response)
    return response


class DatabaseOutageMiddleware:
    """A view that cannot reach the database answers with the 503 page.

    Errors raised elsewhere (another middleware, an error page's own
    rendering) reach `views.server_error`, which makes the same choice.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            logger.error("database unavailable: %s", type(exception).__name__)
            return outage_response()
        return None


class RequestLimitsMiddleware:
    """Refuses a query string longer than any page here needs (gunicorn and
    most proxies refuse long request lines too; this makes it the same
    everywhere, tests included)."""

    MAX_QUERY_STRING = 2048

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if len(request.META.get("QUERY_STRING", "")) > self.MAX_QUERY_STRING:
            return HttpResponse(
                "That web address is too long. Check the link, or start again from the home page.",
                status=414,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def client_ip(request):
    """The visitor's address for django-axes, past DJANGO_TRUSTED_PROXY_COUNT proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")
