"""Reads of the request workflow."""

from __future__ import annotations

from django.db.models import QuerySet

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
