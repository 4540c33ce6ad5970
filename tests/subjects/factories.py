from __future__ import annotations

import factory
import factory.random
from django.utils import timezone
from factory.django import DjangoModelFactory

from subjects.demo import random_mobile, random_org_number
from subjects.models import Contact, Interaction, JobApplication, Organisation, WebVisit

factory.Faker._DEFAULT_LOCALE = "no_NO"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Faker("company")
    org_number = factory.LazyFunction(lambda: random_org_number(factory.random.randgen))
    city = factory.Faker("city")
    is_customer = True


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@firma{n % 7}.no")
    phone = factory.LazyFunction(lambda: random_mobile(factory.random.randgen))
    job_title = "Innkjøpssjef"
    organisation = factory.SubFactory(OrganisationFactory)
    source_type = Contact.SourceType.GIVEN_DIRECTLY


class InteractionFactory(DjangoModelFactory):
    class Meta:
        model = Interaction

    contact = factory.SubFactory(ContactFactory)
    kind = Interaction.Kind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "Spørsmål om lisens"


class JobApplicationFactory(DjangoModelFactory):
    class Meta:
        model = JobApplication

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"soker{n}@epost.no")
    position = "Systemutvikler"


class WebVisitFactory(DjangoModelFactory):
    class Meta:
        model = WebVisit

    ip_address = "192.0.2.10"
    user_agent = "Mozilla/5.0"
    path = "/kontakt/"
