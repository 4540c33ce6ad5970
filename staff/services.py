"""Staff access: enrolling in two-factor login, recovering it, unlocking a locked-out login.

The TOTP and the backup codes are django-otp's (RFC 6238 and single-use static
tokens); this module only decides when a device is created, confirmed or removed,
and records each step in the audit trail (Art. 32: who may reach the data).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import Actor, audit_record, audit_record_many

TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def two_factor_enrolment_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed TOTP device the enrolment page shows as a QR code (the same one on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def two_factor_enrolment_confirm(
    *, user: AbstractBaseUser, token: str, actor: Actor
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app with a first code; returns the device and fresh single-use backup codes.

    The codes are shown once and kept only as django-otp keeps them; a second
    enrolment (after a reset) replaces them all.
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None:
            raise ValidationError(
                _("Start the enrolment again: there is no authenticator waiting for a code.")
            )
        if not device.verify_token(token):
            raise ValidationError(_("That code is not right. Check the clock of your phone and try again."))
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = backup_codes_replace(user=user)
        audit_record(actor=actor, action="staff.two_factor_enrolled", target=user)
    return device, codes


def backup_codes_replace(*, user: AbstractBaseUser) -> list[str]:
    """New single-use backup codes for ``user``; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def two_factor_reset(*, user: AbstractBaseUser, actor: Actor) -> int:
    """Recovery (a lost phone): remove every second factor of ``user``; they enrol again at next login.

    Only the privacy officer does this (the admin action's permission), and it is
    recorded: a reset is the one way round the second factor.
    """
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        audit_record(actor=actor, action="staff.two_factor_reset", target=user)
    return removed


def staff_unlock(*, user: AbstractBaseUser, actor: Actor) -> int:
    """Lift a lockout of ``user``'s login name (django-axes); returns the failed attempts removed.

    A lockout of an address (many names tried from one place) is lifted in the
    access attempts list, or expires after ``STAFF_LOCKOUT_MINUTES``.
    """
    from axes.utils import reset

    with transaction.atomic():
        removed = reset(username=user.get_username())
        audit_record(actor=actor, action="staff.unlock", target=user)
    return removed


def staff_attempts_unlock(*, attempts: QuerySet, actor: Actor) -> int:
    """Forget the chosen failed login attempts, lifting the lockout they cause (Art. 32).

    django-axes removes them (its own reset, by address and user name, as its cool-off
    does); the audit trail records which attempts, never the names or addresses tried.
    """
    from axes.models import AccessAttempt
    from axes.utils import reset

    removed = 0
    with transaction.atomic():
        ids = list(attempts.values_list("pk", flat=True))
        for ip_address, username in set(attempts.values_list("ip_address", "username")):
            removed += reset(ip=ip_address, username=username)
        audit_record_many(actor=actor, action="staff.unlock_attempts", model=AccessAttempt, ids=ids)
    return removed
