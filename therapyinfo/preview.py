"""Previews of unpublished pages, and keeping them out of every public cache.

Staff who may change (or view) a record see it at its real URL whatever its
status, under a "Preview: not published" banner; everyone else gets a 404.
Any response rendered for a signed-in user is marked private, so neither
nginx's page cache nor a CDN can hand a preview (or a staff view) to the public.
"""

from django.conf import settings

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
