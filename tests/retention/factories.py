from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from retention.models import LegalHold, RetentionPolicy
from tests.subjects.factories import (  # noqa: F401  (re-exported for the retention tests)
    ContactFactory,
    InteractionFactory,
    JobApplicationFactory,
    OrganisationFactory,
    WebVisitFactory,
)


class RetentionPolicyFactory(DjangoModelFactory):
    class Meta:
        model = RetentionPolicy
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"policy-{n}")
    category = "contact"
    period_days = 3 * 365
    fallback_anchor = "created_at"
    reason = "Test"


class LegalHoldFactory(DjangoModelFactory):
    class Meta:
        model = LegalHold

    scope = LegalHold.Scope.CONTACT
    contact = factory.SubFactory(ContactFactory)
    reason = "Tvist om faktura, sak 2025-001"
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
