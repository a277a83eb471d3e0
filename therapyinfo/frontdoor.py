"""The signed staff cookie that lets nginx (deploy/nginx.conf) tell signed-in
staff from anonymous visitors without asking the app.

A session cookie proves nothing to nginx: anyone can send `sessionid=x`, and
if that bypassed the page cache, anyone could make every page reach the app.
So the app gives each signed-in staff member a second cookie,
`<signature>.<expiry>`, where the signature is nginx's secure_link MD5 of the
expiry, the session key and a secret derived from DJANGO_SECRET_KEY. nginx
checks it (secure_link_md5) and bypasses its cache only when it holds; a
forged or expired one is an anonymous visitor, answered from the cache.

No Django imports at module level: deploy/render_nginx.py imports
`staff_secret` to write the same secret into nginx's configuration.
"""

import base64
import hashlib
import hmac
import time

STAFF_COOKIE = "staff_pass"


def staff_secret(secret_key):
    """The secret nginx and the app share, never the secret key itself."""
    return hmac.new(
        secret_key.encode(), b"therapyinfo front door staff cookie", hashlib.sha256
    ).hexdigest()


def staff_cookie_value(session_key, expires, secret_key):
    digest = hashlib.md5(
        f"{expires} {session_key} {staff_secret(secret_key)}".encode(), usedforsecurity=False
    ).digest()
    return f"{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}.{expires}"


class StaffCookieMiddleware:
    """Signed-in staff get the cookie (renewed with each response, for as long
    as their session lasts); anyone else who has one loses it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        # A session key is there only for someone with a session: checking it
        # first keeps request.user (and "Vary: Cookie") off anonymous pages.
        session_key = request.session.session_key
        if session_key and request.user.is_authenticated and request.user.is_staff:
            expires = int(time.time()) + settings.SESSION_COOKIE_AGE
            response.set_cookie(
                STAFF_COOKIE,
                staff_cookie_value(session_key, expires, settings.SECRET_KEY),
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        elif STAFF_COOKIE in request.COOKIES:
            response.delete_cookie(STAFF_COOKIE, samesite="Lax")
        return response
