"""The purposes the policy names (Hva bruker vi dine personopplysninger til?) and its 2018 text.

Purposes on legitimate interest are seeded switched off: Art. 6(1)(f) and the
policy (Vår hjemmel) allow them only after a documented balancing assessment,
which a privacy officer records in the admin before switching them on.
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import migrations

NOTICES = Path(__file__).resolve().parent.parent / "notices"
CONTACT = ["contact"]
# code, name_nb, name_en, description_nb, description_en, basis, categories, marketing, third parties, own similar
PURPOSES = [
    ("contract", "Leveranser og kontrakter", "Deliveries and contracts",
     "Ordrebekreftelse, lisensdetaljer, faktura og påminnelser etter avtale med oss eller en partner.",
     "Order confirmations, licence details, invoices and reminders under an agreement with us or a partner.",
     "contract", ["contact", "interaction"], False, False, False),
    ("service_messages", "Tjenestemeldinger", "Service messages",
     "Varsel om avbrudd i tjenestene du bruker (systemmeldinger).",
     "Notices of interruptions to the services you use (system messages).",
     "contract", CONTACT, False, False, False),
    ("support", "Kundestøtte", "Support",
     "Oppfølging av henvendelser til kundestøtte, på e-post eller telefon.",
     "Following up your support requests, by email or phone.",
     "contract", ["contact", "interaction"], False, False, False),
    ("web_form_replies", "Svar på webskjema", "Replies to web forms",
     "Svar på «Kontakt meg»-skjema og andre webskjemaer du har fylt ut.",
     "Answering a \"Contact me\" form or another web form you filled in.",
     "contract", ["contact", "interaction"], False, False, False),
    ("product_information", "Produktinformasjon", "Product information",
     "Informasjon om produktene og tjenestene du har kjøpt fra oss.",
     "Information about the products and services you have bought from us.",
     "legitimate_interest", CONTACT, True, False, True),
    ("relationship_management", "Forvaltning av forretningsforbindelser", "Managing business relationships",
     "Administrere og forvalte forholdet til kunder, partnere og leverandører.",
     "Managing our relationships with customers, partners and suppliers.",
     "legitimate_interest", ["contact", "interaction"], False, False, False),
    ("marketing_products", "Nyheter om produkter og tjenester", "News about products and services",
     "Nyhetsbrev om våre integrasjoner, apper og netthandelsløsninger.",
     "Newsletters about our integrations, apps and e-commerce solutions.",
     "consent", CONTACT, True, False, True),
    ("marketing_events", "Arrangementer og webinarer", "Events and webinars",
     "Invitasjoner til arrangementer, kurs og webinarer.",
     "Invitations to events, courses and webinars.",
     "consent", CONTACT, True, False, False),
    ("partner_marketing", "Partneres kampanjer", "Partners' campaigns",
     "Markedsføring av produkter og tjenester fra våre assosierte partnere; opplysningene deles med dem.",
     "Marketing of our associated partners' products and services; your details are shared with them.",
     "consent", CONTACT, True, True, False),
    ("direct_sales", "Direktesalg", "Direct sales",
     "Direktesalg der det er etablert en berettiget og gjensidig interesse.",
     "Direct sales where a legitimate and mutual interest has been established.",
     "legitimate_interest", ["contact", "interaction"], True, False, False),
    ("direct_marketing", "Direkte markedsføring (alle emner)", "Direct marketing (all topics)",
     "Protesterer du mot direkte markedsføring, stopper all markedsføring til deg (art. 21).",
     "If you object to direct marketing, all marketing to you stops (Art. 21).",
     "legitimate_interest", CONTACT, True, False, False),
    ("job_application", "Jobbsøknader", "Job applications",
     "Behandling av en jobbsøknad.", "Handling a job application.",
     "contract", ["job_application"], False, False, False),
    ("web_analytics", "Webanalyse", "Web analytics",
     "Informasjonskapsler og besøksstatistikk for nettstedet.", "Cookies and visit statistics for the website.",
     "consent", ["web_visit"], False, False, False),
    ("legal_obligation", "Lovpålagte plikter", "Legal duties",
     "Oppfylle krav i lov, for eksempel rapportering til myndighetene og regnskap.",
     "Meeting legal requirements, such as reporting to the authorities and bookkeeping.",
     "legal_obligation", ["contact"], False, False, False),
    ("legal_obligation_security", "Sikkerhet og revisjonsspor", "Security and audit trail",
     "Beskytte opplysningene mot tap, endring og uautorisert tilgang (art. 32).",
     "Protecting data against loss, alteration and unauthorised access (Art. 32).",
     "legal_obligation", ["audit_trail"], False, False, False),
    ("honour_objection", "Respektere protest og avmelding", "Honouring objections and opt-outs",
     "Huske at du har meldt deg av eller protestert, også etter sletting (art. 21 og 17).",
     "Remembering that you opted out or objected, even after erasure (Art. 21 and 17).",
     "legal_obligation", ["suppression"], False, False, False),
]  # fmt: skip


def seed(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PrivacyNotice = apps.get_model("consent", "PrivacyNotice")
    for code, name_nb, name_en, desc_nb, desc_en, basis, categories, marketing, third, similar in PURPOSES:
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name_nb": name_nb,
                "name_en": name_en,
                "description_nb": desc_nb,
                "description_en": desc_en,
                "legal_basis": basis,
                "data_categories": categories,
                "is_marketing": marketing,
                "shares_with_third_parties": third,
                "own_similar_products": similar,
                # Art. 6(1)(f): off until an approved assessment exists.
                "is_active": basis != "legitimate_interest",
            },
        )
    effective = datetime(2018, 6, 1, tzinfo=ZoneInfo("Europe/Oslo"))
    PrivacyNotice.objects.get_or_create(
        version="2018-06-01",
        defaults={
            "text_nb": (NOTICES / "2018-06-01.nb.txt").read_text(encoding="utf-8"),
            "text_en": (NOTICES / "2018-06-01.en.txt").read_text(encoding="utf-8"),
            "summary_nb": "Første versjon.",
            "summary_en": "First version.",
            "is_material": False,
            "published_at": effective,
            "effective_from": effective,
            "campaign_finished_at": effective,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_ledger_append_only_trigger")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
