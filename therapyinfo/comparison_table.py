"""What the comparison page shows, read in plain SQL.

Built through the ORM, these five queries took about 2 ms a page to compose
and turn into objects, most of what the page cost when it missed every
cache (README, "Performance"); as SQL the page's reading takes 0.8 ms, its
Python included. They are standard SQL, run on SQLite and PostgreSQL by the
test suite, and read only columns the models declare, so a migration that
renames one fails the tests rather than the page.

Cells and sources were drawn when they were saved (`rendered`); a row that
was written without signals (`bulk_create`, `update()`) is drawn here for
the request instead of showing blank.
"""

from typing import NamedTuple

from django.db import connection
from django.http import Http404

from .models import CITATION, Comparison, ComparisonCell, Source, Status, Therapy, sees_drafts


def query(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def placeholders(values):
    return ", ".join(["%s"] * len(values))


def visible_comparison(user, slug):
    """The comparison at `slug`, if `user` may see it (see `sees_drafts`), or 404."""
    found = Comparison.objects.raw("SELECT * FROM therapyinfo_comparison WHERE slug = %s", [slug])
    for comparison in found:
        if comparison.is_published or sees_drafts(user, Comparison):
            return comparison
    raise Http404("No comparison here.")


def comparison_columns(comparison):
    """The published therapies the comparison covers, in the site's order:
    their names, timings and links, which is all the page shows of them."""
    return list(
        Therapy.objects.raw(
            """
            SELECT t.id, t.slug, t.name, t.short_name, t.position, t.status,
                   t.onset_min_hours, t.onset_max_hours,
                   t.duration_min_days, t.duration_max_days
            FROM therapyinfo_therapy t
            JOIN therapyinfo_comparison_therapies ct ON ct.therapy_id = t.id
            WHERE ct.comparison_id = %s AND t.status = %s
            ORDER BY t.position, t.name
            """,
            [comparison.pk, Status.PUBLISHED],
        )
    )


def comparison_rows(comparison, therapy_ids):
    """Each row's heading and one cell's stored HTML per column ("" where a
    therapy has no cell), and every shown row's and cell's text, in reading order."""
    rows, texts = {}, []
    cells = query(
        """
        SELECT r.id, r.aspect, c.therapy_id, c.rendered, c.text, c.certainty, c.as_of
        FROM therapyinfo_comparisonrow r
        LEFT JOIN therapyinfo_comparisoncell c ON c.row_id = r.id
        WHERE r.comparison_id = %s
        ORDER BY r.position, r.id
        """,
        [comparison.pk],
    )
    for row_id, aspect, therapy_id, html, text, certainty, as_of in cells:
        by_therapy = rows.setdefault(row_id, (aspect, {}))[1]
        if therapy_id in therapy_ids:
            if not html:  # saved without signals (bulk_create, update()): draw it now
                html = ComparisonCell(text=text, certainty=certainty, as_of=as_of).render_html()
            by_therapy[therapy_id] = (text, html)
    table = []
    for aspect, by_therapy in rows.values():
        cells = [by_therapy.get(therapy_id, ("", "")) for therapy_id in therapy_ids]
        texts += [aspect, *(text for text, _ in cells)]
        table.append((aspect, [html for _, html in cells]))
    return table, texts


def cited_sources(texts):
    """The sources the texts cite, numbered in the order a reader meets them:
    each one's slug and its entry in the list, as drawn when it was saved."""
    slugs = list(dict.fromkeys(CITATION.findall("\n".join(texts))))
    if not slugs:
        return []
    found = query(
        f"SELECT slug, rendered FROM therapyinfo_source WHERE slug IN ({placeholders(slugs)})",
        slugs,
    )
    html = dict(found)
    stale = [slug for slug, rendered in found if not rendered]
    if stale:  # saved without signals (bulk_create, update()): draw them now
        for source in Source.objects.filter(slug__in=stale):
            html[source.slug] = source.render_html()
    return [CitedSource(slug, html[slug]) for slug in slugs if slug in html]


class CitedSource(NamedTuple):
    """A source as the page's list shows it (`html_of` draws it)."""

    slug: str
    rendered: str


def side_effect_table(therapy_ids):
    """One row per side effect: its name and, per column, the therapy's
    (frequency, severity) or None where the therapy does not list it. Also the
    text of every row shown."""
    rows, texts = {}, []
    if not therapy_ids:
        return [], texts
    entries = query(
        f"""
        SELECT s.id, s.name, s.summary, e.therapy_id, e.frequency, e.severity,
               e.how_often, e.how_long, e.what_helps, e.when_to_get_help
        FROM therapyinfo_therapysideeffect e
        JOIN therapyinfo_sideeffect s ON s.id = e.side_effect_id
        WHERE e.therapy_id IN ({placeholders(therapy_ids)})
        ORDER BY s.position, s.name
        """,
        therapy_ids,
    )
    for side_effect_id, name, summary, therapy_id, frequency, severity, *more in entries:
        if side_effect_id not in rows:
            rows[side_effect_id] = (name, dict.fromkeys(therapy_ids))
            texts += [name, summary]
        rows[side_effect_id][1][therapy_id] = (frequency, severity)
        texts += more
    return [(name, list(by_therapy.values())) for name, by_therapy in rows.values()], texts
