"""Raw requests through `make serve`'s front door: nginx (deploy/nginx.conf) in
front of gunicorn (deploy/gunicorn_conf.py), DEBUG off, on an SQLite file of
the real content. Each test is one hole an attacker found (issue 11), closed.

Runs on both passes of .ci/run: the servers bring their own database.
"""

import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import (  # noqa: F401
    BASE_DIR,
    NGINX,
    balancer,
    black_hole,
    fetch,
    free_port,
    front_door,
    gunicorn,
    production_env,
    site_database,
    visitor,
)


@pytest.fixture(scope="module", autouse=True)
def nginx_installed():
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("needs nginx (apt-get install nginx-light); CI runs these tests")


@pytest.fixture(scope="module")
def app(site_database):  # noqa: F811
    with gunicorn(site_database, workers=2) as server:
        yield server


@pytest.fixture(scope="module")
def door(app):
    with front_door(app) as server:
        yield server


def raw(server, request, read_timeout=10):
    """Send bytes as they are (no client library tidying them) and return the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lines = [line for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line]
    headers = dict(line.split(": ", 1) for line in lines)
    headers["X-Request-IDs"] = sum(line.startswith("X-Request-ID:") for line in lines)
    return status, headers, body.decode("utf-8", "replace")


def get(server, target, *extra_headers):
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *extra_headers]
    return raw(server, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def h1(body):
    return re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)[1].strip()


def test_a_script_name_header_cannot_change_what_a_page_shows(door, app):
    for server in (door, app):  # nginx drops it; gunicorn drops it too, if reached directly
        status, _, body = get(server, "/about/", "SCRIPT_NAME: /about", "Script-Name: /about")
        assert status == 200 and h1(body) == "About this site"
    status, _, body = get(door, "/about/")
    assert status == 200 and h1(body) == "About this site"
    assert 'href="/about/"' in body  # links not rewritten under a forged prefix


def test_forwarded_headers_from_a_visitor_cannot_poison_a_cached_page(door):
    forged = [
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Proto: https",
        "Forwarded: host=evil.example;proto=https",
        "X-Original-URL: /admin/",
    ]
    status, headers, _ = get(door, "/sources/", *forged)  # the first visit: stored
    assert status == 200 and headers["X-Cache"] == "MISS"
    status, headers, body = get(door, "/sources/")
    assert headers["X-Cache"] == "HIT"
    assert h1(body) == "Sources"
    assert '<link rel="canonical" href="http://127.0.0.1/sources/">' in body
    assert "evil.example" not in body and "https://127.0.0.1" not in body


def cache_entries(door):
    return sum(1 for path in (door.prefix / "cache").rglob("*") if path.is_file())


def test_query_parameters_a_page_does_not_read_add_no_cache_entries(door):
    get(door, "/therapies/ketamine/")
    before = cache_entries(door)
    for n in range(20):
        status, headers, body = get(door, f"/therapies/ketamine/?therapies=r{n}&utm_source={n}")
        assert status == 200 and headers["X-Cache"] == "HIT" and "Ketamine" in h1(body)
    assert cache_entries(door) == before


def test_accept_encoding_values_share_one_cached_copy(door):
    get(door, "/sources/", "Accept-Encoding: identity")
    before = cache_entries(door)
    for value in ["gzip", "", "br", *[f"made-up-{n}" for n in range(10)]]:
        status, headers, body = get(door, "/sources/", f"Accept-Encoding: {value}")
        assert status == 200 and headers["X-Cache"] == "HIT", value
        if value == "gzip":
            assert headers["Content-Encoding"] == "gzip"  # nginx compresses for the client
        else:
            assert "Content-Encoding" not in headers and h1(body) == "Sources"
    assert cache_entries(door) == before


def test_the_comparison_is_keyed_on_exactly_the_parameter_it_reads(door):
    get(door, "/compare/")
    _, headers, full = get(door, "/compare/")
    assert headers["X-Cache"] == "HIT"  # no selection: stored like any page
    _, _, picked = get(door, "/compare/?therapies=ketamine,lsd&junk=1")
    assert "Psilocybin" in full and picked.count('<th scope="col"') < full.count('<th scope="col"')
    # Spellings nginx and Django might read differently give the page the key says.
    for target in [
        "/compare/?THERAPIES=ketamine,lsd",
        "/compare/?therapies=ketamine,lsd&therapies=psilocybin,ketamine",
    ]:
        status, _, body = get(door, target)
        assert status == 200
        assert body.count('<th scope="col"') == picked.count('<th scope="col"'), target
    status, headers, body = get(door, "/compare/?therapies=nope,lsd")
    assert status == 400 and "not a therapy this comparison has" in body and "nope" not in body
    assert headers.get("X-Cache") != "HIT"


def test_a_large_upload_is_refused_by_nginx_before_the_app_sees_it(door, app):
    head = (
        "POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, _, _ = raw(door, head + b"x" * 65536)
    assert status == 413
    assert "/admin/login/" not in app.log()  # gunicorn never saw it


@pytest.mark.parametrize("path", ["/articles/%E2%80%AE/", "/%E2%80%AE", "/therapies/%FF/"])
def test_a_path_django_cannot_encode_is_a_404_not_a_500(door, app, path):
    for server in (door, app):
        status, _, body = get(server, path)
        assert status == 404, (server.url, path)
        assert "Page not found" in body or "not found" in body.lower()


def test_a_newline_in_the_path_cannot_forge_a_log_line(door, app):
    status, _, _ = get(door, "/about/%0A2026-11-26%20INFO%20forged%20line")
    assert status == 404
    time.sleep(0.3)
    for log in (app.log(), (door.prefix / "access.log").read_text()):
        assert "forged line" in log.replace("\\x20", " ").replace("%20", " ")
        assert not any(line.startswith("2026-11-26 INFO forged") for line in log.splitlines())


def test_request_limits_hold_whether_or_not_the_page_is_cached(door):
    assert get(door, "/")[0] == 200
    assert get(door, "/")[1]["X-Cache"] == "HIT"
    status, _, _ = get(door, "/?x=" + "a" * 5000)
    assert status == 414
    status, _, _ = get(door, "/glossary/?x=" + "a" * 5000)  # not cached yet
    assert status == 414


def test_public_pages_are_cached_staff_and_the_admin_never(door):
    get(door, "/glossary/")
    status, headers, _ = get(door, "/glossary/")
    assert headers["X-Cache"] == "HIT"
    assert headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    # A hit has this request's own id, once (not the id stored with the page).
    _, again, _ = get(door, "/glossary/")
    assert again["X-Request-ID"] != headers["X-Request-ID"]
    assert again["X-Request-IDs"] == 1
    # A made-up session cookie is an anonymous visitor: answered from the cache.
    _, forged, _ = get(door, "/glossary/", "Cookie: sessionid=abc; staff_pass=x.1")
    assert forged["X-Cache"] == "HIT"
    _, login, _ = get(door, "/admin/login/")
    assert "X-Cache" not in login and "Set-Cookie" in login
    _, health, _ = get(door, "/healthz")
    assert "X-Cache" not in health and "no-store" in health["Cache-Control"]


PENDING_SUMMARY = "A pending summary only signed-in staff can preview."

# Run in the servers' own database and secret key: a reviewer with a session,
# and a pending revision of the ketamine page (as an editor's admin save makes).
MAKE_PENDING_REVISION = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from therapyinfo import revisions
from therapyinfo.models import Therapy
user = get_user_model().objects.create_superuser("door-reviewer", "r@example.org", None)
ketamine = Therapy.objects.get(slug="ketamine")
data = revisions.snapshot_of(ketamine)
data["fields"]["summary"] = {PENDING_SUMMARY!r}
revision = revisions.Revision.record(ketamine, data, author=user)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
from therapyinfo.frontdoor import staff_cookie_value
from django.conf import settings
import time
staff_pass = staff_cookie_value(session.session_key, int(time.time()) + 600, settings.SECRET_KEY)
print(session.session_key, staff_pass, revision.pk)
"""


