"""Staff sessions: a working day at most, half an hour idle at most, and two-factor login first.

A staff session reaches every personal fact the company holds (Art. 32): a
session left open on a shared or stolen machine must end by itself, and a
password alone must not open it where two-factor login is required.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

SESSION_STARTED = "staff_session_started"
SESSION_SEEN = "staff_session_seen"


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


class StaffSessionMiddleware:
    """Ends a staff session after ``STAFF_SESSION_SECONDS`` or ``STAFF_SESSION_IDLE_SECONDS`` idle."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_staff(request):
            now = time.time()
            started = request.session.get(SESSION_STARTED)
            seen = request.session.get(SESSION_SEEN)
            if started is None:
                started = now  # a session from before this limit existed: it starts counting now
                request.session[SESSION_STARTED] = now
            too_long = now - started > settings.STAFF_SESSION_SECONDS
            idle = seen is not None and now - seen > settings.STAFF_SESSION_IDLE_SECONDS
            if too_long or idle:
                logout(request)
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            # Written on every staff request (one UPDATE): the same queries every time,
            # and an idle limit exact to the request.
            request.session[SESSION_SEEN] = now
            # The cookie goes with the session: a browser left alone forgets it too.
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("staff:two_factor_enrol"),
        reverse("staff:two_factor_verify"),
        reverse("admin:logout"),
        reverse("set_language"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/healthz",
    )


class StaffTwoFactorMiddleware:
    """With ``STAFF_2FA_REQUIRED``, a staff member signed in with a password alone reaches nothing
    but the second step: the code from their app (or a backup code), or the enrolment at first login."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.STAFF_2FA_REQUIRED
            and _is_staff(request)
            and not request.user.is_verified()
            and not request.path.startswith(_exempt_paths())
        ):
            from .selectors import staff_has_authenticator

            name = (
                "staff:two_factor_verify"
                if staff_has_authenticator(user=request.user)
                else "staff:two_factor_enrol"
            )
            return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
