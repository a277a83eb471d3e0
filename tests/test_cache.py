"""Item 2 and 3 of the performance issue: the whole-page cache is right for
every visitor and every process, and revalidations get 304."""

import os
import shutil
import socket
import subprocess
import time
from datetime import date
from io import StringIO
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from therapyinfo import cache as page_cache
from therapyinfo.cache import (
    CachedPageApp,
    PageCacheMiddleware,
    VersionClock,
    bump_content_version,
)
from therapyinfo.models import ComparisonCell, ContentVersion, CrisisResource, Source, Therapy

pytestmark = pytest.mark.django_db

CELL_URL = "/compare/"


def queries_for(client, url, **extra):
    """How many queries a GET ran: 0 means it was served from the page cache."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code in (200, 304), (url, response.status_code)
    return len(queries)


def onset_cell():
    return ComparisonCell.objects.get(
        row__comparison__slug="ketamine-vs-psychedelics",
        row__slug="onset",
        therapy__slug="ketamine",
    )


def test_a_second_anonymous_visit_is_served_whole_from_the_cache(client, django_assert_num_queries):
    first = client.get("/therapies/ketamine/")
    with django_assert_num_queries(0):
        second = client.get("/therapies/ketamine/")
    assert second.status_code == 200
    assert second.content == first.content


def test_a_cached_page_keeps_the_security_headers_the_inner_middleware_added(client):
    first = client.get("/")
    second = client.get("/")
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert first.has_header(header), header
        assert second[header] == first[header], header


def test_head_is_served_from_the_cache_too(client, django_assert_num_queries):
    client.get("/glossary/")
    with django_assert_num_queries(0):
        assert client.head("/glossary/").status_code == 200


def test_a_saved_edit_shows_on_the_very_next_request(client):
    client.get(CELL_URL)
    cell = onset_cell()
    cell.text = "Edited: relief within hours."
    cell.save()
    assert "Edited: relief within hours." in client.get(CELL_URL).content.decode()


def test_a_deletion_shows_on_the_very_next_request(client):
    resource = CrisisResource.objects.get(phone="116 123")
    assert resource.name in client.get("/about/").content.decode()
    resource.delete()
    assert resource.name not in client.get("/about/").content.decode()


def test_a_many_to_many_change_shows_on_the_very_next_request(client, ketamine):
    url = ketamine.get_absolute_url()
    mechanism = ketamine.mechanisms.first()
    assert mechanism.name in client.get(url).content.decode()
    ketamine.mechanisms.remove(mechanism)
    assert mechanism.name not in client.get(url).content.decode()


@pytest.mark.parametrize(
    "load",
    [
        lambda: call_command("load_content", stdout=StringIO()),
        lambda: call_command("loaddata", "therapies", stdout=StringIO()),
    ],
    ids=["load_content", "loaddata"],
)
def test_loading_fixtures_bumps_the_content_version(load):
    ContentVersion.objects.all().delete()
    load()
    assert ContentVersion.objects.count() == 1


def test_queryset_update_sends_no_signal_so_it_needs_an_explicit_bump(client, ketamine):
    """What the README warns about: update() bypasses the version, bump it yourself."""
    client.get(ketamine.get_absolute_url())
    Therapy.objects.filter(pk=ketamine.pk).update(drug_class="Updated class")
    assert "Updated class" not in client.get(ketamine.get_absolute_url()).content.decode()
    bump_content_version()
    assert "Updated class" in client.get(ketamine.get_absolute_url()).content.decode()


def test_staff_are_never_served_from_nor_stored_into_the_public_cache(staff_client):
    anonymous = Client()
    anonymous.get("/glossary/")  # cached for anonymous visitors
    assert len(locmem_keys()) == 1
    assert queries_for(staff_client, "/glossary/") > 0
    staff = staff_client.get("/glossary/")
    assert "private" in staff["Cache-Control"]
    assert not staff.has_header("ETag")
    staff_client.get("/sources/")
    assert len(locmem_keys()) == 1, "a staff visit was stored for the public"


def test_any_session_cookie_bypasses_the_cache(client):
    client.get("/sources/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-real-session"
    assert queries_for(client, "/sources/") > 0
    assert "private" in client.get("/sources/")["Cache-Control"]


@pytest.mark.parametrize("url", ["/healthz", "/compare/?therapies=ketamine", "/no-such-page/"])
def test_health_checks_errors_and_bad_input_are_never_stored(client, url):
    response = client.get(url)
    assert not response.has_header("ETag")
    assert locmem_keys() == []


def locmem_keys():
    return list(caches["default"]._cache)


def test_the_admin_is_never_stored(client):
    response = client.get("/" + settings.ADMIN_URL + "login/")
    assert response.status_code == 200
    assert locmem_keys() == []


def test_unknown_query_parameters_share_the_page_and_cannot_fill_the_cache(client):
    client.get("/")
    for n in range(20):
        assert queries_for(client, f"/?utm_source=x{n}&random={n}") == 0
    assert len(locmem_keys()) == 1


def test_the_query_parameter_a_page_reads_is_part_of_the_key(client):
    both = client.get("/compare/?therapies=lsd,ketamine").content.decode()
    everything = client.get("/compare/").content.decode()
    assert both != everything
    assert "psilocybin" not in both.split("<tbody>")[0].split("<thead>")[1]


def test_public_pages_carry_validators_and_cdn_friendly_cache_control(client):
    response = client.get("/articles/ketamine-infusion-therapy/")
    assert response["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    assert response["ETag"].startswith('"')
    assert response.has_header("Last-Modified")
    cached = client.get("/articles/ketamine-infusion-therapy/")
    assert cached["ETag"] == response["ETag"]
    assert cached["Last-Modified"] == response["Last-Modified"]


def test_a_matching_if_none_match_gets_304_with_no_body(client):
    etag = client.get("/therapies/lsd/")["ETag"]
    response = client.get("/therapies/lsd/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_revalidation_after_an_edit_gets_the_new_page(client):
    etag = client.get(CELL_URL)["ETag"]
    cell = onset_cell()
    cell.text = "Edited again."
    cell.save()
    response = client.get(CELL_URL, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "Edited again." in response.content.decode()


def test_if_modified_since_the_content_version_gets_304(client):
    last_modified = client.get("/sources/")["Last-Modified"]
    response = client.get("/sources/", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


def test_each_day_has_its_own_key_because_pages_say_when_a_review_is_overdue():
    request = RequestFactory().get("/")
    middleware = PageCacheMiddleware(lambda request: HttpResponse())
    version = page_cache.EPOCH
    assert middleware.key(request, version, date(2026, 1, 1)) != middleware.key(
        request, version, date(2026, 1, 2)
    )


def response_for(url, response):
    request = RequestFactory().get(url)
    request.resolver_match = resolve(url)
    return PageCacheMiddleware.storable(request, response)


def test_responses_that_set_cookies_or_say_private_are_not_stored():
    assert response_for("/about/", HttpResponse("ok"))
    with_cookie = HttpResponse("ok")
    with_cookie.set_cookie("csrftoken", "x")
    assert not response_for("/about/", with_cookie)
    for value in ("private", "no-cache", "no-store", "private, max-age=0"):
        assert not response_for("/about/", HttpResponse("ok", headers={"Cache-Control": value}))
    assert not response_for("/about/", HttpResponse("ok", headers={"Vary": "Accept-Language"}))
    assert response_for("/about/", HttpResponse("ok", headers={"Vary": "Cookie"}))
    assert not response_for("/healthz", HttpResponse("ok"))


class FakeMonotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def app_server(cache_alias, monotonic):
    """One more app process: its own version clock and cache client, on top of
    the site's real middleware and views (everything below the page cache)."""
    handler = BaseHandler()
    with override_settings(MIDDLEWARE=settings.MIDDLEWARE[1:]):
        handler.load_middleware()
    clock = VersionClock(monotonic=monotonic)
    middleware = PageCacheMiddleware(handler.get_response, cache_alias=cache_alias, clock=clock)

    def get(url):
        return middleware(RequestFactory().get(url)).content.decode()

    return get


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DATABASE = "django.core.cache.backends.db.DatabaseCache"


