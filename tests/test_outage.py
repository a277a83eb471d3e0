"""When the database is down: the friendly 503 page, never a 500; then recovery.

The first tests fake the outage inside Django and run everywhere. The last
ones stop the real PostgreSQL under real gunicorn processes (behind nginx, as
`make serve` runs them), so they run only on PostgreSQL (the second pass of
.ci/run).
"""

import contextlib
import signal
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections

from tests.servers import (
    free_port,
    front_door,
    gunicorn,
    persistent_cache_dir,
    pg,
    postgresql_url,
    require_pg_control,
)

PUBLIC_PAGES = [
    "/",
    "/therapies/ketamine/",
    "/articles/ketamine-infusion-therapy/",
    "/compare/",
    "/compare/?therapies=ketamine,lsd",
    "/glossary/",
    "/sources/",
    "/about/",
    "/sitemap.xml",
]


def assert_friendly_503(status, headers, html):
    assert status == 503
    assert "This page is not available right now" in html
    # The crisis resources are in the template itself, not the database.
    assert 'href="tel:988"' in html
    assert "Samaritans" in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert "no-store" in headers["Cache-Control"]
    assert headers["Retry-After"]


def database_down(*args, **kwargs):
    raise OperationalError("connection refused")


@pytest.mark.django_db
def test_a_view_that_cannot_reach_the_database_gives_the_503_page(client, monkeypatch):
    monkeypatch.setattr("therapyinfo.views.render", database_down)
    response = client.get("/therapies/ketamine/")
    assert_friendly_503(response.status_code, response, response.content.decode())
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_an_error_page_that_cannot_reach_the_database_gives_the_503_page(client, monkeypatch):
    # The 404 page's context processor reads the crisis resources from the database.
    monkeypatch.setattr("therapyinfo.context_processors.CrisisResource.objects.all", database_down)
    client.raise_request_exception = False
    response = client.get("/no-such-page/")
    assert_friendly_503(response.status_code, response, response.content.decode())


@pytest.mark.django_db
def test_other_errors_still_give_the_500_page(client_of_a_broken_page):
    response = client_of_a_broken_page.get("/about/")
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.content.decode()


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    monkeypatch.setattr("therapyinfo.views.connection.cursor", database_down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "no-store" in response["Cache-Control"]


# --- The real PostgreSQL, stopped under running gunicorn processes ---------------


@pytest.fixture
def served_database(transactional_db):
    """The test database, with the content in it, for server processes to use.

    Transactional: what this process writes is committed, so the servers see
    it, and no test transaction is left open while the server is stopped.
    pytest-django empties the database afterwards, as after browser tests.
    """
    url = postgresql_url()
    require_pg_control()
    call_command("load_content", verbosity=0)
    connections.close_all()
    yield url
    connections.close_all()  # this process's connections died with the server


@contextlib.contextmanager
def postgresql_stopped():
    pg("stop")
    try:
        yield
    finally:
        pg("start")


def test_outage_gives_503_and_the_same_processes_recover(served_database):
    with gunicorn(served_database, workers=2) as server:
        pids_before = server.process.pid
        for _ in range(2):  # both workers connect; only the home page gets cached
            assert server.get("/").status == 200
        # /about/ and the 404 page read nothing but the crisis lines, which a worker
        # that has served a page keeps in memory: they may stay up, checked apart.
        needs_database = [path for path in PUBLIC_PAGES if path not in ("/", "/about/")]

        with postgresql_stopped():
            # Several rounds, so that every worker meets the outage. (Cached pages
            # are still served: the next test.)
            for _ in range(3):
                for path in needs_database:
                    response = server.get(path)
                    assert_friendly_503(response.status, response.headers, response.body)
                for path, status in [("/about/", 200), ("/no-such-page/", 404)]:
                    response = server.get(path)
                    if response.status == status:
                        assert "Samaritans" in response.body, path
                    else:
                        assert_friendly_503(response.status, response.headers, response.body)
                health = server.get("/healthz")
                assert health.status == 503
                assert health.body == '{"status": "unavailable"}'

        # PostgreSQL is back: the very same processes answer again, at once.
        for _ in range(3):
            for path in PUBLIC_PAGES:
                assert server.get(path).status == 200, path
        assert server.get("/healthz").status == 200
        assert server.process.poll() is None and server.process.pid == pids_before
        log = server.log()
        assert "database unavailable" in log
        assert "Traceback" not in log


def test_nginx_serves_pages_it_has_while_workers_restart_in_an_outage(served_database):
    """Cached pages stay up through the outage, even once they are past their
    max-age and every gunicorn worker has been replaced (max_requests, a crash);
    pages nginx never had get the friendly 503; both recover with no restart."""
    with (
        gunicorn(served_database, workers=2, DJANGO_PUBLIC_MAX_AGE="1") as app,
        front_door(app) as door,
    ):
        cached = {path: door.get(path) for path in ["/", "/therapies/ketamine/", "/compare/"]}
        assert all(response.status == 200 for response in cached.values())
        with postgresql_stopped():
            app.process.send_signal(signal.SIGHUP)  # gunicorn replaces every worker
            time.sleep(2)  # and every cached page is now past its max-age
            for _ in range(3):
                for path, before in cached.items():
                    during = door.get(path)
                    assert during.status == 200, path
                    assert during.headers["X-Cache"] in ("STALE", "UPDATING"), path
                    assert during.body == before.body, path
                response = door.get("/glossary/")  # never visited: nothing to serve stale
                assert_friendly_503(response.status, response.headers, response.body)
            assert app.get("/").status == 503  # the app itself cannot answer
        time.sleep(1)
        for path in [*cached, "/glossary/"]:
            assert door.get(path).status == 200, path
        assert app.process.poll() is None


def test_a_front_door_restarted_during_an_outage_serves_its_cached_pages(served_database):
    """nginx and gunicorn stopped and started again while PostgreSQL is down
    (as a deploy or a reboot would): both start without the database, the pages
    in the persistent cache are served stale, the rest get the friendly 503,
    and /healthz says 503 so a balancer can tell."""
    port = free_port()
    pages = ["/", "/therapies/ketamine/", "/compare/?therapies=ketamine,lsd"]
    with persistent_cache_dir() as cache_dir:
        with (
            gunicorn(served_database, DJANGO_PUBLIC_MAX_AGE="1") as app,
            front_door(app, port=port, cache_dir=cache_dir) as door,
        ):
            cached = {path: door.get(path) for path in pages}
            assert all(response.status == 200 for response in cached.values())
        with postgresql_stopped():
            time.sleep(1.5)  # every stored page is now past its max-age
            with (
                gunicorn(served_database, health=503, DJANGO_PUBLIC_MAX_AGE="1") as app,
                front_door(app, port=port, cache_dir=cache_dir, health=503) as door,
            ):
                for _ in range(2):
                    for path, before in cached.items():
                        during = door.get(path)
                        assert during.status == 200, path
                        assert during.headers["X-Cache"] in ("STALE", "UPDATING"), path
                        assert during.body == before.body, path
                    for path in ["/glossary/", "/compare/?therapies=psilocybin,lsd"]:
                        response = door.get(path)  # never stored: nothing to serve stale
                        assert_friendly_503(response.status, response.headers, response.body)
                health = door.get("/healthz")
                assert health.status == 503 and health.body == '{"status": "unavailable"}'
