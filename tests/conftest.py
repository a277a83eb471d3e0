"""Shared fixtures: the real content is loaded once per test session, and each
test runs in a transaction that is rolled back, so tests may change it freely."""

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.management import call_command

from therapyinfo.models import Status, Therapy


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_content", stdout=StringIO())


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing a test user's password the production way costs about a second
    on a busy machine; the suite makes many users and checks no hash strength.
    A test about hashing can set PASSWORD_HASHERS back itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def empty_every_cache():
    """Empty every cache, as a new process starts: the default one and the
    content cache (a rolled-back test can leave entries under a content
    version the database never kept), and Django's content-type cache (a
    live-server test's flush gives the content types new ids)."""
    for alias in settings.CACHES:
        caches[alias].clear()
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def fresh_caches():
    empty_every_cache()
    yield
    empty_every_cache()


@pytest.fixture
def clear_caches():
    """`clear_caches()` in a test: every cache empty, as after a restart."""
    return empty_every_cache


@pytest.fixture
def ketamine(db):
    return Therapy.objects.get(slug="ketamine")


@pytest.fixture
def draft_therapy(ketamine):
    """A copy of ketamine saved as a draft, under its own slug."""
    draft = Therapy.objects.get(pk=ketamine.pk)
    draft.pk = None
    draft.slug = "secret-draft"
    draft.name = "Secret draft therapy"
    draft.status = Status.DRAFT
    draft.save()
    draft.mechanisms.set(ketamine.mechanisms.all())
    return draft


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw-x9!long")
    client.force_login(user)
    return client


def member_of(django_user_model, username, group_name):
    # No password: tests sign in with force_login, and hashing one is slow.
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor(db, django_user_model):
    """A staff user in the "Content editor" group (made by a data migration)."""
    return member_of(django_user_model, "ed", "Content editor")


@pytest.fixture
def reviewer(db, django_user_model):
    """A staff user in the "Clinical reviewer" group."""
    return member_of(django_user_model, "rev", "Clinical reviewer")


@pytest.fixture
def client_of_a_broken_page(client, monkeypatch):
    """A client whose pages fail with a bug (not a database outage), answered
    as a visitor would see it rather than raised into the test."""

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr("therapyinfo.views.render", broken)
    client.raise_request_exception = False
    return client
