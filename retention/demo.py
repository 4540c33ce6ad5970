"""Demo: a few legal holds on top of the register (subjects/demo.py spreads last
interactions over five years, so a share of the contacts is already due).

The default policies come from a data migration, so they exist without demo data.
"""

from __future__ import annotations

from datetime import timedelta

from core.demo import DemoContext, demo_seeder
from subjects.models import Contact

from .models import LegalHold

HOLD_REASONS = (
    "Tvist om faktura, sak 2024-117",
    "Reklamasjon på leveranse, sak 2025-031",
    "Forespørsel fra Datatilsynet, saksnr. 25/01234",
)


@demo_seeder(order=40)
def seed_holds(ctx: DemoContext) -> None:
    first, last = ctx.facts.get("contact_ids", (0, 0))
    if last <= first:
        return
    rng = ctx.rng
    today = ctx.now.date()
    staff = (ctx.facts.get("staff_ids") or [None])[0]
    # A hold per ~2,000 contacts (at least three), some on a contact, some on an
    # organisation; a few hundred rows whatever the size, so memory stays flat.
    wanted = max(3, min((last - first) // 2000, 500))
    ids = sorted(rng.sample(range(first, last), wanted))
    rows = Contact.objects.filter(pk__in=ids).values_list("pk", "organisation_id")
    holds = []
    for i, (contact_id, organisation_id) in enumerate(rows):
        on_organisation = i % 3 == 2 and organisation_id is not None
        holds.append(
            LegalHold(
                scope=LegalHold.Scope.ORGANISATION if on_organisation else LegalHold.Scope.CONTACT,
                contact_id=None if on_organisation else contact_id,
                organisation_id=organisation_id if on_organisation else None,
                reason=HOLD_REASONS[i % len(HOLD_REASONS)],
                starts_on=today - timedelta(days=rng.randint(0, 300)),
                ends_on=today + timedelta(days=rng.randint(30, 720)),
                placed_by_id=staff,
            )
        )
    LegalHold.objects.bulk_create(holds, batch_size=500)
    ctx.say(f"  {len(holds)} legal holds")
