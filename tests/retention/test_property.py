"""For every register: held, open-request, active-customer and not-yet-due rows survive; the rest go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.models import LegalHold, RetentionPolicy, SweepRun
from retention.services import policy_sweep
from subjects.models import Contact, Interaction

from .factories import ContactFactory, InteractionFactory, LegalHoldFactory, OrganisationFactory
from .helpers import open_requests

pytestmark = pytest.mark.django_db

person = st.fixed_dictionaries(
    {
        "last_seen_days": st.one_of(st.none(), st.integers(0, 2500)),
        "created_days": st.integers(0, 2500),
        "organisation": st.sampled_from(
            ["none", "prospect", "customer", "contract_running", "contract_ended"]
        ),
        "hold": st.sampled_from(["none", "contact", "organisation", "lifted", "expired"]),
        "open_request": st.booleans(),
    }
)


class Rollback(Exception):
    pass


def build(spec: dict, today) -> tuple[Contact, bool]:
    """Create one person as ``spec`` says; returns the contact and whether it must survive."""
    now = timezone.now()
    organisation = {
        "none": lambda: None,
        "prospect": lambda: OrganisationFactory(is_customer=False),
        "customer": lambda: OrganisationFactory(is_customer=True),
        "contract_running": lambda: OrganisationFactory(
            is_customer=True, customer_contract_ends=today + timedelta(days=3)
        ),
        "contract_ended": lambda: OrganisationFactory(
            is_customer=True, customer_contract_ends=today - timedelta(days=1)
        ),
    }[spec["organisation"]]()
    contact = ContactFactory(organisation=organisation)
    Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(days=spec["created_days"]))
    if spec["last_seen_days"] is not None:
        when = now - timedelta(days=spec["last_seen_days"])
        InteractionFactory(contact=contact, occurred_at=when)
        Contact.objects.filter(pk=contact.pk).update(last_interaction_at=when)
    hold = spec["hold"]
    held = False
    if hold == "organisation" and organisation is not None:
        LegalHoldFactory(scope=LegalHold.Scope.ORGANISATION, contact=None, organisation=organisation)
        held = True
    elif hold in ("contact", "organisation"):
        LegalHoldFactory(contact=contact)
        held = True
    elif hold == "lifted":
        LegalHoldFactory(contact=contact, lifted_at=now)
    elif hold == "expired":
        LegalHoldFactory(
            contact=contact, starts_on=today - timedelta(days=60), ends_on=today - timedelta(days=1)
        )
    active_customer = spec["organisation"] in ("customer", "contract_running")
    return contact, held or active_customer or spec["open_request"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(person, min_size=1, max_size=10), period=st.integers(1, 2000), fallback=st.booleans())
def test_only_due_unprotected_contacts_go(people, period, fallback):
    today = timezone.localdate()
    try:
        with transaction.atomic():
            policy = RetentionPolicy.objects.create(
                code="property", category="contact", period_days=period,
                fallback_anchor="created_at" if fallback else "", max_share=1,
            )  # fmt: skip
            built = [(spec, *build(spec, today)) for spec in people]
            asking = [c.email for spec, c, _ in built if spec["open_request"]]
            with open_requests(*asking):
                run = policy_sweep(policy=policy, trigger=SweepRun.Trigger.COMMAND, batch_size=3)
            assert run.status == SweepRun.Status.FINISHED
            alive = set(Contact.objects.values_list("pk", flat=True))
            for spec, contact, protected in built:
                days = spec["last_seen_days"]
                if days is None:
                    days = spec["created_days"] if fallback else None
                due = days is not None and days >= period
                if protected or not due:
                    assert contact.pk in alive, spec
                    # ...whole: with its interaction.
                    assert Interaction.objects.filter(contact_id=contact.pk).count() == (
                        spec["last_seen_days"] is not None
                    )
                else:
                    assert contact.pk not in alive, spec
            raise Rollback
    except Rollback:
        pass