def test_a_reviewer_previews_a_pending_revision_through_the_front_door(door, site_database):  # noqa: F811
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", MAKE_PENDING_REVISION],
        cwd=BASE_DIR,
        env=production_env(site_database),
        check=True,
        capture_output=True,
        text=True,
    )
    session_key, staff_pass, revision_id = made.stdout.split()[-3:]
    preview = f"/therapies/ketamine/?revision={revision_id}"
    # The public, and anyone without a session, keep seeing the live page.
    for _ in range(2):
        status, headers, body = get(door, preview)
        assert status == 200 and PENDING_SUMMARY not in body
    assert headers["X-Cache"] == "HIT"  # the anonymous key ignores ?revision=
    # The signed-in reviewer gets the revision at the page's own address.
    # A session cookie alone is not enough for nginx to bypass its cache.
    assert get(door, preview, f"Cookie: sessionid={session_key}")[1]["X-Cache"] == "HIT"
    cookies = f"Cookie: sessionid={session_key}; staff_pass={staff_pass}"
    status, headers, body = get(door, preview, cookies)
    assert status == 200 and PENDING_SUMMARY in body
    assert headers["X-Cache"] == "BYPASS" and "private" in headers["Cache-Control"]
    # Nothing was stored: the next visitor still gets the live page.
    assert PENDING_SUMMARY not in get(door, "/therapies/ketamine/")[2]


