"""Context every page needs: the crisis resources in the header and footer, and
the treatment guides in the main menu."""

from django.utils.functional import SimpleLazyObject

from .cache import PerVersion
from .models import CrisisResource, Therapy

# Read once per content version, not once per page (see cache.PerVersion).
all_crisis_resources = PerVersion(lambda: list(CrisisResource.objects.all()))
menu_therapies = PerVersion(
    lambda: list(Therapy.objects.published().only("slug", "name", "short_name"))
)


def site(request):
    # Lazy, so pages that never show them (the admin) never read them.
    return {
        "crisis_resources": SimpleLazyObject(all_crisis_resources),
        "menu_therapies": SimpleLazyObject(menu_therapies),
    }
