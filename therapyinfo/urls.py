from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", views.article_list, name="articles"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
    path("therapies/", views.therapy_list, name="therapies"),
    path("therapies/<slug:slug>/", views.therapy_detail, name="therapy"),
    path("compare/", views.comparison_detail, name="compare"),
    path("compare/<slug:slug>/", views.comparison_detail, name="comparison"),
    path("glossary/", views.glossary, name="glossary"),
    path("sources/", views.sources, name="sources"),
    path("about/", views.about, name="about"),
    path("updates/", views.updates, name="updates"),
    path("updates/feed/", views.UpdatesFeed(), name="updates-feed"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("healthz", views.healthz, name="healthz"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "therapyinfo.views.bad_request"
handler404 = "therapyinfo.views.page_not_found"
handler500 = "therapyinfo.views.server_error"