def test_static_files_come_from_nginx_compressed_and_cached_for_a_year(door):
    _, _, home = get(door, "/")
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home)[1]
    status, headers, _ = get(door, css, "Accept-Encoding: gzip")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert (
        "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]
    )


def test_slow_clients_hold_nginx_connections_never_the_app_workers(door):
    """60 clients each dribble a header line every second (loopback only, 5 s):
    with 2 sync workers, anyone else's request must still be answered at once."""
    slow = []
    try:
        for _ in range(60):
            conn = socket.create_connection(door.url.removeprefix("http://").split(":"), timeout=5)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(conn)
        timings = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for conn in slow:
                conn.sendall(b"X-Slow: 1\r\n")
            for path in ["/healthz", "/about/?fresh"]:
                started = time.monotonic()
                assert fetch(door.url + path).status == 200
                timings.append(time.monotonic() - started)
            time.sleep(1)
        assert max(timings) < 1.0, max(timings)
    finally:
        for conn in slow:
            conn.close()


def test_make_serve_runs_nginx_in_front_of_gunicorn_and_ctrl_c_stops_both(site_database):  # noqa: F811
    port = free_port()
    env = production_env(site_database, PORT=str(port), WEB_CONCURRENCY="1")
    serve = subprocess.Popen(
        ["bash", "deploy/serve.sh"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, serve.stdout.read()
            try:
                if fetch(f"http://127.0.0.1:{port}/healthz").status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "make serve did not answer"
                time.sleep(0.3)
        fetch(f"http://127.0.0.1:{port}/about/")
        about = fetch(f"http://127.0.0.1:{port}/about/")
        assert about.status == 200 and about.headers["X-Cache"] == "HIT"  # nginx answered
        run_dir = re.search(r"gunicorn at (/tmp/\S+)/gunicorn\.sock", _read_until(serve, "Ctrl-C"))
        # SIGTERM, which serve.sh traps like Ctrl-C's SIGINT: a shell that runs
        # the suite in the background makes its children ignore SIGINT.
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) is not None
        time.sleep(0.5)
        with pytest.raises(OSError):
            fetch(f"http://127.0.0.1:{port}/healthz")
        assert not Path(run_dir[1]).exists()
        leftover = subprocess.run(["pgrep", "-s", str(serve.pid)], capture_output=True, text=True)
        assert leftover.stdout.strip() == "", "a process of make serve outlived Ctrl-C"
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _read_until(process, marker):
    text = ""
    while marker not in text:
        line = process.stdout.readline()
        assert line, text
        text += line
    return text


def test_forged_cookies_and_odd_spellings_add_no_entries_and_meet_a_rate_limit(door):
    get(door, "/compare/?therapies=ketamine,lsd")
    before = cache_entries(door)
    statuses = []
    for n in range(60):  # bounded: well past the gate's burst
        forged = f"Cookie: sessionid=forged{n}; staff_pass=AAAAAAAAAAAAAAAAAAAAAA.9999999999"
        status, headers, _ = get(door, "/compare/?therapies=ketamine,lsd", forged)
        assert status == 200 and headers["X-Cache"] == "HIT"  # a forged cookie bypasses nothing
        # Percent-encodings the app reads as the canonical selection (200),
        # one it reads as another order (301), one that is no therapy (400).
        spelling = ["k%65tamine,lsd", "ketamin%65,lsd", "lsd,k%65tamine", "k%41tamine,lsd"][n % 4]
        status, headers, body = get(door, f"/compare/?therapies={spelling}")
        assert headers.get("X-Cache") in (None, "BYPASS"), spelling
        statuses.append(status)
        if status == 429:
            assert "Too many requests" in body and 'href="tel:988"' in body
            assert "no-store" in headers["Cache-Control"]
    assert 429 in statuses and set(statuses) <= {200, 301, 400, 429}
    assert cache_entries(door) == before
    # Other visitors' cached pages and the health check are not limited.
    assert get(door, "/compare/?therapies=ketamine,lsd")[0] == 200
    assert get(door, "/healthz")[0] == 200
    # The limit refills (10 a second): wait for it, so later tests start afresh.
    deadline = time.monotonic() + 10
    while get(door, "/compare/?therapies=k%65tamine,lsd")[0] == 429:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    time.sleep(4)


def test_nginx_own_errors_are_the_site_pages_with_crisis_lines_and_headers(door, app):
    _, app_headers, _ = get(app, "/about/")
    cases = [
        (
            "GET /?x=" + "a" * 5000 + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            414,
        ),
        (
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX: "
            + "b" * 9000
            + "\r\n\r\n",
            400,
        ),
        ("GARBAGE\r\n\r\n", 400),
    ]
    for request, expected in cases:
        status, headers, body = raw(door, request.encode())
        assert status == expected
        assert 'href="tel:988"' in body and "Samaritans" in body
        assert "nginx" not in body.lower()
        for name in ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"):
            assert headers[name] == app_headers[name], name


def test_the_manifest_is_not_public_and_robots_names_no_admin(door):
    assert get(door, "/static/staticfiles.json")[0] == 404
    _, _, robots = get(door, "/robots.txt")
    assert "admin" not in robots


def test_a_port_in_host_survives_into_absolute_urls(door):
    port = door.url.rsplit(":", 1)[1]
    lines = ["GET /sources/?p HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    _, _, body = raw(door, ("\r\n".join(lines) + "\r\n\r\n").encode())
    assert f'<link rel="canonical" href="http://127.0.0.1:{port}/sources/">' in body, re.findall(
        r"<link rel=.canonical[^>]*>", body
    )


def test_a_full_cache_disk_keeps_pages_served_and_fails_the_health_check(site_database, tmp_path):  # noqa: F811
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny disk needs root (CI runs as root)")
    disk = tmp_path / "cache"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], check=True)
    try:
        with (
            gunicorn(site_database, FRONT_DOOR_CACHE_DIR=str(disk)) as app,
            front_door(app, cache_dir=disk) as door,
        ):
            assert door.get("/healthz").status == 200
            with open(disk / "filler", "wb") as filler, pytest.raises(OSError):
                for _ in range(64):  # bounded: 64 x 16 KB is past the 512 KB disk
                    filler.write(b"x" * 16384)
                    filler.flush()
                    os.fsync(filler.fileno())
            for path in ["/", "/therapies/ketamine/", "/compare/", "/glossary/"]:
                response = door.get(path)
                assert response.status == 200, path
                assert "Get help now" in response.body
            health = door.get("/healthz")
            assert health.status == 503 and "cache not writable" in health.body
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_cache_that_never_answers_leaves_the_health_check_quick_and_degraded(site_database):  # noqa: F811
    """A Redis that accepts connections and never answers (CACHE_URL): each
    /healthz still answers within a second or two, saying the cache is
    degraded, and a handful at once do not starve the two workers."""
    with (
        black_hole() as port,
        gunicorn(site_database, workers=2, CACHE_URL=f"redis://127.0.0.1:{port}/0") as app,
        front_door(app) as door,
    ):
        started = time.monotonic()
        health = door.get("/healthz")
        assert time.monotonic() - started < 2.0
        assert health.status == 200 and json.loads(health.body) == {
            "status": "ok",
            "cache": "degraded",
        }
        # Four at once on two workers: each waits for at most one other.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            started = time.monotonic()
            answers = list(pool.map(lambda _: door.get("/healthz"), range(4)))
            assert time.monotonic() - started < 4.0
        assert [answer.status for answer in answers] == [200] * 4
        # Pages are still served (from the app: a cache error is a miss).
        assert door.get("/about/").status == 200


