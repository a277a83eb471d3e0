"""Previews of unpublished pages, and keeping them out of every public cache.

Staff who may change (or view) a record see it at its real URL whatever its
status, under a "Preview: not published" banner; everyone else gets a 404.
Any response rendered for a signed-in user is marked private, so neither
nginx's page cache nor a CDN can hand a preview (or a staff view) to the public.
A pending revision of a live page is previewed at the page's own address too
(`?revision=<id>`, see RevisionPreviewMiddleware).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import get_script_prefix

from . import signals

PRIVATE = "private, no-store"


class PrivateForSignedInUsersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Without a session cookie nobody is signed in; checking first keeps
        # request.user (and so "Vary: Cookie") away from anonymous pages.
        signed_in = (
            settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated
        )
        if signed_in and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = PRIVATE
        return response


PREVIEW_PARAM = "revision"


class RevisionPreviewMiddleware:
    """`?revision=<id>` at a page's own address: signed-in staff who may see
    revisions get the page as that pending revision would make it.

    The revision is applied inside a transaction that is rolled back after the
    page is rendered (SQLite and PostgreSQL alike), with no content-version
    bump, so nothing is written and no cache moves on. Everyone else, and any
    other address, gets the ordinary page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        revision = self.revision_to_preview(request)
        if revision is None:
            return self.get_response(request)
        with transaction.atomic(), signals.quiet():
            try:
                with transaction.atomic():
                    revision.apply()
            except (IntegrityError, ValidationError) as error:
                # The live page moved on since (another section took its anchor,
                # say): say so to the reviewer rather than fail with a 500.
                transaction.set_rollback(True)
                return HttpResponse(
                    f"This revision cannot be previewed, because it clashes with the page "
                    f"as it is now: {error}. Send it back to the editor, or edit it.",
                    status=409,
                    content_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": PRIVATE},
                )
            request.revision_preview = revision
            shown_at = revision.preview_address().partition("#")[0]
            if shown_at != request.path:
                # The revision moves the page (a new slug): show it where it would
                # be, at the address the reviewer asked for.
                request.path_info = shown_at.removeprefix(get_script_prefix().rstrip("/"))
                request.path = shown_at
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            transaction.set_rollback(True)
        response["Cache-Control"] = PRIVATE
        return response

    @staticmethod
    def revision_to_preview(request):
        wanted = request.GET.get(PREVIEW_PARAM, "")
        # isdigit() alone lets "²" through, which int() refuses.
        if (
            not (wanted.isascii() and wanted.isdigit())
            or settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            return None
        user = request.user
        if not (user.is_active and user.is_staff and user.has_perm("therapyinfo.view_revision")):
            return None
        from .revisions import Revision, RevisionStatus

        revision = Revision.objects.filter(pk=int(wanted), status=RevisionStatus.PENDING).first()
        address = revision.preview_address() if revision else None
        if address is None or address.partition("#")[0] != request.path:
            return None
        return revision


def preview_url(revision):
    """The address where the public would see `revision`'s change, showing it to staff."""
    path, _, fragment = revision.preview_address().partition("#")
    return f"{path}?{PREVIEW_PARAM}={revision.pk}" + (f"#{fragment}" if fragment else "")
