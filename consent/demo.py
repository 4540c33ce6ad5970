"""Demo consents: a realistic ledger and its projection for the demo contacts.

Each contact's history (0 to 3 events) comes from a generator seeded by the
contact's id, so the ledger and the projection are written in two streaming
passes that agree, event ids included, without holding either in memory.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from core.audit import AuditEvent
from core.bulk import bulk_insert, next_id, reset_sequence
from core.crypto import email_hash
from core.demo import DemoContext, demo_seeder
from subjects.models import Contact

from . import rules
from .forms import signup_wording
from .models import (
    Channel,
    ConsentDecision,
    ConsentEvent,
    ConsentState,
    ConsentWording,
    LegitimateInterestAssessment,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
)

TOPICS = ("marketing_products", "marketing_events", "partner_marketing", "web_analytics")
TOPIC_WEIGHTS = (45, 25, 10, 20)
FIVE_YEARS = timedelta(days=5 * 365)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
)
A = ConsentEvent.Action

# (action, channel) sequences, with their weights; None = no history.
STORIES: tuple[tuple[tuple[tuple[str, str], ...] | None, int], ...] = (
    (None, 50),
    (((A.GRANTED, Channel.WEB_FORM), (A.CONFIRMED, Channel.EMAIL_LINK)), 16),
    (((A.GRANTED, Channel.PORTAL),), 6),
    (((A.GRANTED, Channel.STAFF),), 4),
    (((A.GRANTED, Channel.IMPORT),), 3),
    (
        ((A.GRANTED, Channel.WEB_FORM), (A.CONFIRMED, Channel.EMAIL_LINK), (A.WITHDRAWN, Channel.EMAIL_LINK)),
        7,
    ),
    (((A.GRANTED, Channel.PORTAL), (A.WITHDRAWN, Channel.PORTAL)), 3),
    (((A.GRANTED, Channel.WEB_FORM),), 2),  # never confirmed: still pending
    (((A.GRANTED, Channel.WEB_FORM), (A.EXPIRED, Channel.WEB_FORM)), 3),
    (((A.OBJECTED, Channel.EMAIL_LINK),), 3),  # objection to direct marketing
    (((A.GRANTED, Channel.API),), 3),
)
STORY_WEIGHTS = [w for _, w in STORIES]


def history(contact_id: int, *, seed: int, start: float, span: float) -> list[tuple[str, str, str, datetime]]:
    """The same (topic, action, channel, when) list for the same contact, in both passes."""
    rng = random.Random(seed * 1_000_003 + contact_id)
    story = rng.choices(STORIES, STORY_WEIGHTS)[0][0]
    if story is None:
        return []
    topic = rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
    if story[0][0] == A.OBJECTED:
        topic = Purpose.DIRECT_MARKETING
    when = start + rng.random() * span
    events = []
    for action, channel in story:
        events.append((topic, action, channel, datetime.fromtimestamp(when, UTC)))
        when += rng.random() * 86400 * (2 if action == A.GRANTED and channel == Channel.WEB_FORM else 300)
    return events


@demo_seeder(order=20)
def seed_consents(ctx: DemoContext) -> None:
    first_contact, end_contact = ctx.facts["contact_ids"]
    staff_ids = ctx.facts.get("staff_ids") or [None]
    rng = ctx.rng
    purposes = {p.code: p for p in Purpose.objects.all()}
    _approve_assessments(ctx, purposes, staff_ids[0])
    notice = PrivacyNotice.objects.filter(published_at__isnull=False).order_by("-effective_from").first()
    wordings = {}
    for code in TOPICS:
        text = signup_wording(purposes[code], language="nb")
        wordings[code] = ConsentWording.objects.filter(text=text).first() or ConsentWording.objects.create(
            text=text
        )
    wording_ids = {code: w.pk for code, w in wordings.items()}
    purpose_ids = {code: p.pk for code, p in purposes.items()}
    seed = rng.randrange(1_000_000)
    # Consents start once the policy is in place, and end before now.
    start = max((ctx.now - FIVE_YEARS).timestamp(), notice.effective_from.timestamp() if notice else 0)
    span = ctx.now.timestamp() - start - 30 * 86400
    first_event = next_id(ConsentEvent)

    references = {Channel.STAFF: "Telefonsamtale", Channel.IMPORT: "Messe Oslo 2024", Channel.API: "CRM",
                  Channel.WEB_FORM: "nettskjema"}  # fmt: skip
    notice_id = notice.pk if notice else None

    def actor(channel: str, action: str) -> tuple[str, str]:
        if channel == Channel.STAFF:
            return AuditEvent.ActorKind.STAFF, str(rng.choice(staff_ids))
        if channel == Channel.API:
            return AuditEvent.ActorKind.API_CLIENT, "crm"
        if channel == Channel.IMPORT or action == A.EXPIRED:
            return AuditEvent.ActorKind.SYSTEM, "import" if channel == Channel.IMPORT else "expiry"
        return AuditEvent.ActorKind.SUBJECT, ""

    def events() -> Iterator[tuple]:
        for pk in range(first_contact, end_contact):
            for topic, action, channel, when in history(pk, seed=seed, start=start, span=span):
                online = channel in (Channel.WEB_FORM, Channel.EMAIL_LINK, Channel.PORTAL)
                ip = (
                    f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                    if online
                    else None
                )
                yield (
                    uuid.UUID(int=rng.getrandbits(128), version=4), pk, purpose_ids[topic], action, when,
                    channel, notice_id, wording_ids.get(topic) if action == A.GRANTED else None,
                    ip, rng.choice(AGENTS) if online else "", references.get(channel, ""),
                    *actor(channel, action),
                )  # fmt: skip

    # The ids are given explicitly so the projection can point at its last event.
    def numbered() -> Iterator[tuple]:
        for offset, row in enumerate(events()):
            yield (first_event + offset, *row)

    count = bulk_insert(
        ConsentEvent,
        ["id", "receipt_id", "contact", "purpose", "action", "occurred_at", "channel", "notice", "wording",
         "ip_address", "user_agent", "reference", "actor_kind", "actor_id"],
        numbered(),
    )  # fmt: skip
    reset_sequence(ConsentEvent)
    ctx.say(f"  {count} consent events")

    def states() -> Iterator[tuple]:
        event_id = first_event
        for pk in range(first_contact, end_contact):
            per_purpose: dict[str, tuple[str | None, str, datetime, int]] = {}
            for topic, action, channel, when in history(pk, seed=seed, start=start, span=span):
                current = per_purpose.get(topic, (None,))[0]
                per_purpose[topic] = (
                    rules.next_state(current, action=action, channel=channel),
                    channel,
                    when,
                    event_id,
                )
                event_id += 1
            for topic, (state, channel, when, last_id) in per_purpose.items():
                if state is not None:
                    yield (pk, purpose_ids[topic], state, channel, when, last_id)

    count = bulk_insert(
        ConsentState, ["contact", "purpose", "state", "channel", "changed_at", "last_event_id"], states()
    )
    ctx.say(f"  {count} consent states")
    _seed_suppression(ctx, first_contact, end_contact)
    _seed_sale_records_and_notices(ctx, first_contact, end_contact)
    # The rows above were written in bulk, past the services: the check's stored decision follows.
    from .services.decisions import decisions_refresh

    decisions_refresh()
    ctx.say(f"  {ConsentDecision.objects.exclude(basis='').count()} consent decisions")


def _approve_assessments(ctx: DemoContext, purposes: dict[str, Purpose], reviewer_id: int | None) -> None:
    today = timezone.localdate()
    for code, interest in (
        ("relationship_management", "Følge opp kunder, partnere og leverandører i et etablert forhold."),
        ("product_information", "Informere kunder om produkter de har kjøpt og lignende produkter."),
        ("direct_sales", "Direktesalg til bedrifter der det er en gjensidig interesse."),
    ):
        purpose = purposes[code]
        if not LegitimateInterestAssessment.objects.filter(purpose=purpose).exists():
            LegitimateInterestAssessment.objects.create(
                purpose=purpose, interest=interest,
                necessity="Kan ikke nås med mindre inngripende midler; bare jobbkontaktopplysninger brukes.",
                balancing="Personen opptrer i sin rolle for en bedrift og kan forvente henvendelsen; "
                "protest stopper behandlingen.",
                outcome=LegitimateInterestAssessment.Outcome.APPROVED, reviewer_id=reviewer_id,
                reviewed_on=today - timedelta(days=60), next_review=today + timedelta(days=305),
            )  # fmt: skip
        Purpose.objects.filter(pk=purpose.pk).update(is_active=True)
    ctx.say("  3 legitimate-interest assessments")


def _seed_suppression(ctx: DemoContext, first: int, end: int) -> None:
    """Opt-outs and objections from marketing go on the suppression list, as the services do.

    Read in id ranges and written after each read: a query must not run on
    the connection while its COPY is open (psycopg would wait for itself).
    """
    known = set(SuppressionEntry.objects.values_list("email_hash", flat=True)) if first > 1 else set()
    count = 0
    step = 50_000
    for low in range(first, end, step):
        emails = list(
            Contact.objects.filter(
                pk__gte=low,
                pk__lt=min(low + step, end),
                consent_states__state__in=[ConsentState.State.WITHDRAWN, ConsentState.State.OBJECTED],
                consent_states__purpose__is_marketing=True,
            )
            .values_list("email", flat=True)
            .distinct()
        )
        digests = {email_hash(e, purpose=SuppressionEntry.SUPPRESSION_PURPOSE) for e in emails} - known
        count += bulk_insert(
            SuppressionEntry,
            ["email_hash", "reason", "created_at"],
            ((d, SuppressionEntry.Reason.OPT_OUT, ctx.now) for d in sorted(digests)),
        )
    ctx.say(f"  {count} suppression entries")


def _seed_sale_records_and_notices(ctx: DemoContext, first: int, end: int) -> None:
    """Set-based: § 15(2) sale records for a third of customers' contacts; Art. 14 notices already sent."""
    notice = PrivacyNotice.objects.filter(published_at__isnull=False).order_by("-effective_from").first()
    third_party = ", ".join(f"'{s}'" for s in sorted(Contact.THIRD_PARTY_SOURCES))  # our own constants
    week_later = (
        "c.collected_at + interval '7 days'"
        if connection.vendor == "postgresql"
        else "datetime(c.collected_at, '+7 days')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consent_customeraddressrecord"
            " (contact_id, sale_reference, obtained_at, opt_out_offered, created_at)"
            " SELECT c.id, 'ORD-' || c.id, c.collected_at, TRUE, %s FROM subjects_contact c"
            " JOIN subjects_organisation o ON o.id = c.organisation_id"
            " WHERE o.is_customer AND c.id >= %s AND c.id < %s AND c.id %% 3 = 0",
            [ctx.now, first, end],
        )
        sales = cursor.rowcount
        notices = 0
        if notice is not None:
            # The demo's third-party contacts were told long ago (else the first
            # daily run would email them all); the newest month is still due.
            cursor.execute(
                "INSERT INTO consent_informationnotice (contact_id, notice_id, language, sent_at, late)"  # noqa: S608
                f" SELECT c.id, %s, c.language, {week_later}, FALSE FROM subjects_contact c"
                f" WHERE c.source_type IN ({third_party}) AND c.email_kind = 'personal'"
                " AND c.id >= %s AND c.id < %s AND c.collected_at < %s",
                [notice.pk, first, end, ctx.now - timedelta(days=30)],
            )
            notices = cursor.rowcount
    ctx.say(f"  {sales} sale records (§ 15), {notices} Art. 14 notices already sent")
