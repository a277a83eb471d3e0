"""Write the static pages nginx shows for errors it answers itself
(deploy/error_pages.conf) into STATIC_ROOT/front-door/: the site's 500 page
layout with the crisis lines, one page per status. `make serve` runs it after
collectstatic; it needs no database."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.template import loader

PAGES = {
    "400": (
        "Sorry, we could not understand that request",
        "The web address or the link you followed may be incomplete or mistyped.",
    ),
    "413": (
        "That was more than this site can take",
        "The form or file you sent is too large. This site takes no uploads.",
    ),
    "414": (
        "That web address is too long",
        "The link you followed may be broken. Try the home page instead.",
    ),
    "429": (
        "Too many requests at once",
        "We have had a lot of requests from your connection. Please wait a minute and try again.",
    ),
    "431": (
        "Sorry, we could not understand that request",
        "Your browser sent more information than we can read. Clearing this site's "
        "cookies may help.",
    ),
    "500": (
        "Sorry, something went wrong",
        "There is a problem on our side. Please try again in a few minutes.",
    ),
    "502": (
        "This page is not available right now",
        "The site is busy or restarting. Please try again in a minute.",
    ),
}


class Command(BaseCommand):
    help = "Write nginx's static error pages, with the crisis lines, into STATIC_ROOT/front-door/."

    def handle(self, *args, **options):
        folder = Path(settings.STATIC_ROOT) / "front-door"
        folder.mkdir(parents=True, exist_ok=True)
        template = loader.get_template("front_door_error.html")
        for status, (heading, message) in PAGES.items():
            page = template.render({"heading": heading, "message": message})
            (folder / f"{status}.html").write_text(page)
