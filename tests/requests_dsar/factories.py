from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from requests_dsar import deadlines
from requests_dsar.models import DataSubjectRequest

factory.Faker._DEFAULT_LOCALE = "no_NO"


class RequestFactory(DjangoModelFactory):
    """A request already confirmed by email, received now, due in a month."""

    class Meta:
        model = DataSubjectRequest

    reference = factory.Sequence(lambda n: f"DSR-T{n:07d}")
    type = DataSubjectRequest.Type.ACCESS
    status = DataSubjectRequest.Status.VERIFIED
    email = factory.Sequence(lambda n: f"sporrer{n}@kunde.no")
    name = factory.Faker("name")
    language = "en"
    submitted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    received_at = factory.LazyFunction(timezone.now)
    first_due_date = factory.LazyAttribute(lambda o: deadlines.first_deadline(o.received_at))
    due_date = factory.LazyAttribute(lambda o: o.first_due_date)
