"""Settings for `make bench` only: the site's own, plus the baseline's URL (bench_urls.py)."""

from therapyinfo.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