@pytest.mark.parametrize(
    "caches_setting",
    [
        # Each process with its own memory cache (the default, CACHE_URL unset).
        {
            "default": {"BACKEND": LOCMEM},
            "a": {"BACKEND": LOCMEM, "LOCATION": "process-a"},
            "b": {"BACKEND": LOCMEM, "LOCATION": "process-b"},
        },
        # Two clients of one shared cache (the database cache, as in production).
        {
            "default": {"BACKEND": LOCMEM},
            "a": {"BACKEND": DATABASE, "LOCATION": "page_cache_test"},
            "b": {"BACKEND": DATABASE, "LOCATION": "page_cache_test"},
        },
    ],
    ids=["memory-per-process", "shared-database-cache"],
)
def test_an_edit_in_one_process_reaches_every_other_within_one_second(caches_setting):
    check_an_edit_reaches_both_servers(caches_setting)


@pytest.fixture
def redis_url():
    """A real, throwaway Redis server (CI installs redis-server)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed; CI runs this test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_edit_reaches_every_process_through_a_shared_redis_cache(redis_url):
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    check_an_edit_reaches_both_servers({"default": {"BACKEND": LOCMEM}, "a": redis, "b": redis})


def check_an_edit_reaches_both_servers(caches_setting):
    with override_settings(CACHES=caches_setting):
        call_command("createcachetable", verbosity=0)
        monotonic = FakeMonotonic()
        server_a = app_server("a", monotonic)
        server_b = app_server("b", monotonic)
        # The text before its first citation, which becomes a numbered link.
        original = onset_cell().text.split(" [@")[0]
        assert original in server_a(CELL_URL)
        assert original in server_b(CELL_URL)

        # The edit is made in a third place (the shell, the admin on another server...).
        cell = onset_cell()
        cell.text = "Edited on another server."
        cell.save()

        monotonic.now += 1.0
        assert "Edited on another server." in server_a(CELL_URL)
        assert "Edited on another server." in server_b(CELL_URL)
        for alias in ("a", "b"):
            caches[alias].clear()


def test_a_process_keeps_its_version_for_less_than_a_second_then_rereads():
    """The other half of the test above: between re-reads, a process trusts its version."""
    monotonic = FakeMonotonic()
    clock = VersionClock(monotonic=monotonic)
    first = clock.get()
    ContentVersion.objects.update(changed_at=page_cache.EPOCH.replace(year=2030))
    monotonic.now += 0.9
    assert clock.get() == first
    monotonic.now += 0.1
    assert clock.get().year == 2030


class CountingApp:
    """Django's own WSGI handler, counting the requests that reach it.

    Like Django's test client, it keeps the test's database connection open
    across requests: closing it would end the test's transaction."""

    def __init__(self):
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return self.django(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def wsgi_get(app, path, **headers):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": "localhost", **headers}
    if "?" in path:
        environ["PATH_INFO"], environ["QUERY_STRING"] = path.split("?", 1)
    setup_testing_defaults(environ)
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = status, dict(response_headers)

    body = b"".join(app(environ, start_response))
    return started["status"], started["headers"], body


def test_the_wsgi_entry_point_answers_cache_hits_before_django_runs(django_assert_num_queries):
    django = CountingApp()
    app = CachedPageApp(django)
    first = wsgi_get(app, "/compare/?therapies=lsd,ketamine")
    assert django.calls == 1
    with django_assert_num_queries(0):
        second = wsgi_get(app, "/compare/?therapies=lsd,ketamine&utm_source=x")
    assert django.calls == 1, "a cached page went through Django"
    # Every response gets its own request id (RequestLogMiddleware); all else is the same.
    assert first[1].pop("X-Request-ID") != second[1].pop("X-Request-ID")
    assert second == first
    assert first[0] == "200 OK"
    assert "Content-Security-Policy" in second[1]


def test_the_wsgi_entry_point_answers_if_none_match_with_304():
    django = CountingApp()
    app = CachedPageApp(django)
    etag = wsgi_get(app, "/glossary/")[1]["ETag"]
    status, headers, body = wsgi_get(app, "/glossary/", HTTP_IF_NONE_MATCH=etag)
    assert (status, body, headers["ETag"]) == ("304 Not Modified", b"", etag)
    assert "Content-Length" not in headers
    assert django.calls == 1


def test_the_wsgi_entry_point_leaves_sessions_edits_and_bad_hosts_to_django():
    django = CountingApp()
    app = CachedPageApp(django)
    wsgi_get(app, "/sources/")
    wsgi_get(app, "/sources/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=abc")
    assert django.calls == 2
    status, _, _ = wsgi_get(app, "/sources/", HTTP_HOST="evil.example")
    assert status.startswith("400")
    assert django.calls == 3
    source = Source.objects.first()
    source.title = "A retitled study"
    source.save()
    assert b"A retitled study" in wsgi_get(app, "/sources/")[2]
    assert django.calls == 4


def test_the_deployed_wsgi_application_serves_cached_pages_first():
    from therapyinfo.wsgi import application

    assert isinstance(application, CachedPageApp)


def test_cached_pages_are_still_served_while_the_database_is_away(client, monkeypatch):
    monotonic = FakeMonotonic()
    monkeypatch.setattr(page_cache.version_clock, "monotonic", monotonic)
    html = client.get("/glossary/").content

    def database_away():
        raise OperationalError("connection refused")

    monkeypatch.setattr(page_cache, "read_content_version", database_away)
    monotonic.now += 5
    response = client.get("/glossary/")
    assert response.status_code == 200
    assert response.content == html


def test_with_the_database_away_and_no_version_seen_the_page_itself_answers(monkeypatch):
    """No version to key on: the cache steps aside (no 500 from the cache
    itself), and what answers is the page, here the friendly outage page."""

    def database_away():
        raise OperationalError("connection refused")

    monkeypatch.setattr(page_cache, "read_content_version", database_away)
    page_cache.forget_process_state()
    answered = []

    def page(request):
        answered.append(request.path)
        return HttpResponse("the page", status=503)

    response = PageCacheMiddleware(page)(RequestFactory().get("/glossary/"))
    assert (response.status_code, answered) == (503, ["/glossary/"])
