"""Context every page needs: the crisis resources in the header and footer."""

from .models import CrisisResource


def site(request):
    return {"crisis_resources": CrisisResource.objects.all()}
