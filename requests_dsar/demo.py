"""Demo: data-subject requests of every type in every state, some overdue, so the queue looks real.

A fixed number of requests (two per type and state, plus a few unknown
addresses) whatever the size of the register: memory and time stay flat.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from core.demo import DemoContext, demo_seeder
from subjects.models import Contact

from . import deadlines
from .models import DataSubjectRequest, RecipientNotice, RequestEmail, RequestEvent

Status = DataSubjectRequest.Status
Type = DataSubjectRequest.Type
Action = RequestEvent.Action

DETAILS = {
    Type.ACCESS: "Jeg vil gjerne vite hva dere har registrert om meg.",
    Type.RECTIFICATION: "Stillingstittelen min er feil: jeg er økonomisjef, ikke regnskapsfører.",
    Type.ERASURE: "Jeg har sluttet i firmaet og ber om å bli slettet.",
    Type.RESTRICTION: "Ikke bruk opplysningene mine mens dere sjekker rettingen.",
    Type.PORTABILITY: "Send meg opplysningene i et format jeg kan ta med meg.",
    Type.OBJECTION: "Jeg vil ikke motta markedsføring fra dere.",
    Type.WITHDRAWAL: "Jeg trekker samtykket til nyhetsbrev.",
    Type.OTHER: "Hvor har dere fått telefonnummeret mitt fra?",
}
ANSWERS = {
    Status.COMPLETED: "Vi har gjennomført henvendelsen din.",
    Status.REFUSED: "Henvendelsen er åpenbart grunnløs: vi har svart på den samme for to uker siden.",
}


def _reference() -> str:
    return "DSR-" + secrets.token_hex(4).upper()


@demo_seeder(order=30)
def seed_requests(ctx: DemoContext) -> None:
    first, last = ctx.facts.get("contact_ids", (0, 0))
    if last <= first:
        return
    rng = ctx.rng
    staff = ctx.facts.get("staff_ids") or [None]
    combos = [(t, s) for t in Type.values for s in Status.values for _ in range(2)]
    ids = sorted(rng.sample(range(first, last), min(len(combos), last - first)))
    contacts = list(Contact.objects.filter(pk__in=ids).values_list("pk", "email", "name", "language"))
    if not contacts:
        return
    requests, plans = [], []
    for i, (type_, status) in enumerate(combos):
        pk, email, name, language = contacts[i % len(contacts)]
        if i % 17 == 0:
            pk, email, name = None, f"ukjent{i}@eksempel.no", ""  # nobody we know: still answered
        # Open requests spread from 50 days ago to today, so about a third are overdue.
        age = rng.randint(0, 50) if status in DataSubjectRequest.OPEN else rng.randint(20, 400)
        submitted = ctx.now - timedelta(days=age, hours=rng.randint(0, 23))
        received = submitted + timedelta(minutes=rng.randint(2, 600)) if status != Status.RECEIVED else None
        extended = status in DataSubjectRequest.OPEN and i % 5 == 0
        first_due = deadlines.first_deadline(received) if received else None
        due = deadlines.extended_deadline(received, months=1) if extended else first_due
        closed = status in DataSubjectRequest.CLOSED
        closed_at = (
            min(received + timedelta(days=rng.randint(1, 28)), ctx.now) if closed and received else None
        )
        redacted = status == Status.COMPLETED and type_ == Type.ERASURE
        requests.append(
            DataSubjectRequest(
                reference=_reference(),
                type=type_,
                status=status,
                email="" if redacted else email,
                name="" if redacted else name,
                details="" if redacted else DETAILS[type_],
                language=language,
                assignee_id=rng.choice(staff)
                if status not in (Status.RECEIVED,) and rng.random() < 0.7
                else None,
                submitted_at=submitted,
                received_at=received,
                first_due_date=first_due,
                due_date=due,
                extension_months=1 if extended else 0,
                extension_reason="Mange registreringer å gå gjennom i flere systemer." if extended else "",
                closed_at=closed_at or (submitted + timedelta(days=1) if closed else None),
                answer="" if redacted else ANSWERS.get(status, ""),
                refusal_reason=ANSWERS[Status.REFUSED] if status == Status.REFUSED else "",
                redacted_at=closed_at if redacted else None,
            )
        )
        plans.append((pk, status, submitted, received, closed_at, extended, redacted))
    DataSubjectRequest.objects.bulk_create(requests, batch_size=500)

    events, emails, notices, links = [], [], [], []
    for request, (contact_id, status, submitted, received, closed_at, extended, redacted) in zip(
        requests, plans, strict=True
    ):
        events.append(
            RequestEvent(request=request, at=submitted, action=Action.SUBMITTED, actor_kind="subject")
        )
        emails.append(
            RequestEmail(
                request=request, kind="verify", status=RequestEmail.Status.SENT, queued_at=submitted,
                sent_at=submitted, to=request.email,
                subject="Bekreft henvendelsen din om personopplysninger",
                body="" if redacted else "Vi har mottatt en henvendelse fra denne adressen. [lenke fjernet]",
            )
        )  # fmt: skip
        if received:
            events.append(
                RequestEvent(request=request, at=received, action=Action.VERIFIED, actor_kind="subject",
                             from_status=Status.RECEIVED, to_status=Status.VERIFIED)
            )  # fmt: skip
            if contact_id and not redacted:
                links.append(
                    DataSubjectRequest.contacts.through(datasubjectrequest=request, contact_id=contact_id)
                )
        if extended:
            events.append(
                RequestEvent(request=request, at=received + timedelta(days=10), action=Action.EXTENDED,
                             actor_kind="staff", note=request.extension_reason,
                             message=request.extension_reason)
            )  # fmt: skip
        if closed_at:
            action = {Status.COMPLETED: Action.COMPLETED, Status.REFUSED: Action.REFUSED}.get(
                status, Action.WITHDRAWN
            )
            events.append(
                RequestEvent(request=request, at=closed_at, action=action, actor_kind="staff",
                             to_status=status,
                             message="" if redacted else request.answer or request.refusal_reason)
            )  # fmt: skip
        if status == Status.COMPLETED and request.type in (Type.ERASURE, Type.RECTIFICATION):
            for i, code in enumerate(("crm_provider", "hosting_provider")):
                told = closed_at + timedelta(days=1) if closed_at and i == 0 else None
                notices.append(RecipientNotice(request=request, recipient=code, told_at=told,
                                               channel="manual" if told else ""))  # fmt: skip
    RequestEvent.objects.bulk_create(events, batch_size=1000)
    RequestEmail.objects.bulk_create(emails, batch_size=1000)
    RecipientNotice.objects.bulk_create(notices, batch_size=1000)
    DataSubjectRequest.contacts.through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    today = deadlines.local_date(ctx.now if isinstance(ctx.now, datetime) else datetime.now())
    overdue = sum(
        1 for r in requests if r.status in DataSubjectRequest.OPEN and r.due_date and r.due_date < today
    )
    ctx.say(f"  {len(requests)} data-subject requests ({overdue} overdue)")
