"""Demo register: organisations, contacts, interactions, applications and visits.

Names come from small pools drawn once from Faker's Norwegian locale and then
combined, because calling Faker per row would make a million contacts take
hours. Each contact's interactions come from a generator seeded by the
contact's id, so the contact's ``last_interaction_at`` is known before its
interactions are written, in one streaming pass per table.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from faker import Faker

from core.bulk import bulk_insert, next_id, reset_sequence
from core.demo import DemoContext, demo_seeder
from core.validators import org_number_check_digit

from .models import Contact, Interaction, JobApplication, Organisation, WebVisit

FIVE_YEARS = timedelta(days=5 * 365)
CONTACTS_PER_ORGANISATION = 20

JOB_TITLES = (
    "Daglig leder", "Økonomisjef", "Regnskapsfører", "IT-sjef", "Innkjøpssjef", "Salgssjef",
    "Prosjektleder", "Systemutvikler", "Driftsansvarlig", "Markedssjef", "Controller",
    "Logistikksjef", "Kundeansvarlig", "Produktsjef", "Teknisk leder", "HR-rådgiver",
    "Lagersjef", "Butikksjef", "Konsulent", "Styreleder",
)  # fmt: skip
SUMMARIES = {
    Interaction.Kind.MEETING: (
        "Oppstartsmøte integrasjon",
        "Statusmøte prosjekt",
        "Årsmøte med kunde",
    ),
    Interaction.Kind.CALL: ("Spørsmål om lisens", "Oppfølging av tilbud", "Avklaring av faktura"),
    Interaction.Kind.EMAIL: ("Tilbud sendt", "Ordrebekreftelse", "Spørsmål om leveranse"),
    Interaction.Kind.DOCUMENT: ("Signert avtale", "Kravspesifikasjon", "Databehandleravtale"),
    Interaction.Kind.SUPPORT: (
        "Feil i ordreimport",
        "Synkronisering stoppet",
        "Tilgang til portal",
    ),
    Interaction.Kind.FEEDBACK: (
        "Ros for rask levering",
        "Ønske om ny funksjon",
        "Klage på responstid",
    ),
    Interaction.Kind.WEB_FORM: ("Kontakt meg-skjema", "Forespørsel om demo", "Påmelding webinar"),
}
KINDS = tuple(SUMMARIES)
SOURCES = (
    (Contact.SourceType.GIVEN_DIRECTLY, "", 30),
    (Contact.SourceType.PRODUCT_USE, "Kundeportal", 15),
    (Contact.SourceType.CORRESPONDENCE, "", 15),
    (Contact.SourceType.PHONE, "", 8),
    (Contact.SourceType.WEB_FORM, "integrasjonspartner.no", 12),
    (Contact.SourceType.SOCIAL_MEDIA, "LinkedIn-side", 4),
    (Contact.SourceType.DATA_COLLECTOR, "Proff Forvalt", 6),
    (Contact.SourceType.MARKETING_PARTNER, "Visma-partnernettverket", 4),
    (Contact.SourceType.PUBLIC_SOURCE, "Brønnøysundregistrene", 4),
    (Contact.SourceType.SOCIAL_NETWORK, "LinkedIn", 2),
)
SOURCE_WEIGHTS = [w for _, _, w in SOURCES]


def ascii_slug(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text if c.isalnum())


def random_org_number(rng: random.Random) -> str:
    while True:
        first = str(rng.randint(80_000_000, 99_999_999))
        check = org_number_check_digit(first)
        if check is not None:
            return f"{first}{check}"


def random_mobile(rng: random.Random) -> str:
    # Prefixes of Norwegian mobile ranges that libphonenumber accepts.
    return (
        f"+47{rng.choice((40, 41, 45, 46, 47, 48, 90, 91, 92, 93, 94, 95, 97, 98))}{rng.randrange(10**6):06d}"
    )


def interaction_times(contact_id: int, *, seed: int, start: float, span: float, mean: int) -> list[float]:
    """The same list for the same contact, whether asked for by the contact or its interactions."""
    rng = random.Random(seed * 1_000_003 + contact_id)
    return [start + rng.random() * span for _ in range(rng.randint(0, 2 * mean))]


@demo_seeder(order=10)
def seed_register(ctx: DemoContext) -> None:
    rng = ctx.rng
    faker = Faker("no_NO")
    faker.seed_instance(rng.random())
    first_names = [faker.first_name() for _ in range(400)]
    last_names = [faker.last_name() for _ in range(400)]
    staff_ids = _demo_staff(faker)
    ctx.facts["staff_ids"] = staff_ids

    # Organisations: a handful of Faker calls each is affordable (one per 20 contacts).
    org_count = max(1, ctx.contacts // CONTACTS_PER_ORGANISATION)
    first_org = next_id(Organisation)
    used_numbers: set[str] = set(
        Organisation.objects.exclude(org_number="").values_list("org_number", flat=True)
    )
    domains: list[str] = []

    def organisations() -> Iterator[tuple]:
        for i in range(org_count):
            pk = first_org + i
            name = faker.company()
            domain = f"{ascii_slug(name)[:24]}{pk}.no"
            domains.append(domain)
            foreign = rng.random() < 0.05
            number = ""
            while not foreign and (not number or number in used_numbers):
                number = random_org_number(rng)
            used_numbers.add(number)
            roles = rng.random()
            yield (
                pk, name, number, faker.street_address(), faker.postcode(), faker.city(),
                "SE" if foreign else "NO", random_mobile(rng), f"post@{domain}", f"https://www.{domain}",
                roles < 0.45, 0.4 < roles < 0.6, 0.55 < roles < 0.7, roles >= 0.7, ctx.now, ctx.now,
            )  # fmt: skip

    bulk_insert(
        Organisation,
        ["id", "name", "org_number", "street_address", "postal_code", "city", "country", "phone",
         "email", "website", "is_customer", "is_supplier", "is_partner", "is_prospect",
         "created_at", "updated_at"],
        organisations(),
    )  # fmt: skip
    reset_sequence(Organisation)
    ctx.say(f"  {org_count} organisations")

    first_contact = next_id(Contact)
    start = (ctx.now - FIVE_YEARS).timestamp()
    span = FIVE_YEARS.total_seconds()
    seed = rng.randrange(1_000_000)
    mean = ctx.interactions_per_contact
    ctx.facts["contact_ids"] = (first_contact, first_contact + ctx.contacts)

    def contacts() -> Iterator[tuple]:
        for i in range(ctx.contacts):
            pk = first_contact + i
            org_index = i % org_count
            first, last = rng.choice(first_names), rng.choice(last_names)
            times = interaction_times(pk, seed=seed, start=start, span=span, mean=mean)
            last_at = datetime.fromtimestamp(max(times), UTC) if times else None
            source, source_name, _ = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
            collected = datetime.fromtimestamp(start + rng.random() * span * 0.3, UTC)
            # The first contact of some organisations is the shared inbox.
            functional = i < org_count and rng.random() < 0.3
            email = (
                f"post@{domains[org_index]}"
                if functional
                else f"{ascii_slug(first)}.{ascii_slug(last)}.{pk}@{domains[org_index]}"
            )
            yield (
                pk, "Sentralbord" if functional else f"{first} {last}", email,
                Contact.EmailKind.FUNCTIONAL if functional else Contact.EmailKind.PERSONAL,
                random_mobile(rng), rng.choice(JOB_TITLES), first_org + org_index,
                "en" if rng.random() < 0.1 else "nb", source, source_name, collected,
                source in Contact.THIRD_PARTY_SOURCES and rng.random() < 0.6, last_at, collected, ctx.now,
            )  # fmt: skip

    bulk_insert(
        Contact,
        ["id", "name", "email", "email_kind", "phone", "job_title", "organisation", "language",
         "source_type", "source_name", "collected_at", "source_attests_consent",
         "last_interaction_at", "created_at", "updated_at"],
        contacts(),
    )  # fmt: skip
    reset_sequence(Contact)
    ctx.say(f"  {ctx.contacts} contacts")

    def interactions() -> Iterator[tuple]:
        staff_choices = [*staff_ids, None]
        for pk in range(first_contact, first_contact + ctx.contacts):
            for ts in interaction_times(pk, seed=seed, start=start, span=span, mean=mean):
                kind = rng.choice(KINDS)
                yield (
                    pk,
                    kind,
                    datetime.fromtimestamp(ts, UTC),
                    rng.choice(SUMMARIES[kind]),
                    rng.choice(staff_choices),
                )

    count = bulk_insert(
        Interaction, ["contact", "kind", "occurred_at", "summary", "staff_member"], interactions()
    )
    ctx.say(f"  {count} interactions")

    _seed_applications(ctx, first_names, last_names)
    _seed_web_visits(ctx, first_contact)


def _demo_staff(faker: Faker) -> list[int]:
    User = get_user_model()
    ids = []
    for username in ("kari.saksbehandler", "ola.selger", "ingrid.support"):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": True, "first_name": username.split(".")[0].title()},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        ids.append(user.pk)
    return ids


def _seed_applications(ctx: DemoContext, first_names: list[str], last_names: list[str]) -> None:
    rng = ctx.rng
    count = max(5, min(ctx.contacts // 100, 5000))
    positions = ("Systemutvikler", "Integrasjonskonsulent", "Prosjektleder", "Supporttekniker")
    decided = [s for s in JobApplication.Status if s in JobApplication.DECIDED]
    open_ = [s for s in JobApplication.Status if s not in JobApplication.DECIDED]

    def rows() -> Iterator[tuple]:
        for i in range(count):
            first, last = rng.choice(first_names), rng.choice(last_names)
            submitted = ctx.now - timedelta(days=rng.randint(1, 720))
            status = rng.choice(decided) if rng.random() < 0.7 else rng.choice(open_)
            decided_at = (
                min(ctx.now, submitted + timedelta(days=rng.randint(7, 60)))
                if status in JobApplication.DECIDED
                else None
            )
            yield (
                f"{first} {last}", f"{ascii_slug(first)}.{ascii_slug(last)}.soker{i}@epost.no",
                random_mobile(rng), rng.choice(positions), submitted, status, decided_at,
            )  # fmt: skip

    bulk_insert(
        JobApplication,
        ["name", "email", "phone", "position", "submitted_at", "status", "decided_at"],
        rows(),
    )
    ctx.say(f"  {count} job applications")


def _seed_web_visits(ctx: DemoContext, first_contact: int) -> None:
    rng = ctx.rng
    count = max(20, min(ctx.contacts // 5, 50_000))
    paths = ("/", "/integrasjon/", "/netthandel/", "/kontakt/", "/om-oss/", "/blogg/visma/")
    agents = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
    )

    def rows() -> Iterator[tuple]:
        for _ in range(count):
            known = rng.random() < 0.2
            yield (
                f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                rng.choice(agents), rng.choice(paths),
                rng.choice(("", "https://www.google.com/", "https://www.linkedin.com/")),
                ctx.now - timedelta(seconds=rng.randint(0, 180 * 86400)),
                first_contact + rng.randrange(ctx.contacts) if known else None,
            )  # fmt: skip

    bulk_insert(WebVisit, ["ip_address", "user_agent", "path", "referrer", "visited_at", "contact"], rows())
    ctx.say(f"  {count} web visits")
