"""Lockout after repeated failed logins, per user name and per client address (django-axes),
through the real login form (issue 11, found broken 2: 30 wrong passwords, then the right one logged in)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from core.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
LIMIT = 5
RIGHT = "riktig-passord-1"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


@pytest.fixture
def officer(django_user_model):
    return django_user_model.objects.create_user("ombud", "ombud@example.no", RIGHT, is_staff=True)


def attempt(client, username: str, password: str, ip: str = "192.0.2.10", forwarded: str = ""):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


def test_the_right_password_after_too_many_wrong_ones_does_not_log_in(client, officer):
    for _ in range(LIMIT - 1):
        assert attempt(client, "ombud", "feil").status_code == 200  # the form again, with an error
    assert attempt(client, "ombud", "feil").status_code == 429
    response = attempt(client, "ombud", RIGHT)
    assert response.status_code == 429 and not logged_in(client)
    assert "locked" in response.content.decode().lower() or "låst" in response.content.decode()


def test_fewer_failures_than_the_limit_still_log_in(client, officer):
    for _ in range(LIMIT - 1):
        attempt(client, "ombud", "feil")
    assert attempt(client, "ombud", RIGHT).status_code == 302 and logged_in(client)


def test_one_user_name_is_locked_from_any_address(client, officer):
    for n in range(LIMIT):
        attempt(client, "ombud", "feil", ip=f"198.51.100.{n + 1}")
    assert attempt(client, "ombud", RIGHT, ip="203.0.113.99").status_code == 429
    assert not logged_in(client)


def test_one_address_trying_many_names_is_locked_for_every_name(client, officer):
    for n in range(LIMIT):
        attempt(client, f"gjett{n}", "feil", ip="192.0.2.66")
    assert attempt(client, "ombud", RIGHT, ip="192.0.2.66").status_code == 429
    # Another address logs in: the lock is on the guessing address, not on everyone.
    assert attempt(client, "ombud", RIGHT, ip="192.0.2.67").status_code == 302


def test_behind_the_proxy_the_address_is_the_client_not_the_proxy(client, officer):
    for n in range(LIMIT):
        attempt(client, f"gjett{n}", "feil", ip="10.0.0.2", forwarded="192.0.2.66")
    # The same proxy forwarding another client: not locked (client_ip, TRUSTED_PROXIES).
    assert attempt(client, "ombud", RIGHT, ip="10.0.0.2", forwarded="192.0.2.77").status_code == 302
    client.logout()
    assert attempt(client, "ombud", RIGHT, ip="10.0.0.2", forwarded="192.0.2.66").status_code == 429


def test_the_privacy_officer_unlocks_a_user_in_the_admin(client, officer, staff_user):
    for n in range(LIMIT):
        attempt(client, "ombud", "feil", ip=f"198.51.100.{n + 1}")
    assert attempt(client, "ombud", RIGHT).status_code == 429

    client.force_login(staff_user)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock", "_selected_action": [str(officer.pk)], "index": "0"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="staff.unlock")
    assert (event.actor_id, event.target_id) == (str(staff_user.pk), str(officer.pk))
    client.logout()
    assert attempt(client, "ombud", RIGHT).status_code == 302 and logged_in(client)


def test_unlocking_the_attempts_in_the_admin_lifts_the_lockout_and_is_audited(client, officer, staff_user):
    from axes.models import AccessAttempt

    for _ in range(LIMIT):
        attempt(client, "ombud", "feil")
    client.force_login(staff_user)
    attempts = AccessAttempt.objects.filter(username="ombud")
    ids = {str(a.pk) for a in attempts}
    # The stock delete is gone (login records are personal data the sweep removes) ...
    response = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": sorted(ids), "post": "yes", "index": "0"},
    )
    assert AccessAttempt.objects.filter(username="ombud").exists()
    assert client.get(reverse("admin:axes_accessattempt_delete", args=[attempts[0].pk])).status_code == 403
    # ... and unlocking takes its place, recorded per attempt without the name or address tried.
    response = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "unlock_attempts", "_selected_action": sorted(ids), "index": "0"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    events = AuditEvent.objects.filter(action="staff.unlock_attempts")
    assert {e.target_id for e in events} == ids
    assert all(e.actor_id == str(staff_user.pk) for e in events)
    client.logout()
    assert attempt(client, "ombud", RIGHT).status_code == 302


def test_a_lockout_expires_after_the_cool_off(client, officer, settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    for _ in range(LIMIT):
        attempt(client, "ombud", "feil")
    assert attempt(client, "ombud", RIGHT).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)):
        assert attempt(client, "ombud", RIGHT).status_code == 302
