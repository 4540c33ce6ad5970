"""Helpers every step of the request workflow uses: the request's history, saving, mail after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.events import request_completed
from core.validators import normalise_email

from .. import deadlines
from ..errors import WrongState
from ..models import DataSubjectRequest, RequestEvent

Request = DataSubjectRequest
Status = DataSubjectRequest.Status
Type = DataSubjectRequest.Type
Action = RequestEvent.Action
DETAILS_MAX_LENGTH = 5000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _event(
    request: Request,
    action: str,
    actor: Actor,
    *,
    from_status: str = "",
    note: str = "",
    message: str = "",
    user: AbstractBaseUser | None = None,
) -> RequestEvent:
    if user is None and actor.kind == "staff" and actor.id:
        user_id = int(actor.id)
    else:
        user_id = getattr(user, "pk", None)
    return RequestEvent.objects.create(
        request=request,
        action=action,
        actor_kind=actor.kind,
        actor_id=user_id,
        from_status=from_status,
        to_status=request.status if from_status else "",
        note=note,
        message=message,
    )


def _validate(request: Request) -> None:
    """The field rules (lengths, choices, the address), checked in Python before a write.

    Uniqueness (the reference) and the check constraints (deadlines, at most two months'
    extension) are left to the database, which enforces them on every write anyway:
    asking it beforehand as well cost seven queries and two savepoints per step, a third
    of each step's queries (issue 9, bench/bench_portal.py). Every value they cover is
    computed here, never typed by anyone, and the rules that matter to a person (Art.
    12(3)'s extension) are checked first, with a message, by the services themselves.
    """
    request.full_clean(exclude=["contacts"], validate_unique=False, validate_constraints=False)


def _save(request: Request, fields: list[str]) -> None:
    _validate(request)
    request.save(update_fields=fields)


def _send_later(
    request: Request, kind: str, *, link: str = "", event: RequestEvent | None = None, write_now: bool = False
) -> None:
    from .mail import request_email_queue

    request_email_queue(request=request, kind=kind, link=link, event=event, write_now=write_now)


def _require_open(request: Request) -> None:
    if request.status not in Request.OPEN:
        raise WrongState(_("Only a confirmed request that is not closed can be handled."))


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def request_subject_emails(request: Request) -> list[str]:
    """The requester's address and those of the records staff matched to them."""
    emails = {normalise_email(request.email)} if request.email else set()
    emails |= {normalise_email(e) for e in request.contacts.values_list("email", flat=True)}
    return sorted(emails)


def _close(
    request: Request, actor: Actor, *, answer: str, previous: str, also: list[str] | None = None
) -> RequestEvent:
    request.status, request.answer, request.closed_at = Status.COMPLETED, answer, timezone.now()
    _save(request, ["status", "answer", "closed_at", *(also or [])])
    event = _event(request, Action.COMPLETED, actor, from_status=previous, message=answer)
    audit_record(actor=actor, action="dsar.complete", target=request, fields=["status", "answer"])
    # Inside the transaction: receivers write their rows with ours (core/events.py).
    request_completed.send(
        sender=DataSubjectRequest, request_id=request.pk, request_type=request.type, outcome=request.status
    )
    return event


def _mark_received(request: Request, *, at: datetime) -> None:
    request.status = Status.VERIFIED
    request.received_at = at
    request.first_due_date = request.due_date = deadlines.first_deadline(at)
    _save(request, ["status", "received_at", "first_due_date", "due_date"])
    # Propose the person's records; staff confirm the match. One INSERT ... SELECT,
    # not a read and then a write: the step's round trips are most of its time.
    # Addresses are stored lower-cased, so an exact match uses the index (iexact
    # would scan every contact).
    from subjects.models import Contact

    through, quote = Request.contacts.through._meta, connection.ops.quote_name
    table, contacts = quote(through.db_table), quote(Contact._meta.db_table)
    owner, contact = (quote(through.get_field(f).column) for f in ("datasubjectrequest", "contact"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({owner}, {contact}) SELECT %s, id FROM {contacts} WHERE email = %s "  # noqa: S608  (names from model metadata)
            "ON CONFLICT DO NOTHING",
            [request.pk, normalise_email(request.email)],
        )
