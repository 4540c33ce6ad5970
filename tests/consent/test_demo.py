from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from consent import selectors
from consent.models import ConsentEvent, ConsentState, Purpose
from subjects.models import Contact


# Serialised like the other transactional tests, so the purposes and notice that data
# migrations seed come back after the flush, and content types are not created twice.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seed_demo_gives_contacts_a_history_whose_projection_equals_the_ledger():
    call_command("seed_demo", "--contacts", "300", "--interactions-per-contact", "1", stdout=io.StringIO())
    assert ConsentEvent.objects.count() > 100
    actions = set(ConsentEvent.objects.values_list("action", flat=True))
    assert {"granted", "confirmed", "withdrawn", "objected", "expired"} <= actions
    ids = list(Contact.objects.values_list("pk", flat=True))
    projected = {(s.contact_id, s.purpose_id): s.state for s in ConsentState.objects.all()}
    assert projected == selectors.consent_state_replayed(contact_ids=ids)
    assert Purpose.objects.get(code="direct_sales").is_active  # its assessment is in the demo
    emails = Contact.objects.values_list("email", flat=True)
    assert selectors.consent_allowed_emails(emails=emails, purpose_code="marketing_products")
