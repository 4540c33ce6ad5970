"""For any sequence of events, the projection in the database equals the state replayed from the ledger."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import rules, selectors, services
from consent.models import ConsentEvent, ConsentState
from core.audit import Actor
from core.errors import ApplicationError
from tests.consent.factories import PERSON, WORDING
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

PURPOSES = ("marketing_products", "web_analytics", "direct_marketing", "relationship_management")
CHANNELS = ("portal", "email_link", "import", "api")

operations = st.lists(
    st.tuples(
        st.sampled_from(("grant", "withdraw", "object", "signup", "confirm", "expire")),
        st.integers(min_value=0, max_value=1),
        st.sampled_from(PURPOSES),
        st.sampled_from(CHANNELS),
    ),
    max_size=14,
)


def _evidence(channel):
    if channel == "import":
        return {"actor": Actor.system("import"), "reference": "import-2026"}
    if channel == "api":
        return {"actor": Actor.api_client("crm"), "reference": "crm"}
    return {"actor": PERSON, "ip_address": "192.0.2.7", "user_agent": "test"}


def _apply(op, contact, code, channel, tokens):
    evidence = _evidence(channel)
    if op == "grant":
        services.consent_grant(
            contact=contact, purpose_code=code, channel=channel, wording=WORDING, **evidence
        )
    elif op == "signup":
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.signup_create(
                email=contact.email, name="x", topics=[code], language="nb", ip_address="192.0.2.9"
            )
        tokens[contact.pk] = re.search(r"/consent/confirm/([^\s/]+)/", mail.outbox[-1].body).group(1)
    elif op == "confirm":
        services.signup_confirm(token=tokens.get(contact.pk, "no-token"), ip_address="192.0.2.7")
    elif op == "withdraw":
        services.consent_withdraw(contact=contact, purpose_code=code, channel=channel, **evidence)
    elif op == "object":
        services.objection_record(contact=contact, purpose_code=code, channel=channel, **evidence)
    else:
        services.consent_confirmations_expire(now=timezone.now() + timedelta(days=30))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_projection_equals_the_state_replayed_from_the_ledger(ops):
    with transaction.atomic():
        contacts = [ContactFactory(), ContactFactory()]
        tokens: dict = {}
        for op, who, code, channel in ops:
            before = ConsentEvent.objects.count()
            try:
                with transaction.atomic():
                    _apply(op, contacts[who], code, channel, tokens)
            except (ApplicationError, ValidationError):
                # A refused event leaves the ledger as it was.
                assert ConsentEvent.objects.count() == before
        ids = [c.pk for c in contacts]
        projected = {
            (s.contact_id, s.purpose_id): s.state for s in ConsentState.objects.filter(contact_id__in=ids)
        }
        assert projected == selectors.consent_state_replayed(contact_ids=ids)
        transaction.set_rollback(True)


def test_a_legacy_confirmation_after_a_withdrawal_does_not_bring_the_consent_back():
    assert rules.replay([("granted", "web_form"), ("withdrawn", "portal"), ("confirmed", "email_link")]) == (
        "withdrawn"
    )
    assert rules.replay([("granted", "web_form"), ("confirmed", "email_link")]) == "granted"
    assert rules.replay([("granted", "web_form")]) is None
    assert rules.replay([("granted", "portal")]) == "granted"
