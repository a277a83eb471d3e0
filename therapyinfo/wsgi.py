"""WSGI entry point for gunicorn (deploy/gunicorn_conf.py)."""

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
