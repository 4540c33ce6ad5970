"""Privacy notices, their publication and mailings (Art. 12-14; the policy's Endringer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict
from core.mail import send_email
from subjects.models import Contact

from .. import selectors
from ..models import (
    InformationNotice,
    NoticeNotification,
    PrivacyNotice,
)
from .common import CONTROLLER, _save


def notice_create(*, actor: Actor, **values: Any) -> PrivacyNotice:
    values.pop("published_at", None)
    notice = PrivacyNotice(**values)
    with transaction.atomic():
        _save(notice)
        audit_record(actor=actor, action="notice.create", target=notice, fields=values)
    return notice


def notice_update(*, notice: PrivacyNotice, actor: Actor, changes: dict[str, Any]) -> PrivacyNotice:
    changes.pop("published_at", None)
    with transaction.atomic():
        stored = PrivacyNotice.objects.select_for_update().get(pk=notice.pk)
        if stored.is_published:
            # Each old version stays readable as it was; a change is a new version.
            raise Conflict(_("A published notice cannot be changed; create a new version instead."))
        for name, value in changes.items():
            setattr(stored, name, value)
        _save(stored)
        audit_record(actor=actor, action="notice.update", target=stored, fields=changes)
    return stored


def notice_publish(*, notice: PrivacyNotice, actor: Actor) -> PrivacyNotice:
    """Publish a version; a material change is emailed to every active contact before it takes effect."""
    now = timezone.now()
    if notice.is_published:
        raise Conflict(_("This version is already published."))
    if notice.is_material and notice.effective_from <= now:
        # Policy (Endringer): significant changes are announced before they take effect.
        raise Conflict(
            _("A material change must take effect in the future, so that everyone can be told first.")
        )
    with transaction.atomic():
        claimed = PrivacyNotice.objects.filter(pk=notice.pk, published_at__isnull=True).update(
            published_at=now
        )
        if not claimed:
            raise Conflict(_("This version is already published."))
        notice.published_at = now
        audit_record(actor=actor, action="notice.publish", target=notice, fields=["published_at"])
        if notice.is_material:
            from ..tasks import notice_campaign_send

            notice_id = notice.pk
            transaction.on_commit(lambda: notice_campaign_send.delay(notice_id=notice_id))
    return notice


def notice_campaign_batch(*, notice_id: int, batch_size: int) -> tuple[int, bool]:
    """Tell the next ``batch_size`` active contacts about a material change; returns (sent, finished).

    Each email is sent inside the transaction that records its notification,
    and the (notice, contact) pair is unique: a second worker, a retry or a
    restart after a crash finds the row and skips the contact, so nobody is
    told twice, and whoever was not recorded is still to do.
    """
    notice = PrivacyNotice.objects.filter(pk=notice_id, published_at__isnull=False, is_material=True).first()
    if notice is None or notice.campaign_finished_at is not None:
        return 0, True
    sent = 0
    batch = list(
        selectors.contacts_to_notify(notice=notice).only("pk", "email", "language", "name", "source_type")[
            :batch_size
        ]
    )
    for contact in batch:
        try:
            with transaction.atomic():
                NoticeNotification.objects.create(notice=notice, contact=contact, language=contact.language)
                send_email(
                    "notice_change",
                    {
                        "notice": notice,
                        # hardening (issue 11, 10): a name typed into a web form came with an
                        # address nobody may have confirmed; it never goes into mail to it.
                        "contact_name": (
                            "" if contact.source_type == Contact.SourceType.WEB_FORM else contact.name
                        ),
                        "summary": notice.summary(contact.language),
                    },
                    to=contact.email,
                    language=contact.language,
                )
        except IntegrityError:
            continue  # someone else told this contact already
        sent += 1
    finished = len(batch) < batch_size and not selectors.contacts_to_notify(notice=notice).exists()
    if finished:
        PrivacyNotice.objects.filter(pk=notice.pk, campaign_finished_at__isnull=True).update(
            campaign_finished_at=timezone.now()
        )
        audit_record(actor=Actor.system("notice_campaign"), action="notice.campaign_finished", target=notice)
    return sent, finished


def art14_notices_send(*, limit: int = 500) -> int:
    """Art. 14(3)(a): tell people whose data came from someone else, within a month of collection.

    Each notice is recorded in the transaction that sends it (one row per
    contact, unique), so a rerun never sends twice; a notice past the month is
    still sent, and marked late.
    """
    notice = selectors.notice_current()
    if notice is None:
        return 0
    now = timezone.now()
    sent = 0
    for contact in selectors.contacts_due_art14_notice()[:limit]:
        late = contact.collected_at < now - timedelta(days=30)
        try:
            with transaction.atomic():
                InformationNotice.objects.create(
                    contact=contact, notice=notice, language=contact.language, late=late
                )
                send_email(
                    "art14_notice",
                    {
                        "contact_name": contact.name,
                        # Lazy label: rendered in the person's language.
                        "source": Contact.SourceType(contact.source_type).label,
                        "source_name": contact.source_name,
                        "notice": notice,
                        "controller": CONTROLLER,
                    },
                    to=contact.email,
                    language=contact.language,
                )
        except IntegrityError:
            continue
        sent += 1
    if sent:
        audit_record(
            actor=Actor.system("art14_notices"), action="art14_notice.send", target_type="subjects.contact"
        )
    return sent
