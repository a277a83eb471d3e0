"""Caching: what the app tells nginx, CDNs and browsers, the content version
that keeps every app server's content cache fresh on the next request, staff
and drafts kept out of it, and a cache backend that fails (Redis stopped or
full) without a single failed page.

Raw requests through nginx are in test_frontdoor.py; two app servers behind
one nginx in test_scale.py; the stale pages nginx serves in an outage in
test_outage.py.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.servers import fetch, free_port, front_door, gunicorn, site_database  # noqa: F401
from therapyinfo import cache as content_cache
from therapyinfo.cache import bump_content_version
from therapyinfo.models import ComparisonCell, ContentVersion, CrisisResource, Therapy

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=60, stale-while-revalidate=300"


def onset_cell():
    return ComparisonCell.objects.get(
        row__comparison__slug="ketamine-vs-psychedelics",
        row__slug="onset",
        therapy__slug="ketamine",
    )


@pytest.mark.parametrize(
    "url", ["/", "/articles/ketamine-infusion-therapy/", "/compare/?therapies=lsd,ketamine"]
)
def test_public_pages_say_anyone_may_keep_them_a_minute_and_carry_an_etag(client, url):
    response = client.get(url)
    assert response["Cache-Control"] == PUBLIC
    assert response["ETag"].startswith('"')
    assert not response.has_header("Vary")  # nothing a shared cache would have to key on


def test_a_matching_if_none_match_gets_304_with_no_body(client):
    etag = client.get("/therapies/lsd/")["ETag"]
    response = client.get("/therapies/lsd/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_a_revalidation_after_an_edit_gets_the_new_page(client):
    etag = client.get("/compare/")["ETag"]
    cell = onset_cell()
    cell.text = "Edited again."
    cell.save()
    response = client.get("/compare/", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Edited again." in response.content.decode()


def test_staff_pages_are_private(staff_client):
    response = staff_client.get("/glossary/")
    assert response["Cache-Control"] == "private, no-store"


def test_any_session_cookie_leaves_a_page_unmarked(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-real-session"
    assert "public" not in client.get("/sources/").get("Cache-Control", "")


@pytest.mark.parametrize(
    "url",
    ["/healthz", "/compare/?therapies=ketamine", "/no-such-page/", f"/{settings.ADMIN_URL}login/"],
)
def test_health_checks_errors_bad_input_and_the_admin_are_never_public(client, url):
    assert "public" not in client.get(url).get("Cache-Control", "")


def test_unread_query_parameters_do_not_change_a_page(client):
    assert client.get("/?utm_source=x&random=1").content == client.get("/").content


def test_a_saved_edit_shows_on_the_very_next_request(client):
    client.get("/compare/")
    cell = onset_cell()
    cell.text = "Edited: relief within hours."
    cell.save()
    assert "Edited: relief within hours." in client.get("/compare/").content.decode()


def test_a_deletion_of_a_line_every_page_shows_is_on_the_very_next_request(client):
    resource = CrisisResource.objects.get(phone="116 123")
    assert resource.name in client.get("/about/").content.decode()
    resource.delete()
    assert resource.name not in client.get("/about/").content.decode()


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


def test_queryset_update_sends_no_signal_so_it_needs_an_explicit_bump(client):
    """What docs/caching.md warns about: update() bypasses the version, bump it yourself."""
    client.get("/about/")
    CrisisResource.objects.filter(phone="116 123").update(name="Renamed line")
    assert "Renamed line" not in client.get("/about/").content.decode()
    bump_content_version()
    assert "Renamed line" in client.get("/about/").content.decode()


def test_an_edit_made_by_another_server_is_served_on_the_next_request(client):
    """Another app server's edit reaches this one through the database alone:
    the content version is read on every request, and keys carry it."""
    assert "Renamed by another server" not in client.get("/about/").content.decode()
    CrisisResource.objects.filter(phone="116 123").update(name="Renamed by another server")
    # As that server's save would, in its own transaction.
    ContentVersion.objects.update(changed_at=content_cache.EPOCH.replace(year=2030))
    assert "Renamed by another server" in client.get("/about/").content.decode()


def test_a_draft_staff_opened_is_never_kept_for_visitors(staff_client, draft_therapy):
    assert staff_client.get("/therapies/secret-draft/").status_code == 200
    assert Client().get("/therapies/secret-draft/").status_code == 404


def test_staff_see_the_database_not_what_was_kept_for_visitors(staff_client):
    visitor = Client()
    assert "Edited without a signal" not in visitor.get("/therapies/ketamine/").content.decode()
    Therapy.objects.filter(slug="ketamine").update(summary="Edited without a signal.")
    # No bump: visitors keep the page of this content version; staff read afresh.
    assert "Edited without a signal" not in visitor.get("/therapies/ketamine/").content.decode()
    assert "Edited without a signal" in staff_client.get("/therapies/ketamine/").content.decode()


# --- deploy/nginx.conf caches exactly the public pages of therapyinfo/urls.py ---


def nginx_locations():
    """(modifier, pattern, caches pages?) of each location of nginx's front server."""
    text = (settings.BASE_DIR / "deploy" / "nginx.conf").read_text()
    text = text.replace("@APP_STATIC_URL@", "/static/")
    # Top-level locations of a server block are indented eight spaces.
    blocks = re.findall(
        r"^ {8}location (?:(=|~) )?(\"[^\"]+\"|\S+) \{\n(.*?)^ {8}\}", text, re.M | re.S
    )
    return [
        (modifier, pattern.strip('"'), "page_cache.conf" in body)
        for modifier, pattern, body in blocks
        if not pattern.startswith("@")
    ]


