"""The site's own settings plus one test-only page, /slow/ (tests/slow_urls.py),
for gunicorn processes in tests that must catch a worker mid-request:
`DJANGO_SETTINGS_MODULE=tests.slow_settings`. Never used in production."""

from therapyinfo.settings import *  # noqa: F403

ROOT_URLCONF = "tests.slow_urls"
