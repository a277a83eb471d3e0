"""`make bench`: public pages against Django's own floor, measured in one run.

    python -m therapyinfo.bench [--duration 10] [--rounds 3] [--port 8150]

Starts two gunicorn servers with production settings (DEBUG off, a secret
key, collected static files, 2 sync workers) on a throwaway SQLite database
with the content loaded: one with the page cache on (local memory, the
default) and one with it off (`CACHE_URL=dummycache://`). Both also serve the
baseline from `bench_urls.py`: the same settings and middleware, and a view
returning a fixed page of the same size as the page it is compared with, with
no database or cache access.

For each page, wrk (`-t2 -c32`) loads the baseline and then the page, in
turn, for `--rounds` rounds; the table shows the median of the rounds and each
figure's ratio to its baseline (ratios are taken within a round, then the
median). Absolute numbers drift on a shared machine; ratios measured side by
side do not, much.

Before measuring it checks the cache is right across processes: an edit
made by a separate `manage.py shell` process shows on every worker of the
cached server within a second.

Every process it starts is stopped on exit, on Ctrl-C and on failure.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WORKERS = 2

PAGES = [
    ("home", "/", "cached"),
    ("article", "/articles/ketamine-infusion-therapy/", "cached"),
    ("therapy", "/therapies/ketamine/", "cached"),
    ("comparison", "/compare/", "cached"),
    ("comparison, cache off", "/compare/", "uncached"),
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
    parser.add_argument("--port", type=int, default=8150, help="first of two ports (8150)")
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
        servers = {
            "cached": stack.enter_context(Server(args.port, env)),
            "uncached": stack.enter_context(
                Server(args.port + 1, {**env, "CACHE_URL": "dummycache://"})
            ),
        }
        for server in servers.values():
            server.wait_until_up()
        check_freshness_across_processes(servers["cached"], env)

        sizes = {path: len(fetch(servers["cached"].url(path))) for _, path, _ in PAGES}
        results = {name: [] for name, _, _ in PAGES}
        print(f"wrk -t2 -c32 -d{args.duration}s, {args.rounds} rounds, {WORKERS} sync workers")
        for round_number in range(1, args.rounds + 1):
            for name, path, kind in PAGES:
                server = servers[kind]
                for _ in range(WORKERS * 4):  # every worker has the page cached
                    fetch(server.url(path))
                base = wrk(server.url(f"/_bench/baseline/{sizes[path]}/"), args.duration)
                page = wrk(server.url(path), args.duration)
                results[name].append((base, page))
                print(
                    f"  round {round_number} {name:<22} baseline {base['rps']:8.0f} req/s"
                    f"   page {page['rps']:8.0f} req/s   ({page['rps'] / base['rps']:.2f}x)",
                    flush=True,
                )
        print()
        print(table(results, sizes))
        print(machine())


def production_env(workdir):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "THERAPYINFO_"))
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "therapyinfo.settings",
        "DJANGO_DEBUG": "off",
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "THERAPYINFO_BENCH_BASELINE": "on",
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


class Server:
    """gunicorn in its own process group, stopped (group and all) on exit."""

    def __init__(self, port, env):
        self.port, self.env = port, env
        self.process = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "therapyinfo.wsgi:application",
             "--workers", str(WORKERS), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
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


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        if response.status != 200:
            raise OSError(f"{url}: HTTP {response.status}")
        return response.read()


def check_freshness_across_processes(server, env):
    """An edit made in another process shows on every worker within a second."""
    url = server.url("/compare/")
    for _ in range(WORKERS * 4):
        fetch(url)  # every worker has the old page cached
    marker = f"Edited by the benchmark {time.time()}"
    manage(env, "shell", "-c", EDIT.format(text=marker))
    time.sleep(1.05)
    seen = [marker in fetch(url).decode() for _ in range(WORKERS * 8)]
    if not all(seen):
        sys.exit(f"FAIL: {seen.count(False)} of {len(seen)} responses still stale after 1 s")
    print(f"Freshness: an edit from another process was on all {len(seen)} responses after 1 s")


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, duration):
    """Requests/s and the 50th and 99th percentile latency in ms; fails on any error."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        errors = [
            line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket" in line
        ]
        print(f"    warning, {url}: {'; '.join(errors)}", flush=True)
    latency = {p: float(value) * UNITS[unit] for p, value, unit in LATENCY.findall(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    return {"rps": rps, "p50": latency["50"], "p99": latency["99"]}


def table(results, sizes):
    paths = {name: path for name, path, _ in PAGES}
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