def nginx_caches(path, locations):
    """Whether the location nginx picks for `path` (exact, else a regular
    expression in order, else the longest prefix) stores pages."""
    for modifier, pattern, caches_pages in locations:
        if modifier == "=" and pattern == path:
            return caches_pages
    for modifier, pattern, caches_pages in locations:
        if modifier == "~" and re.search(pattern, path):
            return caches_pages
    prefixes = [(len(p), c) for m, p, c in locations if not m and path.startswith(p)]
    return max(prefixes)[1] if prefixes else False


def example_path(pattern):
    return reverse(pattern.name, kwargs=dict.fromkeys(pattern.pattern.converters, "x"))


def test_nginx_caches_every_public_page_and_nothing_else():
    from therapyinfo.urls import public_urlpatterns

    locations = nginx_locations()
    public = [example_path(pattern) for pattern in public_urlpatterns]
    assert len(public) == len(set(public)) > 10
    for path in public:
        assert nginx_caches(path, locations), f"deploy/nginx.conf does not cache {path}"
    for path in ["/healthz", f"/{settings.ADMIN_URL}", f"/{settings.ADMIN_URL}login/", "/x/"]:
        assert not nginx_caches(path, locations), f"deploy/nginx.conf caches {path}"


def test_every_public_page_says_it_may_be_kept_and_nothing_else_does(client):
    from therapyinfo.urls import public_urlpatterns, urlpatterns

    for pattern in public_urlpatterns:
        if pattern.pattern.converters:
            continue  # a detail page, checked with a real slug above
        assert client.get(example_path(pattern))["Cache-Control"] == PUBLIC, pattern.name
    others = [p for p in urlpatterns if p not in public_urlpatterns and hasattr(p, "name")]
    for pattern in others:
        assert "public" not in client.get(example_path(pattern)).get("Cache-Control", "")


# --- A real Redis as CACHE_URL, stopped or full, under real gunicorn and nginx ---


def redis_server(port, *options):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed; CI runs this test")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *options],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    pytest.fail("redis-server did not start")


PAGES = ["/", "/therapies/ketamine/", "/compare/", "/glossary/", "/about/", "/sitemap.xml"]


@pytest.mark.parametrize("state", ["stopped", "full"])
def test_with_redis_stopped_or_full_every_public_page_is_served(site_database, state):  # noqa: F811
    port = free_port()
    # "full": no memory left and no eviction, so every write is refused.
    redis = redis_server(port, "--maxmemory", "1", "--maxmemory-policy", "noeviction")
    try:
        if state == "stopped":
            redis.terminate()
            redis.wait(timeout=10)
        with (
            gunicorn(site_database, CACHE_URL=f"redis://127.0.0.1:{port}/0") as app,
            front_door(app) as door,
        ):
            for server in (app, door):
                for path in PAGES:
                    assert fetch(server.url + path).status == 200, (server.url, path)
            health = fetch(app.url + "/healthz")
            assert health.status == 200  # pages are served: keep this server in the pool
            assert health.body == '{"status": "ok", "cache": "degraded"}'
            assert "cache unavailable" in app.log()
            assert "Traceback" not in app.log()
    finally:
        redis.kill()
        redis.wait(timeout=10)


def test_with_redis_up_healthz_says_ok(site_database):  # noqa: F811
    port = free_port()
    redis = redis_server(port)
    try:
        with gunicorn(site_database, workers=1, CACHE_URL=f"redis://127.0.0.1:{port}/0") as app:
            assert fetch(app.url + "/healthz").body == '{"status": "ok"}'
    finally:
        redis.kill()
        redis.wait(timeout=10)
