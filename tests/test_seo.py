"""Found and shared correctly: each page's title, description, canonical URL,
Open Graph tags and schema.org MedicalWebPage data, and the sitemap."""

import html
import json
import re

import pytest

from therapyinfo.models import Article, Comparison, Therapy

pytestmark = pytest.mark.django_db


def public_urls():
    urls = ["/", "/therapies/", "/articles/", "/compare/", "/glossary/", "/sources/", "/about/"]
    urls += ["/updates/"]
    for model in (Therapy, Article, Comparison):
        urls += [record.get_absolute_url() for record in model.objects.published()]
    return urls


def head_of(client, url):
    page = client.get(url).content.decode()
    head = page[: page.index("</head>")]

    def meta(attribute, name):
        match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', head)
        return html.unescape(match[1]) if match else None

    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', head)
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', head, re.S)
    return {
        "title": html.unescape(re.search(r"<title>(.*?)</title>", head, re.S)[1]),
        "description": meta("name", "description"),
        "canonical": canonical[1] if canonical else None,
        "og": {
            key: meta("property", f"og:{key}") for key in ("title", "description", "url", "type")
        },
        "json_ld": [json.loads(block) for block in blocks],
    }


def test_each_page_has_its_own_title_description_and_canonical(client):
    pages = {url: head_of(client, url) for url in public_urls()}
    by_canonical = {}
    for url, page in pages.items():
        assert page["canonical"] and page["canonical"].startswith("http://testserver/"), url
        assert page["description"] and len(page["description"]) >= 50, url
        by_canonical.setdefault(page["canonical"], page)
    # /compare/ is the main comparison under a short address; it names that
    # comparison as canonical, so it is one page, not a duplicate.
    assert pages["/compare/"]["canonical"] == "http://testserver/compare/ketamine-vs-psychedelics/"
    titles = [page["title"] for page in by_canonical.values()]
    descriptions = [page["description"] for page in by_canonical.values()]
    assert len(set(titles)) == len(titles) == len(by_canonical)
    assert len(set(descriptions)) == len(descriptions)


def test_query_strings_do_not_make_new_canonical_pages(client):
    page = head_of(client, "/compare/ketamine-vs-psychedelics/?therapies=ketamine,lsd")
    assert page["canonical"] == "http://testserver/compare/ketamine-vs-psychedelics/"


def test_open_graph_repeats_the_title_description_and_address(client, ketamine):
    page = head_of(client, ketamine.get_absolute_url())
    assert page["og"] == {
        "title": "Ketamine infusion therapy: how it works, side effects and evidence",
        "description": ketamine.summary,
        "url": "http://testserver/therapies/ketamine/",
        "type": "article",
    }
    assert head_of(client, "/")["og"]["type"] == "website"


@pytest.mark.parametrize("model", [Therapy, Article, Comparison])
def test_content_pages_are_medical_web_pages_with_last_reviewed(client, model):
    record = model.objects.published().first()
    (data,) = head_of(client, record.get_absolute_url())["json_ld"]
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == record.last_reviewed.isoformat()
    assert data["url"] == "http://testserver" + record.get_absolute_url()


def test_an_edit_to_the_review_date_shows_in_the_structured_data(client, ketamine):
    ketamine.last_reviewed = ketamine.last_reviewed.replace(year=2025)
    ketamine.next_review_due = ketamine.last_reviewed.replace(year=2026)
    ketamine.save()
    (data,) = head_of(client, ketamine.get_absolute_url())["json_ld"]
    assert data["lastReviewed"] == ketamine.last_reviewed.isoformat()


def test_structured_data_cannot_break_out_of_its_script_element(client, ketamine):
    ketamine.name = "Ketamine </script><script>alert(1)</script> & co"
    ketamine.save()
    page = client.get(ketamine.get_absolute_url()).content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1]
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block)["name"].startswith("Ketamine </script><script>")


def test_sitemap_lists_every_page_with_lastmod_for_reviewed_ones(client, ketamine):
    sitemap = client.get("/sitemap.xml").content.decode()
    for url in public_urls():
        assert f"<loc>http://testserver{url}</loc>" in sitemap
    entry = re.search(r"<loc>http://testserver/therapies/ketamine/</loc><lastmod>([^<]+)<", sitemap)
    assert entry[1] == ketamine.last_reviewed.isoformat()
