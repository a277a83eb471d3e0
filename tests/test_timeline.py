"""The timeline picture: server-rendered SVG drawn from the numeric ranges in
the database, labelled for screen readers, styled only through CSS classes,
with the same timings in words beside it."""

import re

import pytest

from therapyinfo.models import Comparison, Therapy
from therapyinfo.templatetags.content import days_range, hours_range
from therapyinfo.timeline import AXIS_MAX_HOURS, LASTING_NOT_KNOWN, x_at


def svg_of(html):
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline <svg> on the page"
    return match[0]


def words_of(html):
    match = re.search(r'<dl class="timeline__words">(.*?)</dl>', html, re.S)
    assert match, "no timings in words beside the picture"
    return re.sub(r"<[^>]+>|\s+", " ", match[1])


def bars(svg):
    """{therapy name: {part: (x, width)}} for each therapy's bar, in percent."""
    found = {}
    for group in re.findall(r'<g class="timeline__therapy">(.*?)</g>', svg, re.S):
        name = re.search(r'class="timeline__name"[^>]*>([^<]+)<', group)[1]
        parts = re.findall(
            r'class="timeline__bar timeline__bar--(\w+)" x="([\d.]+)%" y="\d+" width="([\d.]+)%"',
            group,
        )
        found[name] = {part: (float(x), float(width)) for part, x, width in parts}
    return found


def test_axis_is_logarithmic_from_an_hour_to_twelve_weeks_across_the_full_width():
    assert x_at(1) == 0
    assert x_at(AXIS_MAX_HOURS) == 100
    # Equal ratios of time take equal space: 1 hour to 1 day as 1 day to 24 days.
    assert x_at(24) - x_at(1) == pytest.approx(x_at(24 * 24) - x_at(24), abs=0.2)
    assert x_at(0) == 0 and x_at(10**6) == 100  # clamped, never off the picture


@pytest.mark.django_db
def test_relief_is_one_bar_from_when_it_starts_through_how_long_it_lasts(client):
    svg = svg_of(client.get("/compare/").content.decode())
    assert 'role="img"' in svg
    title_id = re.search(r'aria-labelledby="([^"]+)"', svg)[1]
    desc_id = re.search(r'aria-describedby="([^"]+)"', svg)[1]
    assert f'<title id="{title_id}">' in svg and f'<desc id="{desc_id}">' in svg
    # No viewBox: the picture is as wide as its box and its text keeps its size.
    assert "viewBox" not in svg
    found = bars(svg)
    drawn = 0
    for therapy in Comparison.objects.get(slug="ketamine-vs-psychedelics").therapies.all():
        bar = found[therapy.name]
        if therapy.onset_min_hours is None:
            # No figures: the picture says so plainly rather than drawing a guess.
            assert bar == {}
            group = svg[svg.index(f">{therapy.name}<") :]
            assert "Not known" in group[: group.index("</g>")]
            continue
        drawn += 1
        # The onset window, drawn in its own colour...
        low, high = therapy.onset_min_hours, therapy.onset_max_hours
        assert bar["onset"] == (x_at(low), max(round(x_at(high) - x_at(low), 1), 1.0))
        if therapy.duration_max_days is None:
            # Onset known, how long it lasts not: no relief bar is guessed.
            assert "relief" not in bar
            group = svg[svg.index(f">{therapy.name}<") :]
            assert LASTING_NOT_KNOWN in group[: group.index("</g>")]
            continue
        # ...and relief carries straight on from it, to the longest it lasted.
        assert bar["relief"][0] == pytest.approx(sum(bar["onset"]), abs=0.1)
        longest = high + therapy.duration_max_days * 24
        assert sum(bar["relief"]) == pytest.approx(x_at(longest), abs=0.1)
    assert drawn >= 2
    # Psilocybin starts within days, not weeks later.
    assert found["Psilocybin therapy"]["onset"][0] <= x_at(7 * 24)
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S)[1]
    ketamine = Therapy.objects.get(slug="ketamine")
    onset = hours_range(ketamine.onset_min_hours, ketamine.onset_max_hours)
    assert f"Ketamine infusion therapy: starts to help {onset} after a dose" in desc


@pytest.mark.django_db
def test_the_words_beside_the_picture_and_the_table_say_the_same(client):
    html = client.get("/compare/").content.decode()
    words = " ".join(words_of(html).split())
    table = html[html.index('<table class="compare">') :]
    for therapy in Therapy.objects.published():
        onset = hours_range(therapy.onset_min_hours, therapy.onset_max_hours)
        lasting = days_range(therapy.duration_min_days, therapy.duration_max_days)
        said = (f"Starts: {onset} after a dose." if onset else "Starts: not known.") + (
            f" Lasts: {lasting}." if lasting else " Lasts: not known."
        )
        assert f"{therapy.name} {said}" in words
        if onset:
            assert f"{onset} after a dose" in table
        if lasting:
            assert lasting in table


@pytest.mark.django_db
def test_a_therapy_with_only_an_onset_says_how_long_is_not_known(client, ketamine):
    ketamine.duration_min_days = ketamine.duration_max_days = None
    ketamine.save()
    for url in (ketamine.get_absolute_url(), "/compare/"):
        html = client.get(url).content.decode()
        found = bars(svg_of(html))["Ketamine infusion therapy"]
        assert set(found) == {"onset"}, url
        assert "How long it lasts: not known" in svg_of(html), url
    assert "Lasts: not known." in " ".join(words_of(html).split())


@pytest.mark.django_db
def test_words_beside_the_picture_where_several_therapies_share_it(client, ketamine):
    assert "Ketamine infusion therapy" in words_of(client.get("/compare/").content.decode())
    # A therapy's own page says its timings just above the picture; not twice.
    assert "timeline__words" not in client.get(ketamine.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_an_edit_redraws_the_picture(client, ketamine):
    before = bars(svg_of(client.get(ketamine.get_absolute_url()).content.decode()))
    low, high = ketamine.onset_min_hours, ketamine.onset_max_hours
    assert before["Ketamine infusion therapy"]["onset"] == (
        x_at(low),
        round(x_at(high) - x_at(low), 1),
    )
    ketamine.onset_min_hours, ketamine.onset_max_hours = 6, 48
    ketamine.save()  # as the admin does, so any page cache sees the change
    after = bars(svg_of(client.get(ketamine.get_absolute_url()).content.decode()))
    assert after["Ketamine infusion therapy"]["onset"] == (x_at(6), round(x_at(48) - x_at(6), 1))
    compare = client.get("/compare/").content.decode()
    assert "from about 6 hours to about 2 days after a dose" in words_of(compare)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["ketamine", "psilocybin", "lsd"])
def test_each_therapy_page_has_its_picture_and_no_inline_styles(client, slug):
    html = client.get(f"/therapies/{slug}/").content.decode()
    svg = svg_of(html)
    assert 'role="img"' in svg
    # Colours come from site.css, so the strict CSP (style-src 'self') holds;
    # the only fill attribute points at a gradient whose colours CSS sets.
    assert "style=" not in svg and "<style" not in svg
    assert re.findall(r'fill="([^"]*)"', svg) == [
        "url(#timeline-title-fade-1)" for _ in re.findall(r"timeline__bar--relief", svg)
    ]
    therapy = Therapy.objects.get(slug=slug)
    if therapy.onset_min_hours is None:
        assert "Not known" in svg and bars(svg) == {therapy.name: {}}
    elif therapy.duration_min_days is not None:
        assert set(bars(svg)[therapy.name]) == {"onset", "relief"}
