"""The site's URLs plus the `make bench` baseline (tools/bench_settings.py mounts
them; the site never does).

The baseline is Django's floor for this site: the same settings and the same
middleware, and a view that returns a fixed page of a given size with no
database or cache access. `/_bench/baseline/<size>/` lets the benchmark match
each page's own size; it is not a public page, so it is never marked cacheable.
"""

from functools import lru_cache

from django.http import HttpResponse
from django.urls import path

from therapyinfo.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401


@lru_cache(maxsize=16)
def fixed_page(size):
    head = b"<!doctype html><html lang=en><title>baseline</title><p>"
    return head + b"x" * max(size - len(head), 0)


def baseline(request, size):
    return HttpResponse(fixed_page(size), content_type="text/html; charset=utf-8")


urlpatterns = [path("_bench/baseline/<int:size>/", baseline, name="bench-baseline"), *urlpatterns]
