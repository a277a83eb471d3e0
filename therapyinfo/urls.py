from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .cache import public_cache_headers as public
from .sitemaps import SITEMAPS

# The pages that are the same for every anonymous visitor: the one list of
# them. Each says so in its Cache-Control (cache.public_cache_headers), and
# deploy/nginx.conf caches exactly their paths (tests/test_cache.py checks it).
public_urlpatterns = [
    path("", public(views.home), name="home"),
    path("articles/", public(views.article_list), name="articles"),
    path("articles/<slug:slug>/", public(views.article_detail), name="article"),
    path("therapies/", public(views.therapy_list), name="therapies"),
    path("therapies/<slug:slug>/", public(views.therapy_detail), name="therapy"),
    path("compare/", public(views.comparison_detail), name="compare"),
    path("compare/<slug:slug>/", public(views.comparison_detail), name="comparison"),
    path("glossary/", public(views.glossary), name="glossary"),
    path("sources/", public(views.sources), name="sources"),
    path("about/", public(views.about), name="about"),
    path("updates/", public(views.updates), name="updates"),
    path("updates/feed/", public(views.UpdatesFeed()), name="updates-feed"),
    path("sitemap.xml", public(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", public(views.robots_txt), name="robots"),
]

urlpatterns = [
    *public_urlpatterns,
    path("healthz", views.healthz, name="healthz"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "therapyinfo.views.bad_request"
handler404 = "therapyinfo.views.page_not_found"
handler500 = "therapyinfo.views.server_error"