def _kill_the_worker_serving(door, requests_log, method):
    """Ask for /slow/, kill -9 the worker as soon as it has the request, and
    return the visitor's answer and what reached the app (method, pid)."""
    requests_log.write_text("")
    data = {"x": "1"} if method == "POST" else None
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(door.get, "/slow/", data=data)
        deadline = time.monotonic() + 10
        while not requests_log.read_text():
            assert time.monotonic() < deadline, "the slow page never reached a worker"
            time.sleep(0.02)
        os.kill(int(requests_log.read_text().split()[1]), signal.SIGKILL)
        response = answer.result(timeout=30)
    return response, [line.split() for line in requests_log.read_text().splitlines()]


def test_a_get_whose_worker_is_killed_is_retried_once_a_post_never(site_database, tmp_path):  # noqa: F811
    requests_log = tmp_path / "requests.log"
    with (
        gunicorn(
            site_database,
            workers=2,
            DJANGO_SETTINGS_MODULE="tests.slow_settings",  # adds /slow/ (tests/slow_urls.py)
            SLOW_PAGE_LOG=str(requests_log),
            SLOW_PAGE_SECONDS="1",
        ) as app,
        front_door(app) as door,
    ):
        # The visitor gets the page: nginx sent the GET once more, to another worker.
        response, reached = _kill_the_worker_serving(door, requests_log, "GET")
        assert response.status == 200 and response.body == "slow page done (GET)"
        assert [method for method, _ in reached] == ["GET", "GET"]
        assert reached[0][1] != reached[1][1]
        # A POST may already have done its work: never sent twice. The visitor
        # gets the site's 502 page, with the crisis lines.
        response, reached = _kill_the_worker_serving(door, requests_log, "POST")
        assert response.status == 502 and 'href="tel:988"' in response.body
        assert "nginx" not in response.body.lower()
        assert [method for method, _ in reached] == ["POST"]


