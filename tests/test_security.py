"""Production settings, security headers, the admin door and the request log."""

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from therapyinfo.middleware import RequestIdFilter

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "off",
    "DJANGO_SECRET_KEY": "p" * 20 + "-a-long-random-production-secret-" + "q" * 20,
    "DJANGO_ALLOWED_HOSTS": "therapyinfo.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://therapyinfo.example",
    "DJANGO_BEHIND_TLS_PROXY": "on",
    "DJANGO_SECURE_SSL_REDIRECT": "on",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_PRELOAD": "on",
    "DJANGO_SECURE_COOKIES": "on",
}


def manage(*args, env):
    """Run manage.py in a fresh process with only `env` (plus PATH) as configuration."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- Start-up and deploy checks ---------------------------------------------


def test_check_deploy_reports_no_issues_with_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_stops_start_up_with_one_clear_line():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_application_also_stops_with_one_line():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import therapyinfo.wsgi"],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_tls_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.AXES_COOLOFF_TIME)"
    )
    env = {**PRODUCTION_ENV, "DJANGO_LOGIN_COOLOFF_MINUTES": "7"}
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "31536000",
        "True",
        "True",
        "0:07:00",
    ]


# --- Security headers ----------------------------------------------------------

EXPECTED_CSP = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def header_urls():
    return [
        "/",
        "/therapies/ketamine/",
        "/compare/?therapies=ketamine,lsd",
        "/compare/?therapies=nope",  # 400
        "/no-such-page/",  # 404
        "/healthz",
        "/robots.txt",
        "/" + settings.ADMIN_URL + "login/",
    ]


@pytest.mark.parametrize("url", header_urls())
def test_security_headers_on_every_response(client, url):
    response = client.get(url)
    policy = dict(
        (part.split(" ", 1) + [""])[:2] for part in response["Content-Security-Policy"].split("; ")
    )
    for directive, value in EXPECTED_CSP.items():
        assert policy[directive] == value
    for directive in ("script-src", "style-src"):
        assert "unsafe-inline" not in policy.get(directive, ""), directive
        assert "unsafe-eval" not in policy.get(directive, ""), directive
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_security_headers_on_admin_pages(staff_client):
    response = staff_client.get(reverse("admin:therapyinfo_therapy_changelist"))
    assert response.status_code == 200
    assert "object-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert "Permissions-Policy" in response


def test_healthz_says_nothing_but_ok_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert "Server" not in response


def test_with_https_redirects_on_a_plain_http_health_check_still_gets_its_answer(client, settings):
    """A load balancer checks /healthz over plain HTTP; a redirect would read as down."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- The admin door ------------------------------------------------------------

LOGIN_URL = "/" + settings.ADMIN_URL + "login/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Each sign-in attempt hashes a password; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        "door-admin", "door@example.org", "correct-horse-9-battery"
    )


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/" + settings.ADMIN_URL},
        REMOTE_ADDR=ip,
    )


def test_a_correct_login_works(client, admin_user):
    response = attempt(client, "door-admin", "correct-horse-9-battery")
    assert response.status_code == 302


def test_five_failures_for_one_user_name_from_one_address_lock_that_pair_out(client, admin_user):
    for _ in range(5):
        attempt(client, "door-admin", "wrong", ip="198.51.100.7")
    response = attempt(client, "door-admin", "correct-horse-9-battery", ip="198.51.100.7")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in paused" in html
    assert "30 minutes" in html
    assert "_auth_user_id" not in client.session


def test_an_attacker_cannot_aim_a_lockout_at_a_user_elsewhere(client, admin_user):
    # Failures from many addresses, aimed at the superuser's name (issue 20).
    for n in range(10):
        attempt(client, "door-admin", "wrong", ip=f"203.0.113.{n}")
    # The real user, signing in from their own address, still gets in.
    assert (
        attempt(client, "door-admin", "correct-horse-9-battery", ip="192.0.2.8").status_code == 302
    )


def test_four_failures_do_not_lock_out(client, admin_user):
    for _ in range(4):
        attempt(client, "door-admin", "wrong")
    assert attempt(client, "door-admin", "correct-horse-9-battery").status_code == 302


def test_lockouts_are_listed_for_admins(client, admin_user, staff_client):
    for _ in range(5):
        attempt(client, "door-admin", "wrong")
    response = staff_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 200
    assert "door-admin" in response.content.decode()


