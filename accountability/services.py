"""Writes to the accountability registers; every door (admin, receiver, task) calls these."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict
from core.mail import send_email
from core.registry import registry
from core.validators import normalise_email
from subjects.models import Contact

from . import selectors
from .models import (
    REMINDER_HOURS,
    Breach,
    BreachCommunication,
    BreachNotification,
    BreachRevision,
    DashboardFigure,
    Disclosure,
    ProcessingRecordVersion,
    Recipient,
)

# --- Recipients (Art. 28, Art. 30(1)(d)-(e)) ---------------------------------------------------


def recipient_create(*, actor: Actor, **values: Any) -> Recipient:
    recipient = Recipient(**values)
    recipient.full_clean()
    with transaction.atomic():
        recipient.save()
        audit_record(actor=actor, action="recipient.create", target=recipient, fields=values.keys())
    return recipient


def recipient_update(*, actor: Actor, recipient: Recipient, changes: dict[str, Any]) -> Recipient:
    for name, value in changes.items():
        setattr(recipient, name, value)
    recipient.full_clean()
    with transaction.atomic():
        recipient.save()
        audit_record(actor=actor, action="recipient.update", target=recipient, fields=changes.keys())
    return recipient


def recipients_send_reminders() -> dict[str, int]:
    """Tell the privacy officer of agreements due for review soon, and of transfers without a mechanism.

    A review reminder goes out once per review date (claimed by a conditional
    UPDATE), so running the job twice a day sends nothing twice. Transfers
    without a Chapter V ground are listed every time the job runs: they are
    unlawful until fixed (Art. 44).
    """
    today_ = timezone.localdate()
    due = list(selectors.recipients_review_due(today=today_).order_by("dpa_next_review", "code"))
    claimed = [
        r
        for r in due
        if Recipient.objects.filter(pk=r.pk)
        .exclude(reminded_review_for=r.dpa_next_review)
        .update(reminded_review_for=r.dpa_next_review)
    ]
    unlawful = list(selectors.recipients_transfer_without_mechanism().order_by("code"))
    if claimed or unlawful:
        send_email(
            "accountability-recipients",
            {"reviews": claimed, "transfers": unlawful, "today": today_},
            to=settings.PRIVACY_OFFICER_EMAIL,
            language=settings.LANGUAGE_CODE,
        )
    return {"reviews": len(claimed), "transfers": len(unlawful)}


# --- Disclosures (Art. 15(1)(c), Art. 30(1)(d)) ------------------------------------------------


def disclosure_record(
    *,
    recipient: str | Recipient,
    contact_ids: Iterable[int],
    categories: Iterable[str],
    purpose: str = "",
    channel: str,
    reason: str = "",
    actor: Actor,
    disclosed_at: datetime | None = None,
) -> list[Disclosure]:
    """One row per person whose data left for ``recipient``; in the caller's transaction.

    The recipient must be in the register: a disclosure to someone unknown is
    exactly what the register exists to prevent, so it fails the sender.
    """
    if not isinstance(recipient, Recipient):
        found = Recipient.objects.filter(code=recipient).first()
        if found is None:
            raise ValidationError(_("The recipient is not in the register of recipients."), code="unknown")
        recipient = found
    known = set(registry.categories())
    categories = sorted(set(categories))
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise ValidationError(_("Unknown data category: %(codes)s.") % {"codes": ", ".join(unknown)})
    if channel not in Disclosure.Channel.values:
        raise ValidationError(_("Unknown channel."))
    user = None
    if actor.kind == "staff" and actor.id:
        user = get_user_model().objects.filter(pk=actor.id).first()
    when = disclosed_at or timezone.now()
    # A person erased before the disclosure was logged (Art. 19: the recipient is told of the
    # erasure after it happened) leaves one row without a person: the fact stays, not who.
    wanted = set(contact_ids)
    present = set(Contact.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    person_ids: list[int | None] = sorted(present) + ([None] if wanted - present else [])
    rows = [
        Disclosure(
            recipient=recipient,
            contact_id=contact_id,
            categories=categories,
            purpose=purpose,
            channel=channel,
            reason=reason[:500],
            disclosed_at=when,
            recorded_by=user,
        )
        for contact_id in person_ids
    ]
    with transaction.atomic():
        created = Disclosure.objects.bulk_create(rows)
        for row in created:
            audit_record(actor=actor, action="disclosure.record", target=row)
    return created


# --- Breaches (Art. 33) ------------------------------------------------------------------------

BREACH_FIELDS = (
    "title", "discovered_at", "discovered_by", "occurred_at", "description", "categories",
    "people_categories", "approx_people", "approx_records", "consequences", "measures_taken",
    "measures_proposed", "risk", "risk_assessment", "decision", "decision_reason", "decided_at",
    "notified_at", "authority_reference", "delay_reason", "closed_at",
)  # fmt: skip


def _snapshot(breach: Breach) -> dict[str, Any]:
    values = {name: getattr(breach, name) for name in BREACH_FIELDS}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def breach_validate(breach: Breach) -> None:
    errors: dict[str, str] = {}
    known = set(registry.categories())
    unknown = [c for c in breach.categories or [] if c not in known]
    if unknown:
        errors["categories"] = _("Unknown data category: %(codes)s.") % {"codes": ", ".join(unknown)}
    if breach.decision != Breach.Decision.UNDECIDED and not breach.decision_reason.strip():
        # Art. 33(5): the decision, either way, is documented with its reasons.
        errors["decision_reason"] = _("Give the reason for the decision.")
    if breach.notified_at is not None:
        if breach.decision != Breach.Decision.NOTIFY:
            errors["decision"] = _("A notification to Datatilsynet means the decision is to notify.")
        if not breach.authority_reference.strip():
            errors["authority_reference"] = _("Give Datatilsynet's reference for the notification.")
        if breach.notified_at > breach.deadline and not breach.delay_reason.strip():
            # Art. 33(1): "accompanied by reasons for the delay".
            errors["delay_reason"] = _(
                "The notification came after 72 hours: give the reasons for the delay."
            )
    if errors:
        raise ValidationError(errors)


def _breach_save(*, actor: Actor, breach: Breach, changed: Iterable[str], action: str) -> Breach:
    if breach.decision != Breach.Decision.UNDECIDED and breach.decided_at is None:
        breach.decided_at = timezone.now()
    breach.full_clean()
    breach_validate(breach)
    changed = sorted(set(changed))
    with transaction.atomic():
        breach.save()
        number = (
            BreachRevision.objects.select_for_update().filter(breach=breach).order_by("-number")
            .values_list("number", flat=True).first() or 0
        )  # fmt: skip
        BreachRevision.objects.create(
            breach=breach, number=number + 1, actor_kind=actor.kind, actor_id=actor.id,
            changed_fields=changed, snapshot=_snapshot(breach),
        )  # fmt: skip
        audit_record(actor=actor, action=action, target=breach, fields=changed)
    return breach


def breach_create(*, actor: Actor, **values: Any) -> Breach:
    """Record a breach as soon as it is known (Art. 33(5)); the 72-hour clock runs from ``discovered_at``."""
    breach = Breach(**values)
    return _breach_save(actor=actor, breach=breach, changed=values.keys(), action="breach.create")


def breach_update(*, actor: Actor, breach: Breach, changes: dict[str, Any]) -> Breach:
    """Change the record; the version before stays in ``BreachRevision``."""
    changes = {k: v for k, v in changes.items() if k in BREACH_FIELDS}
    for name, value in changes.items():
        setattr(breach, name, value)
    return _breach_save(actor=actor, breach=breach, changed=changes.keys(), action="breach.update")


def breaches_send_reminders() -> int:
    """Remind the privacy officer at 24, 48 and 68 hours while a breach's 72-hour clock runs.

    The clock runs until Datatilsynet is notified or it is decided, with reasons,
    not to notify; a decision to notify that is not yet carried out keeps it running.

    Each reminder is claimed by a conditional UPDATE on ``reminded_hours``, so a
    job that runs twice, or two workers, send it once. A breach found by the job
    only after 48 hours gets the 48-hour reminder, not the 24-hour one as well.
    """
    now = timezone.now()
    sent = 0
    running = Breach.objects.filter(notified_at=None, closed_at=None).exclude(
        decision=Breach.Decision.NOT_NOTIFY
    )
    for breach in running:
        elapsed = (now - breach.discovered_at).total_seconds() / 3600  # real hours, whatever the zones
        due = max((h for h in REMINDER_HOURS if elapsed >= h), default=0)
        if due <= breach.reminded_hours:
            continue
        if not Breach.objects.filter(pk=breach.pk, reminded_hours__lt=due).update(reminded_hours=due):
            continue
        send_email(
            "accountability-breach-clock",
            {"breach": breach, "hours": due, "hours_left": max(0, round(breach.hours_left(now)))},
            to=settings.PRIVACY_OFFICER_EMAIL,
            language=settings.LANGUAGE_CODE,
        )
        audit_record(actor=Actor.system("breach_reminders"), action="breach.reminded", target=breach)
        sent += 1
    return sent


# --- Telling the people concerned (Art. 34) ----------------------------------------------------


def breach_people(
    *, organisation_ids: Iterable[int] = (), categories: Iterable[str] = (), addresses: Iterable[str] = ()
) -> QuerySet[Contact]:
    """The contacts chosen by organisation, by data category concerned, or by address (any of them).

    A category reaches the contacts whose address holds rows of that category in
    any registered model (core.registry), one subquery per model.
    """
    condition = Q(pk__in=[])
    organisation_ids = sorted({int(i) for i in organisation_ids})
    if organisation_ids:
        condition |= Q(organisation_id__in=organisation_ids)
    for category in sorted(set(categories)):
        for declaration in registry.by_category(category):
            if declaration.model is Contact:
                return Contact.objects.all()  # every contact holds contact details
            if declaration.subject_email_path is None:
                continue
            emails = declaration.model._default_manager.values(declaration.subject_email_path)
            condition |= Q(email__in=emails)
    wanted = sorted({normalise_email(a) for a in addresses if normalise_email(a)})
    if wanted:
        condition |= Q(email__in=wanted)
    return Contact.objects.filter(condition)


def breach_communication_create(
    *,
    actor: Actor,
    breach: Breach,
    subject_nb: str,
    body_nb: str,
    subject_en: str,
    body_en: str,
    organisation_ids: Iterable[int] = (),
    categories: Iterable[str] = (),
    addresses: Iterable[str] = (),
) -> BreachCommunication:
    """A draft message and the people it goes to, fixed now so that staff review both before sending."""
    organisation_ids = sorted({int(i) for i in organisation_ids})
    categories = sorted(set(categories))
    addresses = [a for a in addresses if a.strip()]
    communication = BreachCommunication(
        breach=breach, subject_nb=subject_nb, body_nb=body_nb, subject_en=subject_en, body_en=body_en,
        selection={"organisations": organisation_ids, "categories": categories, "addresses": len(addresses)},
    )  # fmt: skip
    communication.full_clean()
    people = breach_people(organisation_ids=organisation_ids, categories=categories, addresses=addresses)
    with transaction.atomic():
        communication.save()
        BreachNotification.objects.bulk_create(
            (
                BreachNotification(communication=communication, contact_id=pk, language=language or "nb")
                for pk, language in people.order_by("pk").values_list("pk", "language").iterator()
            ),
            batch_size=1000,
        )
        if not communication.people.exists():
            raise ValidationError(
                _("Nobody matches this choice: choose organisations, categories or addresses.")
            )
        audit_record(actor=actor, action="breach.communication_create", target=communication)
    return communication


def breach_communication_start(*, actor: Actor, communication: BreachCommunication) -> BreachCommunication:
    """Approve the reviewed message and start sending it in batches (Art. 34(1): without undue delay)."""
    from .tasks import breach_communication_send

    approver = int(actor.id) if actor.kind == "staff" and actor.id else None
    with transaction.atomic():
        started = BreachCommunication.objects.filter(
            pk=communication.pk, status=BreachCommunication.Status.DRAFT
        ).update(
            status=BreachCommunication.Status.SENDING,
            approved_at=timezone.now(),
            approved_by_id=approver,
        )
        if not started:
            raise Conflict(_("This message has already been sent or is being sent."))
        audit_record(
            actor=actor, action="breach.communication_start", target=communication, fields=["status"]
        )
        pk = communication.pk
        transaction.on_commit(lambda: breach_communication_send.delay(communication_id=pk))
    communication.refresh_from_db()
    return communication


def breach_communication_batch(*, communication_id: int, batch_size: int) -> tuple[int, bool]:
    """Tell the next ``batch_size`` people not yet told; returns (sent, finished).

    Each person's row is locked (``skip_locked``: a second worker takes others),
    the email sent and ``sent_at`` set in one transaction, so a person is
    recorded as told exactly when their email went; a worker stopped between
    batches leaves the rest untold and a resumed one carries on from there.
    """
    communication = BreachCommunication.objects.filter(
        pk=communication_id, status=BreachCommunication.Status.SENDING
    ).first()
    if communication is None:
        return 0, True
    todo = BreachNotification.objects.filter(communication=communication, sent_at=None)
    ids = list(todo.order_by("id").values_list("id", flat=True)[:batch_size])
    sent = 0
    for pk in ids:
        with transaction.atomic():
            row = (
                BreachNotification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("contact").filter(pk=pk, sent_at=None).first()
            )  # fmt: skip
            if row is None:
                continue  # told by someone else meanwhile
            if row.contact is not None:
                language = row.language if row.language in {"nb", "en"} else "nb"
                send_email(
                    "accountability-breach-people",
                    {
                        "subject": getattr(communication, f"subject_{language}"),
                        "body": getattr(communication, f"body_{language}"),
                    },
                    to=row.contact.email,
                    language=language,
                )
            row.sent_at = timezone.now()
            row.save(update_fields=["sent_at"])
            sent += 1
    finished = not todo.exists()
    if finished and BreachCommunication.objects.filter(
        pk=communication.pk, status=BreachCommunication.Status.SENDING
    ).update(status=BreachCommunication.Status.FINISHED, finished_at=timezone.now()):
        audit_record(actor=Actor.system("breach_communication"), action="breach.communication_finished",
                     target=communication)  # fmt: skip
    return sent, finished


# --- Records of processing (Art. 30) -------------------------------------------------------------


def processing_record_snapshot() -> ProcessingRecordVersion | None:
    """Keep the records as they stand now, if they differ from the last version kept.

    Called after a change to what the records are generated from, and daily by
    beat (for changes no signal tells of, such as a new declaration after a
    deploy); returns the new version, or None when nothing changed.
    """
    from . import records

    content = records.build_both_languages()
    digest = records.digest(content)
    with transaction.atomic():
        last = ProcessingRecordVersion.objects.select_for_update().order_by("-taken_at", "-id").first()
        if last is not None and last.digest == digest:
            return None
        return ProcessingRecordVersion.objects.create(digest=digest, content=content)


# --- The dashboard's figures ---------------------------------------------------------------------


def dashboard_refresh(*, months: int = 12) -> int:
    """Recompute the dashboard's aggregates into ``DashboardFigure``; run by beat, not by a page view.

    Each figure is one grouped query over its table (a scan that a page view
    must never do at a million contacts); the set is replaced in one
    transaction so a page never shows half of a refresh.
    """
    from django.db.models import Count, F
    from django.db.models.functions import TruncMonth

    from consent.models import ConsentEvent
    from requests_dsar.models import DataSubjectRequest
    from retention.selectors import retention_preview

    now = timezone.now()
    since = (timezone.localdate(now).replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    rows: list[DashboardFigure] = []

    def add(key: str, dimension: str, month: Any, value: int) -> None:
        month = month.date() if hasattr(month, "date") else month
        rows.append(
            DashboardFigure(key=key, dimension=dimension or "", month=month, value=value, refreshed_at=now)
        )

    for r in (
        DataSubjectRequest.objects.filter(submitted_at__date__gte=since)
        .annotate(m=TruncMonth("submitted_at")).values("m", "type").annotate(n=Count("id"))
    ):  # fmt: skip
        add("requests", r["type"], r["m"], r["n"])
    for r in (
        DataSubjectRequest.objects.filter(closed_at__date__gte=since, status__in=["completed", "refused"])
        .annotate(m=TruncMonth("closed_at")).values("m")
        .annotate(in_time=Count("id", filter=Q(closed_at__date__lte=F("due_date"))), n=Count("id"))
    ):  # fmt: skip
        add("requests_answered", "in_time", r["m"], r["in_time"])
        add("requests_answered", "late", r["m"], r["n"] - r["in_time"])
    for action, key in (("granted", "consents_granted"), ("withdrawn", "consents_withdrawn")):
        for r in (
            ConsentEvent.objects.filter(occurred_at__date__gte=since, action=action)
            .annotate(m=TruncMonth("occurred_at")).values("m", "purpose__code").annotate(n=Count("id"))
        ):  # fmt: skip
            add(key, r["purpose__code"], r["m"], r["n"])
    for r in Contact.objects.values("source_type").annotate(n=Count("id")):
        add("contacts_by_source", r["source_type"], None, r["n"])
    due: dict[str, int] = {}
    for line in retention_preview(sample_size=0):
        due[line.policy.code] = due.get(line.policy.code, 0) + line.due + line.due_in_30_days
    for code, value in due.items():
        add("deletions_due_30d", code, None, value)
    with transaction.atomic():
        DashboardFigure.objects.all().delete()
        DashboardFigure.objects.bulk_create(rows)
    return len(rows)