BALANCER_ADDRESS = "127.0.0.2"  # the balancer reaches the front door from here


def _sign_in(balancer, source, username, password, forged_for=None):
    """A visitor at `source` signs in through the balancer, as a browser on
    https would: every answer until the admin home, as (status, Location)."""
    opener = visitor(source)
    extra = {"X-Forwarded-For": forged_for} if forged_for else {}
    steps = []
    response = fetch(f"{balancer.url}/admin/", opener=opener, headers=extra)
    steps.append((response.status, response.headers.get("Location")))
    login = fetch(f"{balancer.url}/admin/login/?next=/admin/", opener=opener, headers=extra)
    steps.append((login.status, None))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.body)[1]
    response = fetch(
        f"{balancer.url}/admin/login/?next=/admin/",
        {"csrfmiddlewaretoken": token, "username": username, "password": password},
        opener=opener,
        # What a browser sends from https://<the site>/: the app, told the
        # request came over https, must find the origin its own.
        headers={**extra, "Origin": "https://127.0.0.1"},
    )
    steps.append((response.status, response.headers.get("Location")))
    if response.status == 302:
        home = fetch(f"{balancer.url}{response.headers['Location']}", opener=opener, headers=extra)
        steps.append((home.status, "Editorial home" in home.body))
    return steps, response


