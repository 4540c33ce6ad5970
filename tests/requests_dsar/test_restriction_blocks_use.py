"""A restriction (Art. 18) stops the use of the data: consent checks say no, except with consent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from consent import selectors
from consent.models import Purpose
from core.audit import Actor
from requests_dsar.models import ProcessingRestriction
from requests_dsar.services import restriction_lift
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")


def allowed(contact, code: str) -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def restrict(contact) -> ProcessingRestriction:
    return ProcessingRestriction.objects.create(
        email=contact.email, kind=ProcessingRestriction.Kind.RESTRICTION, started_at=timezone.now()
    )


def test_a_restriction_blocks_a_purpose_on_contract():
    contact = ContactFactory()
    code = Purpose.objects.filter(legal_basis="contract", is_active=True).values_list("code", flat=True)[0]
    assert allowed(contact, code)
    restrict(contact)
    assert not allowed(contact, code)


def test_a_functional_address_is_not_cleared_while_restricted():
    contact = ContactFactory(email="post@restriksjon.no", email_kind="functional")
    assert allowed(contact, "marketing_products")
    restrict(contact)
    assert not allowed(contact, "marketing_products")


def test_a_given_consent_still_counts_while_restricted():
    # Art. 18(2): restricted data may still be processed with the person's consent.
    contact = ContactFactory()
    grant(contact, "marketing_products")
    restrict(contact)
    assert allowed(contact, "marketing_products")


def test_lifting_the_restriction_lets_the_use_resume_and_others_are_untouched():
    contact, other = ContactFactory(), ContactFactory()
    code = Purpose.objects.filter(legal_basis="contract", is_active=True).values_list("code", flat=True)[0]
    restriction = restrict(contact)
    assert not allowed(contact, code) and allowed(other, code)
    restriction_lift(restriction=restriction, reason="Riktigheten er bekreftet.", actor=DPO)
    assert allowed(contact, code)
