"""Reading `?therapies=ketamine,lsd` on the comparison page.

Each mistake gets its own message, written for the person who typed or
followed the link, so the 400 page can tell them how to fix it. Names are
matched whatever their case or surrounding spaces; `canonical_query` gives the
one spelling the page redirects to.
"""

MAX_COLUMNS = 4
MIN_COLUMNS = 2


class SelectionError(ValueError):
    pass


def canonical_query(therapies):
    """The `therapies=` value that names these therapies the way the site does."""
    return ",".join(therapy.slug for therapy in therapies)


def parse_selection(raw, available):
    """Return the chosen therapies, in the order asked for.

    `raw` is the query-string value (None when absent: every therapy);
    `available` the comparison's published therapies.
    """
    if raw is None:
        return list(available)
    by_slug = {therapy.slug: therapy for therapy in available}
    slugs = [part.strip().lower() for part in raw.split(",")]
    if any(not slug for slug in slugs):
        raise SelectionError(
            "The list of therapies has an empty name in it. Separate names with "
            "single commas, for example ?therapies=ketamine,lsd."
        )
    if len(slugs) > MAX_COLUMNS:
        raise SelectionError(
            f"You asked for {len(slugs)} therapies. The table can show at most {MAX_COLUMNS}."
        )
    unknown = [slug for slug in slugs if slug not in by_slug]
    if unknown:
        raise SelectionError(
            # The visitor's own words are never shown back (a page of a health
            # site must not be made to say "call this number" by a link).
            "One of the names in the link is not a therapy this comparison has."
        )
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise SelectionError(f"{', '.join(repeated)} is listed more than once.")
    if len(slugs) < MIN_COLUMNS:
        raise SelectionError(
            f"Choose at least {MIN_COLUMNS} therapies to compare them side by side."
        )
    return [by_slug[slug] for slug in slugs]
