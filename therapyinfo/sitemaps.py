"""sitemap.xml: every published page, with the date it was last reviewed."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Comparison, Therapy


class ReviewedSitemap(Sitemap):
    def __init__(self, model):
        self.model = model

    def items(self):
        return self.model.objects.published()

    def lastmod(self, item):
        return item.last_reviewed


# URL names of the pages that are not one record's page.
STATIC_PAGES = [
    "home",
    "therapies",
    "compare",
    "articles",
    "glossary",
    "sources",
    "about",
    "updates",
]


class StaticPagesSitemap(Sitemap):
    def items(self):
        return STATIC_PAGES

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "pages": StaticPagesSitemap(),
    "therapies": ReviewedSitemap(Therapy),
    "articles": ReviewedSitemap(Article),
    "comparisons": ReviewedSitemap(Comparison),
}
