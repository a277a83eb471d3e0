"""The timeline picture: server-rendered SVG drawn from the numeric ranges in
the database, labelled for screen readers, styled only through CSS classes."""

import re

import pytest

from therapyinfo.timeline import AXIS_MAX_HOURS, LEFT, RIGHT, x_at


def svg_of(html):
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline <svg> on the page"
    return match[0]


def bars(svg):
    """{css modifier: [(x, width), ...]} for each bar, in document order."""
    found = {}
    for kind, x, width in re.findall(
        r'class="timeline__bar timeline__bar--(\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg
    ):
        found.setdefault(kind, []).append((float(x), float(width)))
    return found


def test_axis_is_logarithmic_from_an_hour_to_twelve_weeks():
    assert x_at(1) == LEFT
    assert x_at(AXIS_MAX_HOURS) == RIGHT
    # Equal ratios of time take equal space: 1 hour to 1 day as 1 day to 24 days.
    assert x_at(24) - x_at(1) == pytest.approx(x_at(24 * 24) - x_at(24), abs=0.2)
    assert x_at(0) == LEFT and x_at(10**6) == RIGHT  # clamped, never off the picture


@pytest.mark.django_db
def test_comparison_page_draws_one_onset_and_one_duration_bar_per_known_therapy(client):
    svg = svg_of(client.get("/compare/").content.decode())
    assert 'role="img"' in svg
    title_id = re.search(r'aria-labelledby="([^"]+)"', svg)[1]
    desc_id = re.search(r'aria-describedby="([^"]+)"', svg)[1]
    assert f'<title id="{title_id}">' in svg and f'<desc id="{desc_id}">' in svg
    found = bars(svg)
    assert len(found["onset"]) == 2 and len(found["duration"]) == 2  # ketamine, psilocybin
    # LSD has no figures: the picture says so rather than drawing a guess.
    assert "LSD therapy" in svg and "Not known" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S)[1]
    assert "Ketamine infusion therapy: starts to help from about 2 hours to about 3 days" in desc
    assert "relief lasts about 3 to 7 days" in desc
    assert "LSD therapy: not known" in desc


@pytest.mark.django_db
def test_table_says_the_same_in_words(client):
    html = client.get("/compare/").content.decode()
    table = html[html.index('<table class="compare">') :]
    assert "from about 2 hours to about 3 days after a dose" in table
    assert "about 3 to 7 days" in table


@pytest.mark.django_db
def test_an_edit_redraws_the_picture(client, ketamine):
    before = bars(svg_of(client.get(ketamine.get_absolute_url()).content.decode()))
    assert before["onset"] == [(x_at(2), round(x_at(72) - x_at(2), 1))]
    ketamine.onset_min_hours, ketamine.onset_max_hours = 6, 48
    ketamine.save()  # as the admin does, so any page cache sees the change
    after_html = client.get(ketamine.get_absolute_url()).content.decode()
    after = bars(svg_of(after_html))
    assert after["onset"] == [(x_at(6), round(x_at(48) - x_at(6), 1))]
    assert "Starts: from about 6 hours to about 2 days" in after_html


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["ketamine", "psilocybin", "lsd"])
def test_each_therapy_page_has_its_picture_and_no_inline_styles(client, slug):
    html = client.get(f"/therapies/{slug}/").content.decode()
    svg = svg_of(html)
    assert 'role="img"' in svg
    # Colours come from site.css, so the strict CSP (style-src 'self') holds.
    assert "style=" not in svg and "<style" not in svg and "fill=" not in svg
    if slug == "lsd":
        assert "Not known" in svg and not bars(svg)
    else:
        assert set(bars(svg)) == {"onset", "duration"}
