"""Item 4 of the performance issue: small pages, fingerprinted and compressed
static files that browsers keep for good, and nothing render-blocking from
another site."""

import gzip
import re

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage

from tests.test_views import public_urls

pytestmark = pytest.mark.django_db

BUDGET = 30 * 1024  # bytes, gzip-compressed: the page plus its CSS and scripts

# <link rel="stylesheet" href="..."> and <script src="..."> in the page.
STYLESHEET = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"')
SCRIPT = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"')
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.(css|js|svg)$")


def linked_assets(html):
    return STYLESHEET.findall(html) + SCRIPT.findall(html)


def static_name(url):
    assert url.startswith("/" + staticfiles_storage.base_url.lstrip("/")), url
    return url.removeprefix("/" + staticfiles_storage.base_url.lstrip("/"))


def test_every_public_page_with_its_css_and_scripts_is_at_most_30_kb_compressed(client):
    for url in public_urls():
        html = client.get(url).content
        total = len(gzip.compress(html, 9))
        for asset in linked_assets(html.decode()):
            with staticfiles_storage.open(static_name(asset)) as f:
                total += len(gzip.compress(f.read(), 9))
        assert total <= BUDGET, f"{url}: {total} bytes compressed, budget {BUDGET}"


def test_pages_link_no_third_party_css_or_script_and_only_fingerprinted_static_files(client):
    for url in public_urls():
        html = client.get(url).content.decode()
        assets = linked_assets(html) + re.findall(
            r'<link\b[^>]*\brel="icon"[^>]*href="([^"]+)"', html
        )
        assert assets, url
        for asset in assets:
            assert asset.startswith("/"), f"{url} links {asset} from another site"
            assert HASHED_NAME.search(asset), f"{url} links {asset} without a content hash"


def test_static_files_are_served_compressed_and_cached_for_good(client):
    css = STYLESHEET.findall(client.get("/").content.decode())[0]
    for encoding in ("br", "gzip"):
        response = client.get(css, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response["Content-Encoding"] == encoding
        assert response["Cache-Control"] == "max-age=315360000, public, immutable"
        assert "Accept-Encoding" in response["Vary"]
        b"".join(response.streaming_content)
