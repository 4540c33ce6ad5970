"""Reads of the request workflow."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from core.validators import normalise_email

from .models import DataSubjectRequest, ProcessingRestriction, RequestEvent


def requests_for_contact(*, contact) -> QuerySet[DataSubjectRequest]:
    """The contact page panel: requests matched to this record or made from its address."""
    from django.db.models import Q

    return (
        DataSubjectRequest.objects.filter(Q(contacts=contact) | Q(email=normalise_email(contact.email)))
        .distinct()
        .select_related("assignee")
        .order_by("-submitted_at")
    )


def request_public_events(*, request: DataSubjectRequest) -> QuerySet[RequestEvent]:
    """What the person sees on the status page: steps and messages from staff, not internal notes."""
    shown = [
        RequestEvent.Action.SUBMITTED,
        RequestEvent.Action.VERIFIED,
        RequestEvent.Action.VERIFIED_MANUALLY,
        RequestEvent.Action.STARTED,
        RequestEvent.Action.MESSAGE,
        RequestEvent.Action.WAITING,
        RequestEvent.Action.EXTENDED,
        RequestEvent.Action.COMPLETED,
        RequestEvent.Action.REFUSED,
        RequestEvent.Action.WITHDRAWN,
        RequestEvent.Action.DOWNLOADED,
    ]
    return request.events.filter(action__in=shown).order_by("at", "pk")


def processing_restricted(*, email: str) -> bool:
    """True while a restriction (Art. 18) or objection (Art. 21) is in force: do not use the data."""
    return ProcessingRestriction.objects.filter(email=normalise_email(email), lifted_at=None).exists()


def requests_due(*, assignee=None) -> QuerySet[DataSubjectRequest]:
    """Open requests by deadline, first due first."""
    rows = DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN)
    if assignee is not None:
        rows = rows.filter(assignee=assignee)
    return rows.order_by("due_date", "submitted_at")


# The portal session's one key: the id of the request whose emailed link the browser
# followed (never the address, issue 8 item 9).
PORTAL_SESSION_REQUEST = "dsar_request_id"


def portal_session_request(request: HttpRequest) -> DataSubjectRequest | None:
    """The request the browser's portal session may see; None once redacted or without one."""
    pk = request.session.get(PORTAL_SESSION_REQUEST)
    if not isinstance(pk, int):
        return None
    return DataSubjectRequest.objects.filter(pk=pk, redacted_at=None).exclude(email="").first()


def portal_session_email(request: HttpRequest) -> str:
    """The address the portal session's emailed link confirmed, read from the request; "" if none.

    The one way every portal page (status, preferences, consent receipts) learns
    whose data it may show.
    """
    found = portal_session_request(request)
    return found.email if found is not None else ""
