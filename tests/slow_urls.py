"""The site's URLs plus /slow/: it notes the serving worker's pid in the file
named by SLOW_PAGE_LOG (one line per request that reached the app), then takes
SLOW_PAGE_SECONDS to answer, so a test can kill that very worker mid-request."""

import os
import time

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from therapyinfo.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401


@csrf_exempt
def slow(request):
    with open(os.environ["SLOW_PAGE_LOG"], "a") as log:
        log.write(f"{request.method} {os.getpid()}\n")
    time.sleep(float(os.environ.get("SLOW_PAGE_SECONDS", "2")))
    return HttpResponse(f"slow page done ({request.method})", content_type="text/plain")


urlpatterns = [path("slow/", slow), *urlpatterns]
