"""Real nginx and gunicorn processes, and the real PostgreSQL, for the tests
that need more than Django's test client: the front door (deploy/nginx.conf),
a database outage and several app servers. Every server listens on a free
port picked by the system, so parallel runs never collide.

The outage and scale tests run against pytest-django's test database on
PostgreSQL (the second pass of .ci/run); on SQLite that database lives in one
process's memory, so they skip there, saying why. The front-door tests bring
their own SQLite file (`site_database`) and run on both passes.
"""

import contextlib
import functools
import html
import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
sys.path.insert(0, str(BASE_DIR / "deploy"))
from render_nginx import render  # noqa: E402


def free_port():
    """A port nothing listens on now (the system picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def black_hole():
    """A loopback TCP listener that accepts connections and never answers
    (a hung Redis, say); yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # the kernel accepts: the connection is made, nothing is read
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def postgresql_url():
    """The test database's URL, for other processes; skip unless it is PostgreSQL."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "needs a database shared between processes: run with DATABASE_URL=postgres://... "
            "(the PostgreSQL pass of .ci/run does)"
        )
    assert db["NAME"].startswith("test_"), f"not a test database: {db['NAME']}"
    user, password = (urllib.parse.quote(db[key], safe="") for key in ("USER", "PASSWORD"))
    return f"postgres://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def pg(command):
    """Run `.ci/pg <command>` on the server in $PGDATA_DIR (as .ci/run exports it)."""
    return subprocess.run(
        ["bash", ".ci/pg", command],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()


def require_pg_control():
    """Make sure `.ci/pg` controls the very server the tests use, before stopping it."""
    port = str(settings.DATABASES["default"]["PORT"])
    if not os.environ.get("PGDATA_DIR"):
        message = (
            "PGDATA_DIR is not set, so .ci/pg cannot be sure which PostgreSQL to stop "
            "(.ci/run exports it; locally: PGDATA_DIR=... PGPORT=... make test)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    url = pg("status")
    assert url.endswith(f":{port}/therapyinfo"), (
        f".ci/pg controls {url}, but the tests use port {port}; refusing to stop it"
    )


@dataclass
class Response:
    status: int
    headers: dict
    body: str


def fetch(url, data=None, opener=None, headers=None):
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers=headers or {},
    )
    opener = opener or urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return Response(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read().decode())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: str
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def get(self, path, **kwargs):
        return fetch(self.url + path, **kwargs)

    def log(self):
        return Path(self.log_path).read_text()

    def session(self):
        """An opener that keeps cookies (for the admin) and does not follow redirects."""
        return urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def admin_login(self, username, password):
        opener = self.session()
        login = f"{self.url}/{settings.ADMIN_URL}login/"
        page = fetch(login, opener=opener)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
        response = fetch(
            login,
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
            opener=opener,
        )
        assert response.status == 302, response.body[:500]
        return opener

    def admin_post(self, opener, path, data):
        """Post an admin form the way a browser would: with the form's CSRF token
        and the version it was opened at (its hidden `edit_token`, if it has one)."""
        form = fetch(self.url + path, opener=opener)
        hidden = {
            name: html.unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="(csrfmiddlewaretoken|edit_token)" value="([^"]*)"',
                form.body,
            )
        }
        return fetch(self.url + path, {**hidden, **data}, opener=opener)


@pytest.fixture(scope="session")
def site_database(tmp_path_factory):
    """An SQLite file with the content loaded, for server processes."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'db.sqlite3'}"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": url}
    commands = (
        ["migrate", "--no-input"],
        ["load_content"],
        ["collectstatic", "--no-input"],
        ["render_error_pages"],
    )
    for command in commands:
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
    return url


SERVER_SECRET_KEY = "server-test-" + "k" * 40


def production_env(database_url, **extra):
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SECRET_KEY": SERVER_SECRET_KEY,
        "DJANGO_DEBUG": "off",
        "DATABASE_URL": database_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        **extra,
    }


