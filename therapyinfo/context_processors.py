"""Context every page needs: the crisis resources in the header and footer,
the treatment guides in the main menu, and what `{% cache %}` fragments of
content are keyed by (therapyinfo/cache.py)."""

from django.core.cache import caches
from django.utils.functional import SimpleLazyObject

from .cache import CONTENT_CACHE, cached, content_cache_alias, content_version
from .models import CrisisResource, Therapy


def site(request):
    # Lazy, so pages that never show them (the admin) never read them.
    return {
        "crisis_resources": SimpleLazyObject(
            lambda: cached(request, "crisis-lines", lambda: list(CrisisResource.objects.all()))
        ),
        "menu_therapies": SimpleLazyObject(
            lambda: cached(
                request,
                "menu-therapies",
                lambda: list(Therapy.objects.published().only("slug", "name", "short_name")),
            )
        ),
        "content_cache": content_cache_alias(request),
        "content_cache_timeout": caches[CONTENT_CACHE].default_timeout,
        "content_version": SimpleLazyObject(lambda: content_version(request)),
    }
