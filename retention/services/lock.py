"""The sweep's lock: a lease one sweep holds at a time, claimed with a conditional UPDATE."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import LockLost
from ..models import SweepLock

LOCK_NAME = "retention-sweep"

# The lock -----------------------------------------------------------------


def sweep_lock_claim(*, holder: str, lease_seconds: int | None = None) -> bool:
    """Take the lease if nobody holds it, it has expired, or ``holder`` holds it already.

    One conditional UPDATE. The holder is the Celery task's id when a task runs
    the sweep: a task redelivered after its worker was killed holds the lock
    under its own id and takes its interrupted run over at once, instead of
    waiting out the lease (and skipping the night's sweep).
    """
    lease = timedelta(seconds=lease_seconds or settings.RETENTION_LOCK_LEASE_SECONDS)
    now = timezone.now()
    SweepLock.objects.get_or_create(name=LOCK_NAME)
    claimed = (
        SweepLock.objects.filter(name=LOCK_NAME)
        .filter(Q(holder="") | Q(holder=holder) | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + lease)
    )
    return claimed == 1


def sweep_lock_renew(*, holder: str) -> None:
    lease = timedelta(seconds=settings.RETENTION_LOCK_LEASE_SECONDS)
    if not SweepLock.objects.filter(name=LOCK_NAME, holder=holder).update(expires_at=timezone.now() + lease):
        raise LockLost(_("The sweep lost its lock to another run and stopped."))


def sweep_lock_release(*, holder: str) -> None:
    SweepLock.objects.filter(name=LOCK_NAME, holder=holder).update(holder="", expires_at=None)
