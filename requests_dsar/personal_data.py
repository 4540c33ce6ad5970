"""What the request workflow holds about people, declared for the registry (core.registry)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import (
    DataSubjectRequest,
    ProcessingRestriction,
    RecipientNotice,
    RequestEmail,
    RequestEvent,
    RequestToken,
)

KEPT_AS_PROOF = _(
    "We keep the record that you made a request and how we answered it, to be able to show that we "
    "answered (Art. 5(2) and 12); your details are removed from it once the answer is sent."
)

registry.register(
    PersonalData(
        model=DataSubjectRequest,
        category="data_subject_request",
        description=_("Your requests about your personal data, and our answers"),
        personal_fields=(
            "email", "name", "organisation", "details", "language", "contacts", "answer",
            "refusal_reason", "answer_file", "extension_reason",
        ),
        not_personal_fields=(
            "reference", "type", "status", "match_confirmed_at", "assignee", "submitted_at",
            "received_at", "first_due_date", "due_date", "extension_months", "closed_at",
            "answer_ready_at", "redacted_at", "reminded_due_soon_at", "reminded_overdue_on",
        ),
        export_fields=(
            "reference", "type", "status", "email", "name", "organisation", "details", "submitted_at",
            "received_at", "due_date", "extension_reason", "closed_at", "answer", "refusal_reason",
        ),
        subject_email_path="email",
        purposes=("handle_data_subject_request",),
        source=_("You, when you made the request"),
        recipients=("hosting_provider",),
        retention_anchor="closed_at",
        retention_note=format_lazy(
            _(
                "Kept to document our answer; details removed after an erasure. The answer file with a "
                "copy of your data is deleted {days} days after the request is closed."
            ),
            days=settings.DSAR_ANSWER_FILE_KEEP_DAYS,
        ),
        provided_by_subject=("email", "name", "organisation", "details"),
        # Kept, then redacted by requests_dsar.services.request_redact once the
        # answer to an erasure has been sent (it needs the address to be sent).
        erasure=Erasure.KEEP,
        kept_because=KEPT_AS_PROOF,
        # Kept as proof without who asked: the removal engine empties these once no open
        # request needs them (the answer to an open one is sent to the address first).
        anonymise={
            "email": "", "name": "", "organisation": "", "details": "", "answer": "",
            "refusal_reason": "", "answer_file": "", "extension_reason": "",
        },
        details_needed=Q(status__in=DataSubjectRequest.OPEN),
        details_removed_field="redacted_at",
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=RequestEvent,
        category="data_subject_request",
        description=_("The history of your requests"),
        personal_fields=("request", "note", "message"),
        not_personal_fields=("at", "action", "actor_kind", "actor", "from_status", "to_status"),
        export_fields=("request__reference", "at", "action", "to_status", "message"),
        subject_email_path="request__email",
        purposes=("handle_data_subject_request",),
        source=_("Our handling of your request"),
        recipients=("hosting_provider",),
        retention_anchor="request__closed_at",
        # The note of a download holds the address it came from: emptied after the
        # audit trail's period for it (requests_dsar.tasks.subject_ips_expire).
        retention_note=format_lazy(
            _(
                "Kept with the request; the IP address a download came from is removed after {days} days."
            ),
            days=settings.AUDIT_SUBJECT_IP_KEEP_DAYS,
        ),
        erasure=Erasure.KEEP,
        kept_because=KEPT_AS_PROOF,
        anonymise={"note": "", "message": ""},
        details_needed=Q(request__status__in=DataSubjectRequest.OPEN),
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=RequestEmail,
        category="data_subject_request",
        description=_("Copies of the emails we sent you about your requests"),
        personal_fields=("request", "to", "subject", "body", "html"),
        not_personal_fields=("kind", "status", "queued_at", "sent_at", "link", "event", "failure"),
        export_fields=("request__reference", "kind", "sent_at", "to", "subject", "body"),
        subject_email_path="request__email",
        purposes=("handle_data_subject_request",),
        source=_("Our handling of your request"),
        recipients=("hosting_provider", "email_provider"),
        retention_anchor="request__closed_at",
        retention_note=_("Kept with the request"),
        erasure=Erasure.KEEP,
        kept_because=KEPT_AS_PROOF,
        anonymise={"to": "", "subject": "", "body": "", "html": ""},
        details_needed=Q(request__status__in=DataSubjectRequest.OPEN),
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=ProcessingRestriction,
        category="data_subject_request",
        description=_("Restrictions of and objections to the use of your data"),
        personal_fields=("email", "kind", "scope", "request", "started_at", "lifted_at", "lift_reason"),
        export_fields=("kind", "scope", "started_at", "lifted_at"),
        subject_email_path="email",
        purposes=("honour_objection",),
        source=_("Your request"),
        recipients=("hosting_provider",),
        retention_anchor="lifted_at",
        retention_note=_("As long as it is in force"),
        # Once the person is erased there is nothing left to restrict; an
        # objection to marketing lives on in the suppression list.
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

# The portal's sessions: the id of the request whose emailed link the browser
# followed (never the address, issue 8 item 9). Staff logins use the same table.
registry.register(
    PersonalData(
        model=Session,
        category="portal_session",
        description=_("Your visit to the privacy portal (which request your browser may see)"),
        personal_fields=("session_data",),
        not_personal_fields=("session_key", "expire_date"),
        purposes=("handle_data_subject_request",),
        source=_("Your browser, when you followed the link we emailed you"),
        recipients=("hosting_provider",),
        retention_anchor="expire_date",
        retention_note=format_lazy(
            _(
                "{minutes} minutes after your last visit; expired sessions are deleted every night."
            ),
            minutes=settings.DSAR_PORTAL_SESSION_MINUTES,
        ),
        # Found by no address (it holds none); sessions_clear_expired deletes it.
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register_not_personal(
    RequestToken,
    reason="Digests of emailed links and when they expire; the person is reached through the request.",
)
registry.register_not_personal(
    RecipientNotice,
    reason="Which recipient was told about a request, and when; names no person.",
)


def _open_request_emails():
    # Retention must not sweep data that an open request is about (Art. 12, 15, 17): the
    # requester's address and the address of every contact staff linked to the request
    # (the person may be in the register under another address).
    from subjects.models import Contact

    open_requests = DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN)
    linked = Contact.objects.filter(dsar_requests__in=open_requests).values_list("email", flat=True)
    # Two small sets (open requests are few), read once per batch.
    return sorted({*open_requests.exclude(email="").values_list("email", flat=True), *linked})


def _restricted_emails():
    # Art. 18(1)(b)-(d): restricted data is kept, not erased and not used.
    return ProcessingRestriction.objects.filter(
        lifted_at=None, kind=ProcessingRestriction.Kind.RESTRICTION
    ).values_list("email", flat=True)


def _restricted_or_objected_emails():
    # Art. 18(1)(d) and 21: while an objection is being assessed (or a restriction is in
    # force) the data is kept as it is; nothing is swept under the person's feet.
    return ProcessingRestriction.objects.filter(lifted_at=None).values_list("email", flat=True)


registry.register_guard("open_request", _open_request_emails)
registry.register_guard("restriction", _restricted_or_objected_emails)


def _restricted_among(emails: list[str]):
    # Art. 18(2): restricted data is, storage apart, processed only with the
    # person's consent or for legal claims; consent checks ask this first.
    return _restricted_emails().filter(email__in=emails)


registry.register_processing_block("restriction", _restricted_among)