@contextlib.contextmanager
def gunicorn(database_url, workers=2, health=200, **env):
    """A production-style gunicorn (deploy/gunicorn_conf.py, DEBUG off) on a free port,
    up once /healthz answers `health` (503 for one started during an outage)."""
    port = free_port()
    env = production_env(database_url, PORT=str(port), WEB_CONCURRENCY=str(workers), **env)
    with tempfile.NamedTemporaryFile("w", prefix=f"gunicorn-{port}-", suffix=".log") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn_conf.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}", process, log.name)
        try:
            wait_until_up(server, "gunicorn", health)
            yield server
        finally:
            stop(process)


@contextlib.contextmanager
def front_door(*app_servers, port=None, health=200, **options):
    """nginx from deploy/nginx.conf on a free port (or `port`, to restart one),
    in front of the given gunicorns (`options`: render_nginx.render's cache_dir,
    trusted_proxies)."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix=f"nginx-{port}-") as prefix:
        conf = render(
            prefix,
            f"127.0.0.1:{port}",
            [app.url.removeprefix("http://") for app in app_servers],
            access_log=f"{prefix}/access.log",
            secret_key=SERVER_SECRET_KEY,
            **options,
        )
        log_path = f"{prefix}/error.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [NGINX, "-p", prefix, "-c", str(conf), "-e", "stderr"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log_path)
        server.prefix = Path(prefix)
        try:
            wait_until_up(server, "nginx", health)
            yield server
        finally:
            stop(process)


@contextlib.contextmanager
def persistent_cache_dir():
    """A page cache folder that outlives front doors (as FRONT_DOOR_CACHE_DIR
    does), writable by nginx's workers (nobody, when run as root)."""
    with tempfile.TemporaryDirectory(prefix="nginx-cache-") as folder:
        if os.geteuid() == 0:
            shutil.chown(folder, "nobody", "nogroup")
        yield Path(folder)


# The load balancer's template: a TLS-less stand-in for one that terminates TLS,
# saying so (X-Forwarded-Proto: https) and naming the visitor (X-Forwarded-For).
BALANCER_CONF = """
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy_temp;
    fastcgi_temp_path {prefix}/fastcgi_temp;
    uwsgi_temp_path {prefix}/uwsgi_temp;
    scgi_temp_path {prefix}/scgi_temp;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {front};
            proxy_bind {source};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@contextlib.contextmanager
def balancer(front, source):
    """A second nginx in front of `front`, as a load balancer: it reaches the
    front door from the loopback address `source` (127.0.0.2, say), so the
    front door can trust it and no one else."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"balancer-{port}-") as prefix:
        if os.geteuid() == 0:
            os.chmod(prefix, 0o711)  # its workers (nobody) keep buffers here
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(
            BALANCER_CONF.format(prefix=prefix, port=port, front=front.url, source=source)
        )
        log_path = f"{prefix}/error.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [NGINX, "-p", prefix, "-c", str(conf), "-e", "stderr"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log_path)
        try:
            wait_until_up(server, "the balancer", health=None)
            yield server
        finally:
            stop(process)


class _SecureCookiesOverHttp(http.cookiejar.DefaultCookiePolicy):
    """The balancer stands in for one that speaks https to the visitor: its
    Secure cookies go back to it, as a browser's would over TLS."""

    def return_ok_secure(self, cookie, request):
        return True


def visitor(source):
    """An opener for a visitor at the loopback address `source` (127.0.0.3, say),
    keeping cookies and not following redirects."""

    class FromSource(urllib.request.HTTPHandler):
        def http_open(self, request):
            connection = functools.partial(http.client.HTTPConnection, source_address=(source, 0))
            return self.do_open(connection, request)

    jar = http.cookiejar.CookieJar(policy=_SecureCookiesOverHttp())
    return urllib.request.build_opener(
        FromSource, urllib.request.HTTPCookieProcessor(jar), NoRedirect
    )


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_up(server, name, health=200):
    deadline = time.monotonic() + 60
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"{name} at {server.url} exited:\n{server.log()}")
        try:
            status = server.get("/healthz").status
            if health is None or status == health:  # None: any answer at all
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} at {server.url} did not answer:\n{server.log()}")
        time.sleep(0.2)
