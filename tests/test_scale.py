"""Several app servers share one PostgreSQL: an edit through one is served by
the others within a second. Runs on PostgreSQL only (see tests/servers.py)."""

import time

import pytest
from django.conf import global_settings, settings
from django.core.management import call_command
from django.db import connections

from tests.servers import gunicorn, postgresql_url
from therapyinfo.models import GlossaryTerm


@pytest.fixture
def shared_database(transactional_db, django_user_model, settings):
    url = postgresql_url()
    # The servers check passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    call_command("load_content", verbosity=0)
    django_user_model.objects.create_superuser("scale-admin", "s@example.org", "scale-pw-9x!long")
    connections.close_all()
    return url


def test_an_admin_edit_on_one_server_is_served_by_another_within_a_second(shared_database):
    term = GlossaryTerm.objects.order_by("term").first()
    new_definition = "Edited through server A, read through server B."
    with (
        gunicorn(8163, shared_database, workers=1) as server_a,
        gunicorn(8164, shared_database, workers=1) as server_b,
    ):
        before = server_b.get("/glossary/")
        assert before.status == 200 and term.definition in before.body
        server_b.get("/glossary/")  # a second visit, as a page cache would keep it

        admin = server_a.admin_login("scale-admin", "scale-pw-9x!long")
        saved = server_a.admin_post(
            admin,
            f"/{settings.ADMIN_URL}therapyinfo/glossaryterm/{term.pk}/change/",
            {"slug": term.slug, "term": term.term, "definition": new_definition},
        )
        assert saved.status == 302, saved.body[:1000]
        edited_at = time.monotonic()

        while True:
            page = server_b.get("/glossary/")
            if new_definition in page.body:
                break
            assert time.monotonic() - edited_at < 1.0, "server B still serves the old text"
            time.sleep(0.05)
        assert page.status == 200


def test_sessions_are_shared_so_a_login_on_one_server_works_on_another(shared_database):
    with (
        gunicorn(8163, shared_database, workers=1) as server_a,
        gunicorn(8164, shared_database, workers=1) as server_b,
    ):
        admin = server_a.admin_login("scale-admin", "scale-pw-9x!long")
        # The opener sends A's session cookie (cookies ignore the port) to B.
        index = server_b.get(f"/{settings.ADMIN_URL}", opener=admin)
        assert index.status == 200
        assert "scale-admin" in index.body  # "Welcome, scale-admin": signed in on B too
