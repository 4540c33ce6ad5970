"""Demo data for the accountability registers: agreements, a US processor under SCCs, processing for
customers, disclosures, two breaches (one with its clock running), a first version of the records, the
dashboard figures."""

from __future__ import annotations

from datetime import date, timedelta

from core.audit import Actor
from core.demo import DemoContext, demo_seeder
from subjects.models import Contact, Organisation

from . import services
from .models import Disclosure, ProcessorActivity, Recipient

DISCLOSURE_REASONS = (
    "Synkronisering til CRM", "Utlevert til revisor etter forespørsel", "Pålegg fra Skatteetaten",
)  # fmt: skip


@demo_seeder(order=50)
def seed_accountability(ctx: DemoContext) -> None:
    actor = Actor.system("seed_demo")
    today = ctx.now.date()
    Recipient.objects.filter(kind=Recipient.Kind.PROCESSOR).update(
        dpa_signed_on=date(today.year - 2, 3, 1), dpa_next_review=today + timedelta(days=21)
    )
    # Updates, not inserts: the seeded recipients are rows a test's serialized rollback restores with
    # their ids, behind the sequence, so a new row here would clash with them in the suite.
    Recipient.objects.filter(code="crm_provider").update(
        country="US", transfer_mechanism=Recipient.TransferMechanism.SCC,
        transfer_mechanism_date=date(2023, 9, 1), categories=["contact", "interaction"],
    )  # fmt: skip
    customers = list(Organisation.objects.filter(is_customer=True).order_by("pk")[:3])
    for customer in customers:
        activity = ProcessorActivity.objects.create(
            customer=customer, processing="Drift og support av integrasjonsplattformen (kundens CRM-data)",
            started_on=today - timedelta(days=ctx.rng.randint(100, 900)),
        )  # fmt: skip
        activity.sub_processors.set(Recipient.objects.filter(code__in=["hosting_provider", "crm_provider"]))

    first, last = ctx.facts.get("contact_ids", (0, 0))
    if last > first:
        # A disclosure per ~1,000 contacts (at least five, at most 500): bounded whatever the size.
        wanted = max(5, min((last - first) // 1000, 500))
        sample = ctx.rng.sample(range(first, last), min(wanted, last - first))
        ids = list(Contact.objects.filter(pk__in=sample).values_list("pk", flat=True))
        codes = dict(Recipient.objects.values_list("code", "pk"))
        Disclosure.objects.bulk_create(
            Disclosure(
                recipient_id=codes[("crm_provider", "accountant", "authorities")[i % 3]],
                contact_id=pk, categories=["contact"], purpose="relationship_management",
                channel=Disclosure.Channel.WEBHOOK if i % 3 == 0 else Disclosure.Channel.MANUAL,
                reason=DISCLOSURE_REASONS[i % 3],
                disclosed_at=ctx.now - timedelta(days=ctx.rng.randint(1, 700)),
            )
            for i, pk in enumerate(ids)
        )  # fmt: skip
        ctx.say(f"  {len(ids)} disclosures")

    old = services.breach_create(
        actor=actor, title="E-post med kundeliste sendt til feil mottaker", discovered_by="Salgsavdelingen",
        discovered_at=ctx.now - timedelta(days=120), categories=["contact"], approx_people=40,
        approx_records=40,
        description="En prisliste med navn og e-post til 40 kontaktpersoner ble sendt til feil kunde.",
        consequences="Lav: mottakeren bekreftet sletting samme dag.",
        measures_taken="Mottakeren slettet e-posten.",
        risk="unlikely",
    )  # fmt: skip
    services.breach_update(actor=actor, breach=old, changes={
        "decision": "not_notify",
        "decision_reason": "Lite sannsynlig risiko: slettet hos mottakeren samme dag.",
        "closed_at": ctx.now - timedelta(days=118),
    })  # fmt: skip
    services.breach_create(
        actor=actor, title="Stjålet bærbar PC", discovered_by="IT-drift",
        discovered_at=ctx.now - timedelta(hours=20), categories=["contact", "interaction"],
        description="En bærbar PC med en eksport fra CRM ble stjålet fra en bil. Disken var kryptert.",
    )  # fmt: skip
    services.processing_record_snapshot()
    services.dashboard_refresh()
    ctx.say("  recipients, processing for customers, 2 breaches, records of processing, dashboard figures")
