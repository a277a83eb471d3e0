"""`make bench`: the front door and the app against Django's own floor, in one run.

    python tools/bench.py [--duration 10] [--rounds 3] [--port 8350] [--slow-seconds 60]

Starts one gunicorn (production settings: DEBUG off, 2 sync workers,
deploy/gunicorn_conf.py) on a throwaway SQLite database with the content
loaded, and nginx from deploy/nginx.conf in front of it, as `make serve`
does. gunicorn also serves the baseline (bench_urls.py): the same settings
and middleware, and a view returning a fixed page of the same size as the
page it is compared with, with no database or cache access.

For each page, wrk (`-t2 -c32`) loads the baseline (gunicorn) and then the
page, in turn, for `--rounds` rounds:

- cached pages through the front door (nginx answers them from its cache);
- the comparison with nginx's cache bypassed (gunicorn directly), the
  heaviest page to render. The app keeps no page: its template draws the
  page on every request, from the comparison's data and tables as kept in
  the content cache for the content version (therapyinfo/cache.py).

The table shows the median of the rounds and each figure's ratio to its
baseline (ratios are taken within a round, then the median). Then:

- slow clients: 200 sockets dribble a header line every 5 s at nginx for
  `--slow-seconds` (reconnecting when nginx drops them), while wrk (`-c8`)
  asks for /healthz through nginx (never cached: it reaches a worker);
- the cache-bypass flood (issue 20): wrk on 64 connections for
  `--flood-seconds`, half with forged session cookies on a cached page, half
  with percent-encoded selections of the comparison, every status counted by
  its Lua script; meanwhile a few paced visitors (VISITORS_SCRIPT) ask for
  cached pages and /healthz. Targets: their p99 under 50 ms (pages) and
  100 ms (/healthz), 0 errors, and 429s for the flood. `--flood-only` runs
  just this;
- Redis stopped: a second gunicorn with CACHE_URL pointing at a Redis that
  is not running; every public page, errors counted.

Before measuring it checks freshness across processes: an edit made by a
separate `manage.py shell` process shows on every worker within a second.
Every process it starts is stopped on exit, on Ctrl-C and on failure.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
BASE_DIR = TOOLS.parent
sys.path.insert(0, str(BASE_DIR / "deploy"))
from render_nginx import render  # noqa: E402

PYTHON = sys.executable
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKERS = 2
SLOW_CLIENTS = 200

# (name, path, "front" through nginx's cache, or "app": gunicorn, past nginx's cache)
PAGES = [
    ("home, front door", "/", "front"),
    ("article, front door", "/articles/ketamine-infusion-therapy/", "front"),
    ("therapy, front door", "/therapies/ketamine/", "front"),
    ("comparison, front door", "/compare/", "front"),
    ("comparison, drawn by the app", "/compare/", "app"),
]
PUBLIC = [
    "/",
    "/articles/ketamine-infusion-therapy/",
    "/therapies/ketamine/",
    "/compare/",
    "/compare/?therapies=ketamine,lsd",
    "/glossary/",
    "/sources/",
    "/about/",
    "/sitemap.xml",
]

EDIT = """
from therapyinfo.models import ComparisonCell
cell = ComparisonCell.objects.get(row__slug="onset", therapy__slug="ketamine",
                                  row__comparison__slug="ketamine-vs-psychedelics")
