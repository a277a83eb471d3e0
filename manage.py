#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapyinfo.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # One line saying what to set, not a traceback (settings.py raises these).
        sys.exit(f"therapyinfo: configuration error: {error}")


if __name__ == "__main__":
    main()