def test_behind_a_load_balancer_sign_in_lands_once_and_lockouts_count_the_visitor(
    site_database,  # noqa: F811
):
    """The README's load-balancer layout: a balancer that terminates TLS (here
    a second nginx, TLS-less, saying X-Forwarded-Proto: https) in front of the
    front door, which trusts it (FRONT_DOOR_TRUSTED_PROXIES), with the app's
    TLS settings on. Visitors at 127.0.0.3 and 127.0.0.4."""
    subprocess.run(
        [sys.executable, "manage.py", "add_staff", "lb-editor", "--role", "editor"],
        cwd=BASE_DIR,
        env=production_env(site_database, DJANGO_STAFF_PASSWORD="balanced-9-horse-staple"),
        check=True,
        capture_output=True,
    )
    tls = {
        "DJANGO_BEHIND_TLS_PROXY": "on",
        "DJANGO_SECURE_SSL_REDIRECT": "on",
        "DJANGO_SECURE_COOKIES": "on",
        # As serve.sh sets it: nginx names the visitor in X-Forwarded-For.
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
    }
    with (
        # /healthz answers over plain http (SECURE_REDIRECT_EXEMPT); pages are sent to https.
        gunicorn(site_database, **tls) as app,
        front_door(app, trusted_proxies=[BALANCER_ADDRESS]) as door,
        balancer(door, BALANCER_ADDRESS) as lb,
    ):
        # Through the balancer: no redirect to https (the app knows it is on
        # https); the login page, then the admin home, each once.
        steps, _ = _sign_in(lb, "127.0.0.3", "lb-editor", "balanced-9-horse-staple")
        assert steps == [
            (302, "/admin/login/?next=/admin/"),
            (200, None),
            (302, "/admin/"),
            (200, True),
        ]
        about = lb.get("/about/")
        assert '<link rel="canonical" href="https://127.0.0.1/about/">' in about.body

        # Straight to the front door, the same headers from anyone else are
        # not believed: sent to https, and logged under the sender's address.
        direct = door.get(
            "/admin/login/",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.99"},
        )
        assert direct.status == 301
        assert direct.headers["Location"].startswith("https://127.0.0.1")
        time.sleep(0.3)
        access_log = (door.prefix / "access.log").read_text()
        assert "192.0.2.99" not in access_log
        assert any(line.startswith("127.0.0.3 ") for line in access_log.splitlines())
        assert not any(line.startswith(BALANCER_ADDRESS) for line in access_log.splitlines())

        # Five failures from 127.0.0.3, which claims to be 127.0.0.4: that
        # pair is paused, and the claim, passed on by the balancer, changes
        # nothing; the same user at 127.0.0.4 still signs in.
        for _ in range(4):
            steps, failed = _sign_in(lb, "127.0.0.3", "lb-editor", "wrong", forged_for="127.0.0.4")
            assert steps[-1] == (200, None) and "Please enter the correct" in failed.body
        # The fifth failure pauses sign-in, with the app's own explanation (not
        # the front door's rate-limit page, though both are 429s).
        steps, paused = _sign_in(lb, "127.0.0.3", "lb-editor", "wrong", forged_for="127.0.0.4")
        assert steps[-1] == (429, None) and "Sign-in paused" in paused.body
        steps, paused = _sign_in(lb, "127.0.0.3", "lb-editor", "balanced-9-horse-staple")
        assert steps[-1] == (429, None) and "Sign-in paused" in paused.body
        steps, _ = _sign_in(lb, "127.0.0.4", "lb-editor", "balanced-9-horse-staple")
        assert steps[-1] == (200, True)


def test_a_pathological_paste_in_the_live_preview_answers_quickly(door, site_database):  # noqa: F811
    """An editor pastes 5,000 "[" (or "<a"): the preview, through the front
    door, answers within a generous bound (tests/test_markup_bounds.py: saving)."""
    subprocess.run(
        [sys.executable, "manage.py", "add_staff", "md-editor", "--role", "editor"],
        cwd=BASE_DIR,
        env=production_env(site_database, DJANGO_STAFF_PASSWORD="pasted-9-bracket-storm"),
        check=True,
        capture_output=True,
    )
    opener = door.admin_login("md-editor", "pasted-9-bracket-storm")
    token = next(cookie.value for cookie in door.cookies if cookie.name == "csrftoken")
    for text in ["[" * 5000, "[](" * 1700, "<a" * 5000]:
        started = time.monotonic()
        response = fetch(
            f"{door.url}/admin/markdown-preview/",
            {"text": text, "csrfmiddlewaretoken": token},
            opener=opener,
        )
        assert time.monotonic() - started < 2.0, text[:4]
        assert response.status == 200 and json.loads(response.body)["html"].startswith("<p>")
