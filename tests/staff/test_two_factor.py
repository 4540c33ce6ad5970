"""Two-factor login for staff (django-otp): enrolment forced at first login, a code at every
login after, single-use backup codes, recovery by the privacy officer (issue 11, found broken 3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent

pytestmark = pytest.mark.django_db

ENROL = reverse("staff:two_factor_enrol")
VERIFY = reverse("staff:two_factor_verify")
ADMIN = reverse("admin:index")


@pytest.fixture(autouse=True)
def _required(settings):
    settings.STAFF_2FA_REQUIRED = True


def code_for(device: TOTPDevice) -> str:
    """What the person's authenticator app shows (RFC 6238 as django-otp computes it)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrol(client, user) -> list[str]:
    """Go through the enrolment page as a person with a phone; returns the backup codes shown."""
    client.force_login(user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"token": code_for(device), "next": ADMIN})
    assert response.status_code == 200, response.content
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


def test_a_password_alone_reaches_nothing_and_the_first_login_enrols(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("admin:subjects_contact_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert client.get(reverse("staff:access_answer_download", args=[1])).status_code == 302

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<path" in body  # the QR code, drawn by the qrcode package
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    assert page.context["secret"] in body
    # Reloading the page shows the same key, not a new one the phone never saw.
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1

    session_before = client.session.session_key
    done = client.post(ENROL, {"token": code_for(device), "next": ADMIN})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.session.session_key != session_before  # a new privilege, a new session key
    assert client.get(ADMIN).status_code == 200
    assert AuditEvent.objects.filter(
        action="staff.two_factor_enrolled", target_id=str(staff_user.pk)
    ).exists()


def test_a_wrong_code_does_not_enrol(client, staff_user):
    client.force_login(staff_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=staff_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"token": wrong})
    assert response.status_code == 200 and response.context["form"].errors["token"]
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(ADMIN).status_code == 302


def test_every_later_login_asks_for_the_code(client, staff_user):
    enrol(client, staff_user)
    client.logout()
    client.force_login(staff_user)
    response = client.get(reverse("admin:subjects_contact_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    device = TOTPDevice.objects.get(user=staff_user)
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        done = client.post(
            VERIFY, {"token": code_for(device), "next": reverse("admin:subjects_contact_changelist")}
        )
        assert done.status_code == 302 and done["Location"] == reverse("admin:subjects_contact_changelist")
        assert client.get(ADMIN).status_code == 200


def test_a_code_is_not_taken_twice(client, staff_user):
    enrol(client, staff_user)
    device = TOTPDevice.objects.get(user=staff_user)
    used = code_for(device)  # the enrolment used it
    client.logout()
    client.force_login(staff_user)
    response = client.post(VERIFY, {"token": used})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(ADMIN).status_code == 302


def test_a_backup_code_logs_in_once(client, staff_user):
    codes = enrol(client, staff_user)
    assert len(codes) == 10 and len(set(codes)) == 10
    for attempt, expected in ((1, 302), (2, 200)):
        client.logout()
        client.force_login(staff_user)
        with time_machine.travel(timezone.now() + timedelta(minutes=attempt * 5)):
            response = client.post(VERIFY, {"token": codes[0].upper(), "next": ADMIN})
        assert response.status_code == expected, attempt
    assert StaticToken.objects.filter(device__user=staff_user).count() == 9


def test_a_password_alone_cannot_replace_an_enrolled_phone(client, staff_user):
    enrol(client, staff_user)
    client.logout()
    client.force_login(staff_user)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(ENROL, {"token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1


def test_guessing_codes_is_throttled(client, staff_user):
    enrol(client, staff_user)
    device = TOTPDevice.objects.get(user=staff_user)
    client.logout()
    client.force_login(staff_user)
    with time_machine.travel(timezone.now() + timedelta(seconds=60), tick=False):
        for _ in range(3):
            client.post(VERIFY, {"token": f"{(int(code_for(device)) + 7) % 1_000_000:06d}"})
        # Even the right code is refused while the throttle lasts (django-otp's growing delay).
        assert client.post(VERIFY, {"token": code_for(device)}).status_code == 200
        assert client.get(ADMIN).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(seconds=120), tick=False):
        assert client.post(VERIFY, {"token": code_for(device)}).status_code == 302
        assert client.get(ADMIN).status_code == 200


def test_the_privacy_officer_resets_a_lost_phone_with_an_audit_event(client, staff_user, django_user_model):
    from django.contrib.auth.models import Group

    from staff.roles import ROLES_BY_CODE, roles_sync

    roles_sync()
    handler = django_user_model.objects.create_user("saksbehandler", "s@example.no", "pw", is_staff=True)
    handler.groups.set([Group.objects.get(name=ROLES_BY_CODE["request_handler"].name)])
    enrol(client, handler)
    client.logout()

    enrol(client, staff_user)  # the privacy officer, logged in with their own second factor
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "two_factor_reset", "_selected_action": [str(handler.pk)], "index": "0"},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=handler).exists()
    assert not StaticToken.objects.filter(device__user=handler).exists()
    event = AuditEvent.objects.get(action="staff.two_factor_reset")
    assert (event.actor_id, event.target_id) == (str(staff_user.pk), str(handler.pk))

    client.logout()
    client.force_login(handler)
    assert client.get(ADMIN)["Location"].startswith(ENROL)  # enrols again at the next login


def test_without_the_requirement_a_password_is_enough(client, staff_user, settings):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(staff_user)
    assert client.get(ADMIN).status_code == 200


def test_no_totp_key_or_backup_code_appears_in_the_admin(client, staff_user):
    codes = enrol(client, staff_user)
    device = TOTPDevice.objects.get(user=staff_user)
    pages = [
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_static_staticdevice_changelist"),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert device.key not in body and codes[0] not in body, url
