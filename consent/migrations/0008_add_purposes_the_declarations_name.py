"""The purposes the registry's declarations name that the catalogue lacked (personvern.W010).

The access report (Art. 15(1)(a)) and the records of processing (Art. 30(1)(b)) state each
declaration's purposes from the catalogue, so each needs its name, description and lawful
basis in both languages. All four rest on duties the law puts on us (Art. 6(1)(c)); the
article each serves is named in its description. The generic ``marketing`` the consent
app's own declarations named is not added: those rows serve ``direct_marketing``, already
in the catalogue, and the declarations now name it.
"""

from django.db import migrations

# code, name_nb, name_en, description_nb, description_en, data categories
PURPOSES = [
    ("honour_rights", "Ivareta rettighetene dine", "Honouring your rights",
     "Gi deg informasjonen loven krever når vi samler inn eller endrer noe (art. 12–14), og si fra "
     "til dem vi har utlevert opplysninger til når du får rettet, slettet eller begrenset dem (art. 19).",
     "Giving you the information the law requires when we collect data or change our notice "
     "(Art. 12-14), and telling those we disclosed data to when you have it rectified, erased or "
     "restricted (Art. 19).",
     ["consent", "disclosure", "integration_api"]),
    ("handle_data_subject_request", "Behandle henvendelser om personvern",
     "Handling your data protection requests",
     "Ta imot, bekrefte og besvare forespørslene dine om innsyn, retting, sletting, begrensning, "
     "dataportabilitet og protest innen fristen (art. 12(3) og 15–22).",
     "Receiving, verifying and answering your requests for access, rectification, erasure, "
     "restriction, portability and objection within the deadline (Art. 12(3) and 15-22).",
     ["data_subject_request", "portal_session"]),
    ("honour_erasure", "Holde slettingen din fast", "Keeping your erasure in force",
     "Huske at du er slettet, slik at en gjenoppretting fra sikkerhetskopi ikke henter deg tilbake "
     "(art. 17(1) og 5(2)).",
     "Remembering that you were erased, so that a restore from backup does not bring you back "
     "(Art. 17(1) and 5(2)).",
     ["erasure_journal"]),
    ("legal_claims", "Rettslige krav", "Legal claims",
     "Ta vare på opplysninger som trengs for å fastsette, gjøre gjeldende eller forsvare et "
     "rettskrav, så lenge kravet består, også om du ber om sletting (art. 17(3)(e)).",
     "Keeping data needed to establish, exercise or defend a legal claim for as long as the claim "
     "lasts, even if you ask for erasure (Art. 17(3)(e)).",
     ["legal_hold"]),
]  # fmt: skip


def add(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    for code, name_nb, name_en, desc_nb, desc_en, categories in PURPOSES:
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name_nb": name_nb,
                "name_en": name_en,
                "description_nb": desc_nb,
                "description_en": desc_en,
                "legal_basis": "legal_obligation",
                "data_categories": categories,
                "is_marketing": False,
                "shares_with_third_parties": False,
                "own_similar_products": False,
                "is_active": True,
            },
        )


def remove(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    # Only if nothing was recorded under them since (the ledger's events protect a purpose).
    for code, *_rest in PURPOSES:
        purpose = Purpose.objects.filter(code=code).first()
        if purpose is not None and not purpose.consent_events.exists() and not purpose.consent_states.exists():
            purpose.delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0007_fill_third_parties_and_replay_projection")]

    operations = [migrations.RunPython(add, remove)]
