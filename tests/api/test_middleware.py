"""The middleware a browser needs is skipped for the JSON API, and only for it.

Issue 10: the login, two-factor, the staff session's limits, messages and
django-csp's page policy did work on every API call, which carries none of them.
The admin, the portal and the API's own HTML documentation keep every one.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.admin.checks import check_dependencies
from django.test import Client
from django.urls import reverse

from api import middleware as api_middleware
from api.models import Scope
from staff.middleware import SESSION_SEEN
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/consent/check"
QUERY = {"purpose": "marketing_products", "email": "nobody@example.no"}


def test_an_api_call_sets_no_cookie_and_carries_the_strict_policy(make_caller):
    caller = make_caller([Scope.CONSENT_CHECK])
    response = caller.get(CHECK, QUERY)
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


def test_an_api_error_carries_the_strict_policy_too(client):
    response = client.get(CHECK, QUERY, headers={"Accept-Language": "en"})
    assert_problem(response, 401, "unauthenticated")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_a_staff_login_cookie_does_not_authenticate_an_api_call(staff_client):
    # The API knows keys only: a browser's admin session sent along is not a client.
    response = staff_client.get(CHECK, QUERY, headers={"Accept-Language": "en"})
    assert_problem(response, 401, "unauthenticated")


def test_the_admin_still_needs_a_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_admin_login_still_refuses_a_post_without_its_csrf_token(staff_user):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("admin:login"), {"username": staff_user.username, "password": "pw"})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_an_idle_staff_session_still_ends_on_an_admin_page(client, staff_user):
    client.force_login(staff_user)
    session = client.session
    session[SESSION_SEEN] = time.time() - settings.STAFF_SESSION_IDLE_SECONDS - 60
    session.save()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_password_alone_still_reaches_no_admin_page_where_two_factor_is_required(
    client, staff_user, settings
):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(staff_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:two_factor_enrol"))


def test_the_portal_and_the_api_documentation_keep_the_site_policy(client):
    for url in ("/portal/", reverse("api:swagger")):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy, url
        assert "default-src 'self'" in policy, url


def test_a_portal_form_still_gets_its_csrf_cookie(client):
    response = client.get("/portal/request/")
    assert response.status_code == 200
    assert settings.CSRF_COOKIE_NAME in response.cookies


def test_the_skipping_middleware_are_the_originals_to_their_checks():
    # The admin's E408-E410 look for subclasses of the real middleware.
    assert not [e for e in check_dependencies() if e.id in {"admin.E408", "admin.E409", "admin.E410"}]
    from django.contrib.auth.middleware import AuthenticationMiddleware

    assert issubclass(api_middleware.AuthenticationMiddleware, AuthenticationMiddleware)
    # These are looked for by their exact names (axes.W002, Django's security.W003 and W010-W013).
    for name in (
        "axes.middleware.AxesMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
    ):
        assert name in settings.MIDDLEWARE
