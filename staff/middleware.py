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
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, user_logged_out
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

SESSION_STARTED = "staff_session_started"
SESSION_SEEN = "staff_session_seen"


def _end_staff_login(request: HttpRequest) -> None:
    """Log the staff member out under a new session key, keeping what the session held for the
    public pages (a person's own request status): those belong to the visitor, not to the login."""
    user = request.user
    for key in (
        SESSION_KEY,
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        DEVICE_ID_SESSION_KEY,
        SESSION_STARTED,
        SESSION_SEEN,
    ):
        request.session.pop(key, None)
    request.session.cycle_key()
    request.user = AnonymousUser()
    user_logged_out.send(sender=user.__class__, request=request, user=user)


def _is_staff_page(request: HttpRequest) -> bool:
    return request.path.startswith((reverse("admin:index"), "/staff/"))


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
                _end_staff_login(request)
                if _is_staff_page(request):
                    return redirect_to_login(request.get_full_path(), reverse("admin:login"))
                return self.get_response(request)  # a public page: served as to anyone
            # Written on every staff request (one UPDATE): the same queries every time,
            # and an idle limit exact to the request. The limits are kept here, on the
            # server, not in the cookie's age: the same session carries a visitor's
            # portal state, which must outlive a staff login (a status link's 72 hours).
            request.session[SESSION_SEEN] = now
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
