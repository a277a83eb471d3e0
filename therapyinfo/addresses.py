"""`url(name, *args)`: Django's `reverse`, kept per script prefix, URL
configuration, name and arguments.

An address depends only on those, never on content, and a comparison page
asks for some forty of them (its links, its records' `get_absolute_url`),
each a walk of the URL patterns."""

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def url(name, *args):
    return _reverse(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name, args)


@lru_cache(maxsize=4096)
def _reverse(prefix, urlconf, name, args):
    return reverse(name, urlconf=urlconf, args=args or None)
