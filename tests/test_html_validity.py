"""The Nu Html Checker (vnu-jar, run with Java) finds no errors on any public page."""

import json
import subprocess

import pytest

from tests.browser_support import VNU_JAR, require_vnu
from therapyinfo.models import Article, Comparison, Therapy

pytestmark = pytest.mark.django_db


def public_paths():
    paths = ["/", "/compare/", "/compare/?therapies=lsd,ketamine", "/glossary/", "/sources/"]
    paths += ["/about/", "/updates/", "/articles/", "/therapies/"]
    paths += ["/no-such-page/", "/compare/?therapies=nonsense"]
    for model in (Therapy, Article, Comparison):
        paths += [record.get_absolute_url() for record in model.objects.published()]
    return paths


def test_every_public_page_is_valid_html(client, tmp_path):
    require_vnu()
    pages = {}
    for number, path in enumerate(public_paths()):
        response = client.get(path)
        assert response.status_code in (200, 400, 404), path
        page = tmp_path / f"page-{number}.html"
        page.write_bytes(response.content)
        pages[page] = path
    # One Java start for all pages: the checker takes seconds to warm up.
    run = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    by_name = {page.name: path for page, path in pages.items()}
    messages = json.loads(run.stderr)["messages"]
    errors = [
        f"{by_name.get(m.get('url', '').rsplit('/', 1)[-1])}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]
    assert errors == []
    assert len(pages) >= 13
