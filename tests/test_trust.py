"""Who stands behind the site (issue 22): the publisher, a contact address and
the clinical reviewers' roles come from settings, are shown on About and in the
schema.org data, and are never invented when unset. And the feed as feed
readers expect it: an author, absolute entry ids, a link from every page."""

import json
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from django.conf import settings as django_settings
from django.utils.html import escape

from therapyinfo.models import Therapy
from therapyinfo.revisions import Revision, RevisionStatus

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"

PUBLISHER = "Example Health Information Trust"
EMAIL = "editors@therapyinfo.example"
REVIEWERS = ["Consultant psychiatrist (MRCPsych)", "Clinical pharmacist (MPharm)"]


@pytest.fixture
def unset(settings):
    settings.SITE_PUBLISHER = ""
    settings.SITE_CONTACT_EMAIL = ""
    settings.SITE_REVIEWERS = []


@pytest.fixture
def configured(settings):
    settings.SITE_PUBLISHER = PUBLISHER
    settings.SITE_CONTACT_EMAIL = EMAIL
    settings.SITE_REVIEWERS = REVIEWERS


def main_of(html):
    return html.split('<main id="main"')[1].split("</main>")[0]


def json_ld(html):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html)[1])


def test_about_names_the_publisher_contact_and_reviewers_when_set(client, configured):
    html = client.get("/about/").content.decode()
    main = main_of(html)
    assert f"{PUBLISHER} publishes this site." in main
    assert f'<a href="mailto:{EMAIL}">{EMAIL}</a>' in main
    for reviewer in REVIEWERS:
        assert f"<li>{escape(reviewer)}</li>" in main
    assert "has not been set" not in main


def test_about_says_plainly_what_is_missing_and_invents_nothing_when_unset(client, unset):
    main = main_of(client.get("/about/").content.decode())
    assert "The publisher's name has not been set." in main
    assert "The contact address has not been set" in main
    assert "The clinical reviewers' roles and qualifications have not been set." in main
    assert "mailto:" not in main and "@" not in main
    assert "Therapy Info project" not in main


@pytest.mark.parametrize("url", ["/", "/about/", "/therapies/ketamine/"])
def test_the_schema_org_publisher_is_the_configured_one(client, configured, url):
    data = json_ld(client.get(url).content.decode())
    assert data["publisher"] == {"@type": "Organization", "name": PUBLISHER, "email": EMAIL}


def test_the_schema_org_data_names_no_publisher_while_none_is_set(client, unset):
    assert "publisher" not in json_ld(client.get("/about/").content.decode())


def test_a_contact_address_that_is_not_one_stops_the_site_starting():
    env = {"DJANGO_SECRET_KEY": "x", "SITE_CONTACT_EMAIL": "not an address", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "therapyinfo.settings"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SITE_CONTACT_EMAIL must be an email address" in result.stderr


def publish_a_change_note(reviewer, note="We rewrote the summary in plainer words."):
    ketamine = Therapy.objects.get(slug="ketamine")
    revision = Revision.record(ketamine, {}, author=reviewer, status=RevisionStatus.PUBLISHED)
    revision.mark_published(by=reviewer, note=note)
    return revision


def feed(client):
    response = client.get("/updates/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content)


def test_the_feed_has_an_author_and_absolute_entry_ids(client, configured, reviewer):
    revision = publish_a_change_note(reviewer)
    root = feed(client)
    assert root.find(f"{ATOM}author/{ATOM}name").text == PUBLISHER
    assert root.find(f"{ATOM}id").text == "http://testserver/updates/"
    entries = root.findall(f"{ATOM}entry")
    assert entries
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert f"http://testserver/updates/#update-{revision.pk}" in ids
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link == "http://testserver/therapies/ketamine/"
    assert all(entry_id.startswith("http://testserver/updates/#update-") for entry_id in ids)
    assert len(set(ids)) == len(ids)


def test_the_feed_author_is_the_site_name_while_no_publisher_is_set(client, unset, reviewer):
    publish_a_change_note(reviewer)
    assert feed(client).find(f"{ATOM}author/{ATOM}name").text == "Therapy Info"


@pytest.mark.parametrize(
    "url", ["/", "/therapies/", "/therapies/ketamine/", "/compare/", "/about/", "/updates/"]
)
def test_every_page_links_to_the_feed_for_feed_readers(client, url):
    head = client.get(url).content.decode().split("</head>")[0]
    link = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', head)
    assert link and 'href="/updates/feed/"' in link[0], url


def test_the_sitemap_lists_updates_compare_and_therapies(client):
    sitemap = client.get("/sitemap.xml").content.decode()
    for path in ("/updates/", "/compare/", "/therapies/"):
        assert f"<loc>http://testserver{path}</loc>" in sitemap
