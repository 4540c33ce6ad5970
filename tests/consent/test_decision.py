"""The stored decision of the consent check (ConsentDecision) moves with every fact it reads.

The property test (test_authority_property.py) proves it equals a replay after every act of
the ledger; these tests cover the other facts: the register's own changes, the passing of
time for a customer relationship, a purpose switched off, and erasure.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from consent import machine, selectors, services
from consent.models import ConsentDecision, ConsentState, CustomerAddressRecord, Purpose, SuppressionEntry
from core.audit import Actor
from core.crypto import email_hash
from core.removal import Door, removal_execute, rows_target, subject_targets
from subjects import services as subject_services
from subjects.models import Contact
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def allowed(contact, code="marketing_products") -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def test_a_change_of_the_register_moves_the_decision(staff_user):
    contact = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.PERSONAL)
    assert not allowed(contact)
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user), changes={"email_kind": Contact.EmailKind.FUNCTIONAL}
    )
    assert allowed(contact)  # a function's address, outside § 15
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user),
        changes={"source_type": "data_collector", "source_attests_consent": False},
    )  # fmt: skip
    assert not allowed(contact)  # a third party's data, without the source's attestation


def sold_to(contact) -> None:
    """The record that the address was obtained in a sale, with an opt-out offered (§ 15(2))."""
    services.customer_address_record(
        contact=contact,
        sale_reference="ORD-9",
        obtained_at=timezone.now(),
        opt_out_offered=True,
        actor=SYSTEM,
    )


def test_a_customer_relationship_ends_with_its_contract_without_anyone_saving_anything():
    organisation = OrganisationFactory(is_customer=True)
    organisation.customer_contract_ends = timezone.localdate() + timedelta(days=10)
    organisation.save(update_fields=["customer_contract_ends"])
    contact = ContactFactory(organisation=organisation)
    sold_to(contact)
    assert allowed(contact)
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert not allowed(contact)


def test_the_record_of_a_sale_removed_by_the_engine_no_longer_clears_the_address():
    # The engine deletes set-based (no post_delete), so the decision must move another way.
    organisation = OrganisationFactory(is_customer=True)
    contact = ContactFactory(organisation=organisation, email_kind=Contact.EmailKind.PERSONAL)
    sold_to(contact)
    assert allowed(contact)
    records = CustomerAddressRecord.objects.filter(contact=contact)
    removal_execute(targets=[rows_target(records)], door=Door.ADMIN, actor=SYSTEM)
    assert not CustomerAddressRecord.objects.filter(contact=contact).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not allowed(contact)


def test_a_purpose_switched_off_clears_nobody_and_switched_on_again_clears_as_before(staff_user):
    consenting = ContactFactory()
    grant(consenting, "marketing_events")
    assert allowed(consenting, "marketing_events")
    purpose = Purpose.objects.get(code="marketing_events")
    services.purpose_update(purpose=purpose, actor=Actor.staff(staff_user), changes={"is_active": False})
    assert not allowed(consenting, "marketing_events")
    services.purpose_update(purpose=purpose, actor=Actor.staff(staff_user), changes={"is_active": True})
    assert allowed(consenting, "marketing_events")


def test_a_changed_address_is_not_kept_in_the_decision(staff_user):
    contact = ContactFactory(email="kari@firma.no")
    grant(contact)
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user), changes={"email": "kari.nordmann@firma.no"}
    )
    assert set(ConsentDecision.objects.filter(contact=contact).values_list("email", flat=True)) <= {
        "kari.nordmann@firma.no",
        "",
    }
    assert (
        selectors.consent_allowed_emails(emails=["kari@firma.no"], purpose_code="marketing_products") == set()
    )
    assert allowed(Contact.objects.get(pk=contact.pk))


def test_erasure_takes_the_decision_with_the_person():
    contact = ContactFactory()
    grant(contact)
    assert ConsentDecision.objects.filter(contact=contact).exists()
    removal_execute(targets=subject_targets([contact.email]), door=Door.REQUEST, actor=SYSTEM)
    assert not ConsentDecision.objects.filter(contact_id=contact.pk).exists()


def test_the_stored_decision_equals_basis_for_over_every_combination_of_facts():
    """The SQL that fills the stored decision against ``consent.machine.basis_for``, the rule it
    mirrors, for every combination of the facts the marketing branch reads (720 contacts)."""
    today = timezone.localdate()
    organisations = {
        "none": OrganisationFactory(is_customer=False),
        "customer": OrganisationFactory(is_customer=True),
        "ended": OrganisationFactory(is_customer=True, customer_contract_ends=today - timedelta(days=1)),
    }
    purposes = {
        p.code: p for p in Purpose.objects.filter(code__in=["marketing_products", "direct_marketing"])
    }
    facts = list(
        itertools.product(
            ("personal", "functional"),
            ("own", "third_attests", "third"),
            ("none", "customer", "ended"),
            (True, False),  # opt-out offered with the sale
            (True, False),  # suppressed
            (None, "granted", "withdrawn", "objected", "expired"),
            (True, False),  # objected to direct marketing
        )
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            name=f"Person {i}",
            email=f"p{i}@firma.no",
            email_kind=kind,
            source_type="given_directly" if source == "own" else "data_collector",
            source_attests_consent=source == "third_attests",
            organisation=organisations[customer],
        )
        for i, (kind, source, customer, *_rest) in enumerate(facts)
    )
    now = timezone.now()
    records, states, hashes = [], [], []
    for contact, (_k, _s, _c, opt_out, suppressed, state, dm_objected) in zip(contacts, facts, strict=True):
        records.append(
            CustomerAddressRecord(
                contact=contact, sale_reference="S", obtained_at=now, opt_out_offered=opt_out
            )
        )
        for code, value in (
            ("marketing_products", state),
            ("direct_marketing", "objected" if dm_objected else None),
        ):
            if value:
                states.append(
                    ConsentState(
                        contact=contact,
                        purpose=purposes[code],
                        state=value,
                        channel="staff",
                        changed_at=now,
                        last_event_id=0,
                    )
                )
        if suppressed:
            hashes.append(
                SuppressionEntry(
                    email_hash=email_hash(contact.email, purpose="suppression"), reason="opt_out"
                )
            )
    CustomerAddressRecord.objects.bulk_create(records)
    ConsentState.objects.bulk_create(states)
    SuppressionEntry.objects.bulk_create(hashes)
    services.decisions_refresh()  # the fill migration's statements
    product = purposes["marketing_products"]
    for contact, (kind, source, customer, opt_out, suppressed, state, dm_objected) in zip(
        contacts, facts, strict=True
    ):
        expected = machine.basis_for(
            legal_basis=product.legal_basis,
            is_marketing=True,
            is_active=True,
            own_similar_products=product.own_similar_products,
            facts=machine.CheckFacts(
                state=state,
                direct_marketing_state="objected" if dm_objected else None,
                functional_address=kind == "functional",
                third_party_without_attestation=source == "third",
                customer_with_sale_opt_out=customer == "customer" and opt_out,
            ),
            suppressed=suppressed,
        )
        got = selectors.consent_basis(contact=contact, purpose_code="marketing_products")
        assert got == expected, (kind, source, customer, opt_out, suppressed, state, dm_objected)
