"""WSGI entry point for gunicorn."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapyinfo.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as error:
    # One line saying what to set, not a traceback (settings.py raises these).
    sys.exit(f"therapyinfo: configuration error: {error}")

# Cached public pages are answered before Django's request handling starts
# (therapyinfo/cache.py); everything else reaches Django unchanged.
from therapyinfo.cache import CachedPageApp  # noqa: E402  (needs the app registry)

application = CachedPageApp(application)
