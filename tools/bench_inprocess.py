"""Part of `make bench`: every public page drawn in-process, cold and warm.

    DJANGO_SETTINGS_MODULE=bench_settings python tools/bench_inprocess.py [--list] [--repeat 20]

Run by tools/bench.py on its own database (production settings, DEBUG off).
For every public page (each published article and therapy, the lists, the
comparison with and without a selection, glossary, sources, about, updates)
it times `django.test.Client().get()`:

- **cold**: right after a publish, with every cache empty: the content
  version is bumped (as any save does, therapyinfo/cache.py) and every cache
  alias cleared before each request;
- **warm**: the same request again, Django's content cache filled.

It prints one line per page with the median of `--repeat` requests, and the
heaviest cold page last. `--list` prints the paths only (tools/bench.py
loads each of them with wrk, nginx bypassed).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def public_paths():
    from django.urls import reverse

    from therapyinfo.models import Article, Therapy

    articles = [a.get_absolute_url() for a in Article.objects.published().order_by("slug")]
    therapies = [t.get_absolute_url() for t in Therapy.objects.published().order_by("slug")]
    selection = ",".join(sorted(Therapy.objects.published().values_list("slug", flat=True))[:2])
    return [
        reverse("home"),
        reverse("articles"),
        *articles,
        reverse("therapies"),
        *therapies,
        reverse("compare"),
        f"{reverse('compare')}?therapies={selection}",
        reverse("glossary"),
        reverse("sources"),
        reverse("about"),
        reverse("updates"),
    ]


def timed_get(client, path):
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"{path}: HTTP {response.status_code}")
    return elapsed


def measure(path, repeat):
    from django.core.cache import caches
    from django.db import transaction
    from django.test import Client

    from therapyinfo.cache import bump_content_version

    client = Client(HTTP_HOST="localhost")  # an allowed host in bench's settings
    cold, warm = [], []
    for _ in range(repeat):
        with transaction.atomic():
            bump_content_version()
        for cache in caches.all():
            cache.clear()
        cold.append(timed_get(client, path))
        warm.append(timed_get(client, path))
    return statistics.median(cold), statistics.median(warm)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the public paths only")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (20)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    paths = public_paths()
    if args.list:
        print("\n".join(paths))
        return
    rows = [(path, *measure(path, args.repeat)) for path in paths]
    print(f"In-process, django.test.Client, median of {args.repeat} (ms):")
    print("| page | cold, after a publish | warm |")
    print("|---|---|---|")
    for path, cold, warm in rows:
        print(f"| `{path}` | {cold:.1f} | {warm:.1f} |")
    path, cold, _ = max(rows, key=lambda row: row[1])
    print(f"Heaviest page right after a publish: {path} {cold:.1f} ms median (target 15 ms)")


if __name__ == "__main__":
    main()
