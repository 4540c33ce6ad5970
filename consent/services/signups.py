"""Web sign-ups: kept apart until the person confirms them by email (double opt-in)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.audit import Actor, audit_record
from core.crypto import new_token, token_digest
from core.errors import Conflict
from core.mail import send_email
from core.registry import registry
from core.removal import Action as RemovalAction
from core.removal import Door, RemovalOutcome, Target, removal_execute
from core.validators import clean_email
from subjects.models import Contact

from .. import machine, selectors
from ..forms import signup_wording
from ..models import (
    Channel,
    ConsentConfirmation,
    ConsentEvent,
    ConsentWording,
    PendingSignup,
    Purpose,
)
from .common import _save
from .evidence import _wording
from .ledger import _ledger_append, _lock_contact
from .links import ExpiredLink, InvalidLink
from .receipts import _receipts_send, consent_receipt

Action = ConsentEvent.Action


def signup_create(
    *,
    email: str,
    name: str,
    topics: Iterable[str],
    language: str,
    ip_address: str | None,
    user_agent: str = "",
    reference: str = "consent:subscribe",
) -> PendingSignup:
    """Keep a web sign-up apart and email its confirmation link (after commit).

    The same work for every address, known or not: nothing here reads the register,
    so neither the answer nor its time tells anyone who is in it. Nothing changes any
    consent until the person follows the link (``signup_confirm``).
    """
    email = clean_email(email)
    language = "en" if (language or "").startswith("en") else "nb"
    wanted = sorted(set(topics))
    purposes = {
        p.code: p for p in selectors.purposes_consentable().filter(is_marketing=True, code__in=wanted)
    }
    if not wanted or set(wanted) - set(purposes):
        # Direct marketing as such, or a purpose not on consent, cannot be signed up for.
        raise ValidationError({"topics": _("Choose among the topics offered.")})
    notice = selectors.notice_current()
    if notice is None:
        raise Conflict(_("No privacy notice is published yet, so no consent can be collected."))
    token = new_token()
    with transaction.atomic():
        shown = [
            {"purpose": code, "wording": _wording(signup_wording(purposes[code], language=language)).sha256}
            for code in wanted
        ]
        signup = PendingSignup(
            email=email,
            name=(name or "").strip()[:200],
            language=language,
            topics=shown,
            notice=notice,
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:500],
            reference=reference,
            token_digest=token_digest(token),
            expires_at=timezone.now() + timedelta(days=settings.CONSENT_CONFIRMATION_DAYS),
        )
        _save(signup)
        audit_record(
            actor=Actor.subject(ip_address), action="consent.signup", target=signup, fields=["topics"]
        )
        from ..tasks import signup_confirmation_send

        signup_id = signup.pk
        transaction.on_commit(lambda: signup_confirmation_send.delay(signup_id=signup_id, token=token))
    return signup


def signup_confirmation_send(*, signup_id: int, token: str) -> bool:
    """Email the confirmation link of a sign-up (the task's work); False when it is gone."""
    signup = PendingSignup.objects.filter(pk=signup_id, confirmed_at__isnull=True).first()
    if signup is None:
        return False
    names = dict(
        Purpose.objects.filter(code__in=[t["purpose"] for t in signup.topics]).values_list("code", "pk")
    )
    purposes = [p for p in Purpose.objects.filter(pk__in=names.values()).order_by("code")]
    url = settings.SITE_URL + reverse("consent:confirm", args=[token])
    context = {"purposes": purposes, "purpose": purposes[0] if purposes else None, "url": url,
               "days": settings.CONSENT_CONFIRMATION_DAYS}  # fmt: skip
    send_email("consent_confirm", context, to=signup.email, language=signup.language)
    return True


def signup_confirm(*, token: str, ip_address: str | None, user_agent: str = "") -> list[ConsentEvent]:
    """Double opt-in: the emailed link was followed, so the address is the person's own.

    Only now does the address become a contact (provenance "web form") and each topic a
    consent, recorded as the person's confirmed act (which may lift their own earlier
    opt-out for that topic, Art. 7(3), 21(3)). The sign-up itself goes, through the removal
    engine; each consent's receipt is emailed to the person.
    """
    from subjects import services as subject_services
    from subjects.selectors import contact_by_email

    if not token or len(token) > 100:
        raise InvalidLink(_("This confirmation link is not valid."))
    with transaction.atomic():
        signup = (
            PendingSignup.objects.select_for_update()
            .filter(token_digest=token_digest(token), confirmed_at__isnull=True)
            .first()
        )
        if signup is None:
            return _legacy_confirmation_confirm(token=token, ip_address=ip_address, user_agent=user_agent)
        if signup.expires_at <= timezone.now():
            raise ExpiredLink(_("This confirmation link has expired. Please sign up again."))
        actor = Actor.subject(ip_address)
        contact = contact_by_email(email=signup.email) or subject_services.contact_create(
            actor=actor,
            name=signup.name or signup.email.split("@")[0],
            email=signup.email,
            language=signup.language,
            source_type=Contact.SourceType.WEB_FORM,
            source_name="consent:subscribe",
        )
        _lock_contact(contact)
        wordings = {
            w.sha256: w
            for w in ConsentWording.objects.filter(sha256__in=[t["wording"] for t in signup.topics])
        }
        purposes = {p.code: p for p in Purpose.objects.filter(code__in=[t["purpose"] for t in signup.topics])}
        events = []
        for topic in signup.topics:
            purpose = purposes.get(topic["purpose"])
            if purpose is None or not purpose.is_active:
                continue
            event = _ledger_append(
                contact=contact,
                purpose=purpose,
                action=Action.GRANTED,
                channel=Channel.WEB_FORM,
                actor=actor,
                authority=machine.PERSON_CONFIRMED,
                ip_address=ip_address,
                user_agent=user_agent,
                reference=f"web sign-up of {signup.requested_at:%Y-%m-%dT%H:%MZ}, confirmed by email link",
                notice=signup.notice,
                wording=wordings.get(topic["wording"]),
                always_record=True,
            )
            if event is not None:
                events.append(event)
        # What the sign-up held now lives in the contact and its consents, so the sign-up goes,
        # through the one removal engine. Marked confirmed first: its link never works twice,
        # even when a hold or a guard keeps the row until the nightly expiry removes it.
        signup.confirmed_at = timezone.now()
        signup.save(update_fields=["confirmed_at"])
        _signups_remove(
            PendingSignup.objects.filter(pk=signup.pk), actor=actor, audit_action="consent.signup_confirmed"
        )
        receipts = [consent_receipt(event=e) for e in events]
        email, language = contact.email, contact.language
        transaction.on_commit(lambda: _receipts_send(email=email, language=language, receipts=receipts))
    return events


def _no_longer_valid(language: str) -> ExpiredLink:
    with override(language):
        message = _(
            "This confirmation link is no longer valid: it has expired, it was used already, or what "
            "it confirmed has changed since. To receive our emails, please sign up again."
        )
    return ExpiredLink(message, extra={"language": language})


def _legacy_confirmation_confirm(
    *, token: str, ip_address: str | None, user_agent: str
) -> list[ConsentEvent]:
    """A double opt-in link emailed before sign-ups were kept apart (a ``ConsentConfirmation``).

    Then the web form wrote the contact and an unconfirmed grant at once, and the link
    confirmed it. A link still inside its window, whose grant nothing has followed since
    (no withdrawal, no objection to it or to direct marketing: a click never undoes a later
    opt-out, Art. 7(3), 21(3)), confirms it now as the person's own act, as a new sign-up's
    link does. Any other such link raises ``ExpiredLink`` in the person's language, saying
    how to sign up again; an unknown one ``InvalidLink``. Inside ``signup_confirm``'s transaction.
    """
    confirmation = (
        ConsentConfirmation.objects.select_for_update()
        .select_related("contact", "purpose")
        .filter(token_digest=token_digest(token))
        .first()
    )
    if confirmation is None:
        raise InvalidLink(_("This confirmation link is not valid, or it was used already."))
    contact, purpose = confirmation.contact, confirmation.purpose
    if (
        confirmation.confirmed_at is not None
        or confirmation.expired_at is not None
        or confirmation.expires_at <= timezone.now()
        or not purpose.is_active
    ):
        raise _no_longer_valid(contact.language)
    _lock_contact(contact)
    grant = ConsentEvent.objects.filter(contact=contact, purpose=purpose).order_by("-id").first()
    waiting = (
        grant is not None
        and grant.action == Action.GRANTED
        and machine.authority_of(authority=grant.authority, channel=grant.channel)
        == machine.PERSON_UNCONFIRMED
        and not ConsentEvent.objects.filter(
            contact=contact, pk__gt=grant.pk, purpose__code=Purpose.DIRECT_MARKETING
        ).exists()
    )
    if not waiting:
        raise _no_longer_valid(contact.language)
    event = _ledger_append(
        contact=contact,
        purpose=purpose,
        action=Action.GRANTED,
        channel=Channel.WEB_FORM,
        actor=Actor.subject(ip_address),
        authority=machine.PERSON_CONFIRMED,
        ip_address=ip_address,
        user_agent=user_agent,
        reference=f"web sign-up of {confirmation.requested_at:%Y-%m-%dT%H:%MZ}, confirmed by email link "
        "(sent before sign-ups were kept apart)",
        notice=grant.notice,
        wording=grant.wording,
        always_record=True,
    )
    assert event is not None
    ConsentConfirmation.objects.filter(pk=confirmation.pk).update(confirmed_at=event.occurred_at)
    receipts = [consent_receipt(event=event)]
    email, language = contact.email, contact.language
    transaction.on_commit(lambda: _receipts_send(email=email, language=language, receipts=receipts))
    return [event]


def _signups_remove(signups: QuerySet, *, actor: Actor, audit_action: str) -> RemovalOutcome:
    """Remove sign-ups through the one removal engine (core.removal): holds and guards apply."""
    return removal_execute(
        targets=[Target(registry.get(PendingSignup), signups, action=RemovalAction.DELETE)],
        door=Door.SWEEP,
        actor=actor,
        audit_action=audit_action,
    )


def consent_confirmations_expire(*, now: datetime | None = None) -> int:
    """Daily: delete web sign-ups nobody confirmed within the window (they were never consents).

    Through the one removal engine (``core.removal``), as the retention sweep removes rows:
    a legal hold or a guard (an open request from that address, Art. 12(3)) keeps a
    sign-up until it ends, and the engine records the audit event. Also closes double
    opt-in confirmations left from before sign-ups were kept apart.
    """
    now = now or timezone.now()
    # Unconfirmed past their window, and confirmed ones a hold or a guard kept at confirmation.
    done = PendingSignup.objects.filter(Q(confirmed_at__isnull=False) | Q(expires_at__lte=now))
    outcome = _signups_remove(
        done, actor=Actor.system("consent_confirmations_expire"), audit_action="consent.signups_expire"
    )
    ConsentConfirmation.objects.filter(
        confirmed_at__isnull=True, expired_at__isnull=True, expires_at__lte=now
    ).update(expired_at=now)
    return outcome.erased.get(PendingSignup._meta.label_lower, 0)
