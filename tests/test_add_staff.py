"""`manage.py add_staff`: an editor or a reviewer in one command."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PASSWORD = "tall-Heron-41-quiet"

pytestmark = pytest.mark.django_db


def add_staff(*args, **options):
    out = StringIO()
    call_command("add_staff", *args, stdout=out, **options)
    return out.getvalue()


def test_an_editor_signs_in_and_may_propose_but_not_publish(client, monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    output = add_staff("sam", "--role", "editor", "--email", "sam@example.org")
    assert "Created editor 'sam'" in output
    user = django_user_model.objects.get(username="sam")
    assert user.is_staff and not user.is_superuser
    assert [group.name for group in user.groups.all()] == ["Content editor"]
    assert user.has_perm("therapyinfo.change_therapy")
    assert not user.has_perm("therapyinfo.publish_therapy")
    client.post("/admin/login/", {"username": "sam", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(user.pk)
    # Signed in, the admin home opens instead of sending the editor back to log in.
    response = client.get("/admin/")
    assert response.status_code == 200
    assert 'name="password"' not in response.content.decode()


def test_a_reviewer_may_publish(monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    add_staff("rae", role="reviewer")
    user = django_user_model.objects.get(username="rae")
    assert [group.name for group in user.groups.all()] == ["Clinical reviewer"]
    assert user.has_perm("therapyinfo.publish_therapy")


def test_the_password_is_prompted_for_twice(monkeypatch, django_user_model):
    monkeypatch.delenv("DJANGO_STAFF_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    add_staff("kim", role="editor")
    assert django_user_model.objects.get(username="kim").check_password(PASSWORD)


def test_differing_passwords_create_nobody(monkeypatch, django_user_model):
    monkeypatch.delenv("DJANGO_STAFF_PASSWORD", raising=False)
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="differ"):
        add_staff("kim", role="editor")
    assert not django_user_model.objects.filter(username="kim").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "set but empty"), ("12345678", "Password refused: .*too common")],
)
def test_a_weak_or_empty_password_is_refused(monkeypatch, django_user_model, password, message):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        add_staff("lee", role="reviewer")
    assert not django_user_model.objects.filter(username="lee").exists()


def test_an_existing_name_is_refused_and_left_alone(monkeypatch, django_user_model):
    existing = django_user_model.objects.create_user("sam", password="old-Password-77")
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="'sam' already exists"):
        add_staff("sam", role="reviewer")
    existing.refresh_from_db()
    assert existing.check_password("old-Password-77") and not existing.groups.exists()


def test_an_unknown_role_is_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        add_staff("sam", "--role", "admin")
