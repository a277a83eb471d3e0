"""Context every page needs: the crisis resources in the header and footer."""

from django.utils.functional import SimpleLazyObject

from .cache import PerVersion
from .models import CrisisResource

# Read once per content version, not once per page (see cache.PerVersion).
all_crisis_resources = PerVersion(lambda: list(CrisisResource.objects.all()))


def site(request):
    # Lazy, so pages that never show the list (the admin) never read it.
    return {"crisis_resources": SimpleLazyObject(all_crisis_resources)}