def test_sessions_expire_and_passwords_are_validated():
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 60 * 60
    for weak in ["password", "12345678", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)


# --- The request log -----------------------------------------------------------


@pytest.fixture
def log_output():
    """What the configured log handler would write, captured."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_one_log_line_per_request_with_id_status_and_duration(client, log_output):
    response = client.get("/about/", HTTP_X_REQUEST_ID="lb-1234.abc")
    assert response["X-Request-ID"] == "lb-1234.abc"
    lines = [line for line in log_output.getvalue().splitlines() if "therapyinfo.requests" in line]
    assert len(lines) == 1
    assert lines[0].startswith("INFO therapyinfo.requests [lb-1234.abc] GET /about/ 200 ")
    assert lines[0].endswith("ms")


def test_responses_django_logs_carry_the_request_id(client, log_output):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert f"WARNING django.request [{request_id}] Not Found: /no-such-page/" in (
        log_output.getvalue()
    )


def test_a_forged_request_id_is_replaced(client, log_output):
    response = client.get("/about/", HTTP_X_REQUEST_ID="evil\nINFO fake line")
    assert len(response["X-Request-ID"]) == 32
    assert "fake line" not in log_output.getvalue()


def test_errors_are_logged_with_the_same_request_id(client_of_a_broken_page, log_output):
    response = client_of_a_broken_page.get("/about/")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    output = log_output.getvalue()
    error_lines = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert error_lines and all(f"[{request_id}]" in line for line in error_lines)
    assert f"[{request_id}] GET /about/ 500" in output


# Long and unlike any word a log line could hold, so the check below means
# something whatever key the suite runs with (`make test` uses a short one).
LOGGED_SECRET_KEY = "not-in-any-log-7f3c9a2e-5b1d-4e8f-a6c0-9d2b7e4f1a3c"


@override_settings(SECRET_KEY=LOGGED_SECRET_KEY)
def test_no_secrets_or_session_data_in_logs(client, admin_user, log_output):
    attempt(client, "door-admin", "correct-horse-9-battery")
    session_key = client.session.session_key
    client.get(
        "/about/?token=secret-query-value",
        HTTP_AUTHORIZATION="Bearer secret-bearer-value",
    )
    attempt(client, "door-admin", "wrong-password-value")
    output = log_output.getvalue()
    assert "POST /" + settings.ADMIN_URL + "login/" in output
    for secret in [
        "correct-horse-9-battery",
        "wrong-password-value",
        session_key,
        "secret-query-value",
        "secret-bearer-value",
        LOGGED_SECRET_KEY,
    ]:
        assert secret not in output


def test_env_example_lists_every_variable_the_site_reads():
    read = set()
    for path in ["therapyinfo/settings.py", "deploy/gunicorn_conf.py"]:
        source = (BASE_DIR / path).read_text()
        read |= set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))
        read |= set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", source))
    listed = set(re.findall(r"^#? ?([A-Z_]+)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert "DJANGO_SECRET_KEY" in read and "WEB_CONCURRENCY" in read
    assert read - listed == set()


def test_behind_a_proxy_the_lockout_counts_the_visitors_address(client, admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"  # every request arrives from the proxy
    for _ in range(5):
        client.post(
            LOGIN_URL,
            {"username": "door-admin", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    ok = {"username": "door-admin", "password": "correct-horse-9-battery"}
    other = client.post(LOGIN_URL, ok, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.67")
    assert other.status_code == 302  # another visitor behind the same proxy
    client.logout()
    same = client.post(LOGIN_URL, ok, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert same.status_code == 429


def test_a_reviewer_sees_and_lifts_a_lockout(client, admin_user, reviewer):
    for _ in range(5):
        attempt(client, "door-admin", "wrong", ip="198.51.100.9")
    ok = "correct-horse-9-battery"
    assert attempt(client, "door-admin", ok, ip="198.51.100.9").status_code == 429
    from axes.models import AccessAttempt
    from django.test import Client

    reviewing = Client()
    reviewing.force_login(reviewer)
    listing = reviewing.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "door-admin" in listing.content.decode()
    locked = AccessAttempt.objects.get(username="door-admin")
    delete_url = reverse("admin:axes_accessattempt_delete", args=[locked.pk])
    assert reviewing.post(delete_url, {"post": "yes"}).status_code == 302
    assert attempt(client, "door-admin", ok, ip="198.51.100.9").status_code == 302
