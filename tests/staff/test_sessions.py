"""Staff sessions: a working day at most, 30 minutes idle at most, a new key at login
(issue 11, found broken 4: staff sessions lasted 14 days with no idle timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
ROOT = Path(__file__).resolve().parents[2]


def _settings_of(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )


def test_the_defaults_are_a_working_day_and_half_an_hour():
    assert settings.STAFF_SESSION_SECONDS == 9 * 3600
    assert settings.STAFF_SESSION_IDLE_SECONDS == 30 * 60


def test_half_an_hour_idle_ends_the_session(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(staff_user)
        assert client.get(ADMIN).status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("admin:subjects_contact_changelist"))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
        assert SESSION_KEY not in client.session
        assert client.get(ADMIN).status_code == 302


def test_activity_keeps_it_open_but_not_past_a_working_day(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(staff_user)
        client.get(ADMIN)
    minutes = 0
    while minutes + 25 <= 9 * 60:
        minutes += 25
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(ADMIN).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=9, minutes=1), tick=False):
        assert client.get(ADMIN).status_code == 302


def test_the_session_cookie_is_httponly_and_lax(client, staff_user):
    client.force_login(staff_user)
    response = client.get(ADMIN)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_logging_in_through_the_form_rotates_the_session_key(client, django_user_model):
    django_user_model.objects.create_user("ombud", "o@example.no", "riktig-passord-1", is_staff=True)
    session = client.session
    session["language_chosen"] = "nb"  # a visitor's session before logging in
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    response = client.post(reverse("admin:login"), {"username": "ombud", "password": "riktig-passord-1"})
    assert response.status_code == 302
    assert client.session.session_key != before


def test_production_cookies_are_secure_httponly_lax_and_two_factor_is_on():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 40,
        "HASH_KEY": "h" * 40,
        "DEBUG": "false",
    }
    env.pop("STAFF_2FA_REQUIRED", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.STAFF_2FA_REQUIRED, s.AXES_CLIENT_IP_CALLABLE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True", "Lax", "True", "True", "core.http.client_ip"]


def test_the_local_demo_logs_in_without_a_second_factor():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.pop("STAFF_2FA_REQUIRED", None)
    code = "import django; django.setup(); from django.conf import settings as s; print(s.STAFF_2FA_REQUIRED)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_an_ended_staff_login_still_sees_public_pages_and_keeps_the_visitors_session(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(staff_user)
        session = client.session
        session["visitor_note"] = "kept"  # what the portal keeps for a visitor
        session.save()
        client.get(ADMIN)
        before = client.session.session_key
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get("/portal/").status_code == 200
        assert SESSION_KEY not in client.session
        assert client.session.session_key != before
        assert client.session.get("visitor_note") == "kept"
