"""Name the partners of ``partner_marketing`` (Kantara thirdPartyName), and replay the projection
of contacts whose state the machine with authority reads differently: a sign-up waiting for
confirmation is no longer a state, and an objection to direct marketing turns the consents given
before it into objections (consent.machine)."""

from __future__ import annotations

from django.db import migrations
from django.db.models import Q

PARTNERS = "IntegrasjonsPartner BITS AS' assosierte partnere (se personvernerklæringen)"


def fill(apps, schema_editor):
    from consent import machine

    Purpose = apps.get_model("consent", "Purpose")
    ConsentEvent = apps.get_model("consent", "ConsentEvent")
    ConsentState = apps.get_model("consent", "ConsentState")
    Purpose.objects.filter(shares_with_third_parties=True, third_parties="").update(third_parties=PARTNERS)

    purposes = {
        p.pk: machine.PurposeFacts(p.pk, p.is_marketing, p.code == "direct_marketing", p.legal_basis)
        for p in Purpose.objects.all()
    }
    dm = next((pk for pk, p in purposes.items() if p.is_direct_marketing), None)
    affected = set(
        ConsentState.objects.filter(Q(state="pending") | Q(purpose_id=dm, state="objected")).values_list(
            "contact_id", flat=True
        )
    )
    for contact_id in affected:
        events = list(
            ConsentEvent.objects.filter(contact_id=contact_id)
            .order_by("id")
            .values_list("id", "purpose_id", "action", "authority", "channel", "occurred_at")
        )
        entries = [machine.LedgerEntry(purposes[p], a, au, ch) for _i, p, a, au, ch, _t in events]
        states = machine.fold(entries, direct_marketing_id=dm)
        last = {}
        for pk, purpose_id, _a, _au, channel, when in events:
            last[purpose_id] = (pk, channel, when)
        ConsentState.objects.filter(contact_id=contact_id).exclude(purpose_id__in=list(states)).delete()
        for purpose_id, state in states.items():
            pk, channel, when = last[purpose_id]
            ConsentState.objects.update_or_create(
                contact_id=contact_id,
                purpose_id=purpose_id,
                defaults={"state": state, "channel": channel, "changed_at": when, "last_event_id": pk},
            )


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_authority_grounds_third_parties_pending_signup")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
