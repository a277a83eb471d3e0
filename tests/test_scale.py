"""Several app servers share one PostgreSQL (and one nginx in front): an edit
through one is served by the others within a second, and through nginx within
the pages' max-age. Runs on PostgreSQL only (see tests/servers.py)."""

import time

import pytest
from django.conf import global_settings, settings
from django.core.management import call_command
from django.db import connections

from tests.servers import front_door, gunicorn, postgresql_url
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
    max_age = 2
    with (
        gunicorn(shared_database, workers=1, DJANGO_PUBLIC_MAX_AGE=str(max_age)) as server_a,
        gunicorn(shared_database, workers=1, DJANGO_PUBLIC_MAX_AGE=str(max_age)) as server_b,
        front_door(server_a, server_b) as door,
    ):
        before = server_b.get("/glossary/")
        assert before.status == 200 and term.definition in before.body
        assert door.get("/glossary/").status == 200
        assert door.get("/glossary/").headers["X-Cache"] == "HIT"

        admin = server_a.admin_login("scale-admin", "scale-pw-9x!long")
        saved = server_a.admin_post(
            admin,
            f"/{settings.ADMIN_URL}therapyinfo/glossaryterm/{term.pk}/change/",
            {
                "slug": term.slug,
                "term": term.term,
                "definition": new_definition,
                "change_note": "A clearer definition.",
            },
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
        # Through nginx: within the max-age (plus the one request that refreshes it).
        while new_definition not in door.get("/glossary/").body:
            assert time.monotonic() - edited_at < max_age + 2, "nginx still serves the old text"
            time.sleep(0.2)


def test_sessions_are_shared_so_a_login_on_one_server_works_on_another(shared_database):
    with (
        gunicorn(shared_database, workers=1) as server_a,
        gunicorn(shared_database, workers=1) as server_b,
    ):
        admin = server_a.admin_login("scale-admin", "scale-pw-9x!long")
        # The opener sends A's session cookie (cookies ignore the port) to B.
        index = server_b.get(f"/{settings.ADMIN_URL}", opener=admin)
        assert index.status == 200
        assert "scale-admin" in index.body  # "Welcome, scale-admin": signed in on B too