cell.text = {text!r}
cell.save()
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every page (3)")
    parser.add_argument("--port", type=int, default=8350, help="first of three ports (8350)")
    parser.add_argument(
        "--app-duration", type=int, default=4, help="seconds per wrk run, every page past nginx (4)"
    )
    parser.add_argument("--slow-seconds", type=int, default=60, help="slow-client run (60)")
    parser.add_argument("--flood-seconds", type=int, default=20, help="cache-bypass flood (20)")
    parser.add_argument(
        "--flood-only", action="store_true", help="only the cache-bypass flood (issue 20)"
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("make bench needs wrk: apt-get install wrk")

    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with ExitStack() as stack:
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="therapyinfo-bench-"))
        )
        env = production_env(workdir)
        prepare_database(env)
        app = stack.enter_context(Server(args.port, env))
        app.wait_until_up()
        # Its own directory: nginx's workers (nobody, when started as root) must enter it.
        nginx_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="therapyinfo-nginx-"))
        front = stack.enter_context(
            FrontDoor(args.port + 1, app, Path(nginx_dir), env["DJANGO_SECRET_KEY"])
        )
        front.wait_until_up()
        servers = {"app": app, "front": front}
        if args.flood_only:
            print(flood(front, args.flood_seconds))
            return
        check_freshness_across_processes(app, env)

        sizes = {path: len(fetch(app.url(path))) for _, path, _ in PAGES}
        results = {name: [] for name, _, _ in PAGES}
        print(f"wrk -t2 -c32 -d{args.duration}s, {args.rounds} rounds, {WORKERS} sync workers")
        for round_number in range(1, args.rounds + 1):
            for name, path, kind in PAGES:
                server = servers[kind]
                fetch(server.url(path))  # nginx has the page cached
                base = wrk(app.url(f"/_bench/baseline/{sizes[path]}/"), args.duration)
                page = wrk(server.url(path), args.duration)
                results[name].append((base, page))
                print(
                    f"  round {round_number} {name:<34} baseline {base['rps']:8.0f} req/s"
                    f"   page {page['rps']:8.0f} req/s   ({page['rps'] / base['rps']:.2f}x)",
                    flush=True,
                )
        print()
        print(table(results, sizes))
        print()
        print(app_pages(app, env, args))
        print()
        print(in_process(env))
        print()
        print(slow_clients(front, args.slow_seconds))
        print(flood(front, args.flood_seconds))
        print(redis_stopped(stack, args.port + 2, env))
        print(machine())


def production_env(workdir):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "GUNICORN_", "PYTHONPATH"))
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": str(TOOLS),
        "DJANGO_DEBUG": "off",
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def manage(env, *args, **kwargs):
    return subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, **kwargs)


def prepare_database(env):
    quiet = {"stdout": subprocess.DEVNULL}
    manage(env, "migrate", "--no-input", **quiet)
    started = time.perf_counter()
    manage(env, "load_content", **quiet)
    print(f"load_content on SQLite: {time.perf_counter() - started:.2f} s (process start included)")
    manage(env, "collectstatic", "--no-input", "--verbosity", "0", **quiet)
    manage(env, "render_error_pages", **quiet)


