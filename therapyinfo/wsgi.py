"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapyinfo.settings")

application = get_wsgi_application()

# Cached public pages are answered before Django's request handling starts
# (therapyinfo/cache.py); everything else reaches Django unchanged.
from therapyinfo.cache import CachedPageApp  # noqa: E402  (needs the app registry)

application = CachedPageApp(application)
