"""Reads about staff access: second factors, lockouts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django_otp.plugins.otp_totp.models import TOTPDevice


def staff_has_authenticator(*, user: AbstractBaseUser) -> bool:
    """Whether ``user`` finished enrolling an authenticator app (so logs in with it, not enrols again)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def staff_two_factor_devices(*, user: AbstractBaseUser) -> list:
    """The confirmed devices a code is checked against: the app first, then the backup codes."""
    from django_otp import devices_for_user

    devices = list(devices_for_user(user, confirmed=True))
    return sorted(devices, key=lambda device: device.__class__.__name__ != "TOTPDevice")


def staff_role_names(*, user: AbstractBaseUser) -> list[str]:
    """The roles (staff/roles.py) ``user`` holds, for the audit trail's "with which role"."""
    from .roles import ROLES

    names = {role.name for role in ROLES}
    return sorted(name for name in user.groups.values_list("name", flat=True) if name in names)