class Server:
    """gunicorn in its own process group, stopped (group and all) on exit."""

    def __init__(self, port, env):
        self.port, self.env = port, env
        self.process = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def command(self):
        env = {**self.env, "PORT": str(self.port), "WEB_CONCURRENCY": str(WORKERS)}
        return [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn_conf.py"], env

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        command, env = self.command()
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def wait_until_up(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                sys.exit(f"gunicorn on port {self.port} exited:\n{self.log.read().decode()}")
            try:
                fetch(self.url("/healthz"))
                return
            except OSError:
                time.sleep(0.2)
        sys.exit(f"gunicorn on port {self.port} did not answer within 30 s")

    def __exit__(self, *exc):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class FrontDoor(Server):
    """nginx from deploy/nginx.conf (as `make serve` renders it) in front of `app`."""

    def __init__(self, port, app, prefix, secret_key):
        super().__init__(port, {})
        self.conf = render(
            prefix,
            f"127.0.0.1:{port}",
            [f"127.0.0.1:{app.port}"],
            access_log=prefix / "access.log",
            secret_key=secret_key,
        )
        self.prefix = prefix

    def command(self):
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-e", "stderr"], None


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        if response.status != 200:
            raise OSError(f"{url}: HTTP {response.status}")
        return response.read()


def check_freshness_across_processes(server, env):
    """An edit made in another process shows on every worker within a second."""
    url = server.url("/compare/")
    for _ in range(WORKERS * 4):
        fetch(url)  # every worker has the old content version
    marker = f"Edited by the benchmark {time.time()}"
    manage(env, "shell", "-c", EDIT.format(text=marker))
    time.sleep(1.05)
    seen = [marker in fetch(url).decode() for _ in range(WORKERS * 8)]
    if not all(seen):
        sys.exit(f"FAIL: {seen.count(False)} of {len(seen)} responses still stale after 1 s")
    print(f"Freshness: an edit from another process was on all {len(seen)} responses after 1 s")


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, duration, connections=32, threads=2, script=None):
    """Requests/s, errors, and the 50th and 99th percentile latency in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script or "")
        lua.flush()
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
             *(["-s", lua.name] if script else []), url],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        errors = [
            line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket" in line
        ]
        print(f"    warning, {url}: {'; '.join(errors)}", flush=True)
    latency = {p: float(value) * UNITS[unit] for p, value, unit in LATENCY.findall(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": rps, "p50": latency["50"], "p99": latency["99"], "errors": errors}


def app_pages(app, env, args):
    """Every public page with nginx bypassed and Django's content cache warm,
    each against a baseline of its own size (shorter runs: there are many)."""
    listing = subprocess.run(
        [PYTHON, "tools/bench_inprocess.py", "--list"],
        cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    pages = [(f"{path}, drawn by the app", path) for path in listing.stdout.split()]
    sizes, results = {}, {name: [] for name, _ in pages}
    for _, path in pages:
        sizes[path] = len(fetch(app.url(path)))  # and Django's cache is filled
    print(
        f"Every public page past nginx: wrk -t2 -c32 -d{args.app_duration}s, {args.rounds} rounds"
    )
    for _ in range(args.rounds):
        for name, path in pages:
            base = wrk(app.url(f"/_bench/baseline/{sizes[path]}/"), args.app_duration)
            page = wrk(app.url(path), args.app_duration)
            results[name].append((base, page))
    worst = min(
        statistics.median(page["rps"] / base["rps"] for base, page in rounds)
        for rounds in results.values()
    )
    paths = {name: path for name, path in pages}
    lowest = f"Lowest ratio of any public page: {worst:.2f}x (target 0.25x)"
    return f"{table(results, sizes, paths)}\n{lowest}"


def in_process(env):
    """The cold (right after a publish) and warm in-process times of every page."""
    return subprocess.run(
        [PYTHON, "tools/bench_inprocess.py"],
        cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def table(results, sizes, paths=None):
    paths = paths or {name: path for name, path, _ in PAGES}
    header = (
        "| page | size | baseline req/s | page req/s | ratio | baseline p50 | page p50 "
        "| baseline p99 | page p99 | p99 ratio |"
    )
    lines = [header, "|---" * 10 + "|"]
    for name, rounds in results.items():

        def median(side, key, rounds=rounds):
            return statistics.median(r[side][key] for r in rounds)

        def ratio(key, rounds=rounds):
            return statistics.median(page[key] / base[key] for base, page in rounds)

        lines.append(
            f"| {name} | {sizes[paths[name]] / 1024:.1f} KB "
            f"| {median(0, 'rps'):.0f} | {median(1, 'rps'):.0f} | **{ratio('rps'):.2f}x** "
            f"| {median(0, 'p50'):.1f} ms | {median(1, 'p50'):.1f} ms "
            f"| {median(0, 'p99'):.1f} ms | {median(1, 'p99'):.1f} ms | **{ratio('p99'):.2f}x** |"
        )
    return "\n".join(lines)


def slow_clients(front, seconds):
    """Others' requests while SLOW_CLIENTS sockets dribble headers at nginx."""
    stop = threading.Event()
    address = ("127.0.0.1", front.port)

    def dribble():
        conns = []
        while not stop.is_set():
            while len(conns) < SLOW_CLIENTS:
                conn = socket.create_connection(address, timeout=5)
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                conns.append(conn)
            for conn in list(conns):
                try:
                    conn.sendall(b"X-Slow: 1\r\n")
                except OSError:  # nginx gave up on it (client_header_timeout): reconnect
                    conns.remove(conn)
                    conn.close()
            stop.wait(5)
        for conn in conns:
            conn.close()

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    time.sleep(1)
    try:
        result = wrk(front.url("/healthz"), seconds, connections=8)
    finally:
        stop.set()
        thread.join()
    return (
        f"Slow clients: {SLOW_CLIENTS} sockets dribbling headers for {seconds} s; others' "
        f"/healthz through nginx: {result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, "
        f"p99 {result['p99']:.1f} ms, {result['errors']} errors"
    )


FLOOD_SCRIPT = """
-- Half forged session cookies on a cached page, half percent-encoded
-- selections of the comparison; every answer's status is counted.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; statuses = {} end
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/compare/?therapies=k%65tamine,lsd&n=" .. n,
                      {["Cookie"] = "sessionid=forged" .. n})
  end
  return wrk.format("GET", "/therapies/ketamine/", {["Cookie"] = "sessionid=forged" .. n})
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d: %d\\n", status, count))
  end
end
"""


# Other visitors during the flood: a handful of people, each asking for a page
# 20 ms after the last one came (wrk's `delay`), about 200 requests/s in all,
# not a second flood at wrk's full speed. Their latency is what a visitor
# waits; the pause between requests is not counted in it.
VISITORS_SCRIPT = "delay = function() return 20 end\n"


def flood(front, seconds, connections=64):
    """A cache-bypass flood (forged session cookies, percent-encoded selections)
    on 64 connections, while other visitors ask for cached pages and /healthz."""
    visitor_paths = ["/", "/compare/?therapies=ketamine,lsd"]
    for path in [*visitor_paths, "/therapies/ketamine/"]:
        fetch(front.url(path))  # cached before the flood
    clients_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(FLOOD_SCRIPT)
        script.flush()
        flooder = subprocess.Popen(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
             front.url("/")],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1)
        results = {}
        for path in [*visitor_paths, "/healthz"]:
            results[path] = wrk(
                front.url(path), (seconds - 2) // 3, connections=4, threads=1,
                script=VISITORS_SCRIPT,
            )  # fmt: skip
        out = flooder.communicate()[0]
    # How much of the machine the load generators took themselves (wrk's own
    # CPU competes with nginx's on the same cores).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime) - (clients_cpu.ru_utime + clients_cpu.ru_stime)
    wrk_cores = wrk_cpu / (time.monotonic() - started)
    # The script counts every status: the forged cookies should get cache hits
    # (200), the percent-encoded selections a few redirects (301), then 429s.
    total = int(re.search(r"(\d+) requests in", out)[1])
    statuses = {int(code): int(n) for code, n in re.findall(r"^status (\d+): (\d+)$", out, re.M)}
    refused = statuses.get(429, 0)
    lines = [
        f"Flood: {connections} connections for {seconds} s, forged cookies and "
        f"percent-encoded selections: {total} requests; by status: "
        + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        + f"; wrk itself used {wrk_cores:.2f} of {os.cpu_count()} cores"
    ]
    for path, result in results.items():
        lines.append(
            f"  others' {path:<34} p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"{result['rps']:.0f} req/s, {result['errors']} errors"
        )
    pages_ok = all(
        results[path]["p99"] < 50 and not results[path]["errors"] for path in visitor_paths
    )
    health_ok = results["/healthz"]["p99"] < 100
    lines.append(
        f"  targets: cached p99 < 50 ms, 0 errors: {'met' if pages_ok else 'NOT met'}; "
        f"/healthz p99 < 100 ms: {'met' if health_ok else 'NOT met'}; "
        f"flood gets 429s: {'yes' if refused else 'NO'}"
    )
    return "\n".join(lines)


def redis_stopped(stack, port, env):
    """Every public page with CACHE_URL pointing at a Redis that is not running."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]  # nothing listens here once the probe is closed
    server = stack.enter_context(Server(port, {**env, "CACHE_URL": f"redis://127.0.0.1:{dead}/0"}))
    server.wait_until_up()
    total = errors = 0
    for path in PUBLIC:
        for _ in range(20):
            total += 1
            try:
                fetch(server.url(path))
            except (OSError, urllib.error.HTTPError):
                errors += 1
    with urllib.request.urlopen(server.url("/healthz"), timeout=10) as response:
        health = response.read().decode()
    return f"Redis stopped: {errors} errors in {total} public-page requests; /healthz: {health}"


def machine():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    # A busy machine skews absolute figures (and tails) more than ratios; say how busy.
    return f"\nMachine: {os.cpu_count()} cores ({cpu}), load average {load}, {when}"


if __name__ == "__main__":
    main()
