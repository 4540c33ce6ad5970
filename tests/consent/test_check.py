"""The consent check: objections, the legitimate-interest gate, provenance and markedsføringsloven § 15."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentEvent, LegitimateInterestAssessment, Purpose
from consent.selectors import Basis
from core.audit import Actor
from core.errors import ApplicationError, NotFound
from subjects.models import Contact
from tests.consent.factories import PERSON, grant
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def allowed(contact, code="marketing_products") -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def test_marketing_needs_consent_and_a_consent_clears_it():
    contact = ContactFactory()
    assert not allowed(contact)
    grant(contact)
    assert allowed(contact)
    assert selectors.consent_clearances(emails=[contact.email], purpose_code="marketing_products") == {
        contact.email: Basis.CONSENT
    }


def test_a_withdrawal_blocks_the_marketing_check():
    contact = ContactFactory()
    grant(contact)
    services.consent_withdraw(
        contact=contact,
        purpose_code="marketing_products",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    assert not allowed(contact)


def test_an_objection_to_direct_marketing_overrides_every_consent():
    contact = ContactFactory()
    grant(contact, "marketing_products")
    grant(contact, "marketing_events")
    event = services.objection_record(
        contact=contact,
        purpose_code="marketing_events",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    # Art. 21(3): recorded against direct marketing as such.
    assert event.purpose.code == Purpose.DIRECT_MARKETING and event.action == "objected"
    assert not allowed(contact, "marketing_products")
    assert not allowed(contact, "marketing_events")
    assert not allowed(contact, "partner_marketing")
    # Issue 9 (4): only the person's fresh, confirmed consent after the objection clears a
    # topic, and only that topic; the consents given before stay stopped.
    grant(contact, "partner_marketing")
    assert allowed(contact, "partner_marketing")
    assert not allowed(contact, "marketing_products")
    assert selectors.email_is_suppressed(email=contact.email)


def test_repeating_an_objection_writes_nothing():
    contact = ContactFactory()
    kwargs = {"contact": contact, "purpose_code": "direct_marketing", "channel": "portal", "actor": PERSON,
              "ip_address": "192.0.2.7"}  # fmt: skip
    assert services.objection_record(**kwargs) is not None
    assert services.objection_record(**kwargs) is None
    assert ConsentEvent.objects.count() == 1


def test_an_objection_to_a_contract_purpose_is_refused():
    contact = ContactFactory()
    with pytest.raises(ApplicationError):
        services.objection_record(
            contact=contact, purpose_code="contract", channel="portal", actor=PERSON, ip_address="192.0.2.7"
        )
    assert not ConsentEvent.objects.exists()


def test_a_legitimate_interest_purpose_cannot_be_switched_on_without_an_approved_assessment(staff_user):
    purpose = Purpose.objects.get(code="relationship_management")
    with pytest.raises(ApplicationError, match="assessment"):
        services.purpose_update(purpose=purpose, actor=SYSTEM, changes={"is_active": True})
    purpose.refresh_from_db()
    assert not purpose.is_active
    assert not allowed(ContactFactory(), "relationship_management")

    today = timezone.localdate()
    services.assessment_record(
        actor=SYSTEM, purpose=purpose, interest="Follow up customers", necessity="No lesser means",
        balancing="Expected by business contacts", outcome="rejected", reviewer=staff_user,
        reviewed_on=today, next_review=today + timedelta(days=365),
    )  # fmt: skip
    with pytest.raises(ApplicationError):
        services.purpose_update(purpose=purpose, actor=SYSTEM, changes={"is_active": True})

    services.assessment_record(
        actor=SYSTEM, purpose=purpose, interest="Follow up customers", necessity="No lesser means",
        balancing="Expected by business contacts", outcome=LegitimateInterestAssessment.Outcome.APPROVED,
        reviewer=staff_user, reviewed_on=today, next_review=today + timedelta(days=365),
    )  # fmt: skip
    services.purpose_update(purpose=purpose, actor=SYSTEM, changes={"is_active": True})
    contact = ContactFactory()
    assert allowed(contact, "relationship_management")
    services.objection_record(
        contact=contact, purpose_code="relationship_management", channel="portal", actor=PERSON,
        ip_address="192.0.2.7",
    )  # fmt: skip
    assert not allowed(contact, "relationship_management")


def test_an_unknown_or_missing_purpose_gets_a_clear_message_and_writes_nothing():
    contact = ContactFactory()
    for code in ("no_such_purpose", ""):
        with pytest.raises(NotFound):
            grant(contact, code)
        with pytest.raises(NotFound):
            selectors.consent_allowed(contact=contact, purpose_code=code)
    assert not ConsentEvent.objects.exists()


def test_a_consent_without_evidence_is_refused_and_writes_nothing():
    contact = ContactFactory()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="IP address"):
        services.consent_grant(contact=contact, purpose_code="marketing_products", channel="portal",
                               actor=PERSON, wording="Ja takk")  # fmt: skip
    with pytest.raises(ValidationError, match="wording"):
        services.consent_grant(contact=contact, purpose_code="marketing_products", channel="portal",
                               actor=PERSON, wording="  ", ip_address="192.0.2.7")  # fmt: skip
    with pytest.raises(ValidationError, match="staff"):
        services.consent_grant(contact=contact, purpose_code="marketing_products", channel="staff",
                               actor=PERSON, wording="Ja takk", reference="call")  # fmt: skip
    with pytest.raises(ValidationError, match="import"):
        services.consent_grant(contact=contact, purpose_code="marketing_products", channel="import",
                               actor=SYSTEM, wording="Ja takk")  # fmt: skip
    assert not ConsentEvent.objects.exists()


def test_a_third_party_source_that_does_not_attest_consent_is_never_cleared_for_marketing():
    contact = ContactFactory(source_type=Contact.SourceType.DATA_COLLECTOR, source_attests_consent=False)
    grant(contact)
    assert not allowed(contact)
    attested = ContactFactory(source_type=Contact.SourceType.DATA_COLLECTOR, source_attests_consent=True)
    grant(attested)
    assert allowed(attested)


def test_a_functional_address_falls_outside_section_15():
    contact = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    assert selectors.consent_clearances(emails=["POST@firma.no"], purpose_code="marketing_events") == {
        "post@firma.no": Basis.FUNCTIONAL_ADDRESS
    }
    services.consent_withdraw(
        contact=contact, purpose_code="marketing_events", channel="email_link", actor=PERSON,
        ip_address="192.0.2.7",
    )  # fmt: skip
    assert not allowed(contact, "marketing_events")


def _customer(opt_out_offered: bool = True) -> Contact:
    contact = ContactFactory(organisation=OrganisationFactory(is_customer=True))
    services.customer_address_record(
        contact=contact, sale_reference="ORD-1001", obtained_at=datetime(2025, 3, 1, tzinfo=UTC),
        opt_out_offered=opt_out_offered, actor=SYSTEM,
    )  # fmt: skip
    return contact


def test_a_customer_whose_address_came_with_a_sale_and_an_opt_out_may_get_similar_products():
    contact = _customer()
    assert selectors.consent_basis(contact=contact, purpose_code="marketing_products") == (
        Basis.CUSTOMER_RELATIONSHIP
    )
    # Only the company's own similar products: not events, not partners.
    assert not allowed(contact, "marketing_events")
    assert not allowed(contact, "partner_marketing")


def test_the_customer_basis_needs_the_opt_out_offered_and_a_customer():
    assert not allowed(_customer(opt_out_offered=False))
    prospect = ContactFactory(organisation=OrganisationFactory(is_customer=False))
    services.customer_address_record(
        contact=prospect,
        sale_reference="ORD-7",
        obtained_at=timezone.now(),
        opt_out_offered=True,
        actor=SYSTEM,
    )
    assert not allowed(prospect)


def test_the_customer_basis_ends_with_an_opt_out():
    contact = _customer()
    services.consent_withdraw(
        contact=contact, purpose_code="marketing_products", channel="email_link", actor=PERSON,
        ip_address="192.0.2.7",
    )  # fmt: skip
    assert not allowed(contact)


def test_an_opt_out_outlives_erasure_and_a_later_import_cannot_subscribe_again():
    contact = _customer()
    grant(contact)
    services.consent_withdraw(
        contact=contact, purpose_code="marketing_products", channel="email_link", actor=PERSON,
        ip_address="192.0.2.7",
    )  # fmt: skip
    email = contact.email
    Contact.objects.filter(pk=contact.pk).delete()  # erasure
    assert selectors.email_is_suppressed(email=email)

    again = ContactFactory(email=email, organisation=OrganisationFactory(is_customer=True))
    services.customer_address_record(
        contact=again,
        sale_reference="ORD-2002",
        obtained_at=timezone.now(),
        opt_out_offered=True,
        actor=SYSTEM,
    )
    # The § 15(2) customer basis does not bring them back ...
    assert not allowed(again)
    # ... nor does an import of a consent recorded by someone else.
    with pytest.raises(ApplicationError, match="opted out"):
        services.consent_grant(
            contact=again, purpose_code="marketing_products", channel="import", actor=SYSTEM,
            wording="Samtykke fra messe", reference="import-2026-11",
        )  # fmt: skip
    assert not ConsentEvent.objects.filter(contact=again).exists()
    # The person's own, fresh consent does.
    grant(again)
    assert allowed(again)


def test_the_batch_check_answers_for_many_addresses_in_a_few_queries(django_assert_max_num_queries):
    contacts = ContactFactory.create_batch(30)
    for contact in contacts[::2]:
        grant(contact)
    emails = [c.email for c in contacts] + ["ukjent@example.no"]
    with django_assert_max_num_queries(4):
        cleared = selectors.consent_allowed_emails(emails=emails, purpose_code="marketing_products")
    assert cleared == {c.email for c in contacts[::2]}


def test_the_single_check_is_one_query(django_assert_num_queries):
    contact = ContactFactory()
    grant(contact)
    with django_assert_num_queries(1):  # one lookup: purpose, contact and projection rows together
        assert selectors.consent_allowed(contact=contact, purpose_code="marketing_products")


def test_non_marketing_purposes_follow_their_legal_basis():
    contact = ContactFactory()
    assert allowed(contact, "contract")
    assert allowed(contact, "legal_obligation")
    assert not allowed(contact, "web_analytics")
    grant(contact, "web_analytics")
    assert allowed(contact, "web_analytics")


def test_the_basis_that_cleared_each_contact_is_recorded_with_the_campaign():
    from consent.models import MarketingClearance

    consenting, customer = ContactFactory(), _customer()
    grant(consenting)
    functional = ContactFactory(email="post@kunde.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    refused = ContactFactory()
    cleared = services.consent_clearances_record(
        emails=[c.email for c in (consenting, customer, functional, refused)],
        purpose_code="marketing_products", reference="nyhetsbrev-2026-12", actor=SYSTEM,
    )  # fmt: skip
    recorded = dict(
        MarketingClearance.objects.filter(reference="nyhetsbrev-2026-12").values_list("contact_id", "basis")
    )
    assert recorded == {
        consenting.pk: Basis.CONSENT,
        customer.pk: Basis.CUSTOMER_RELATIONSHIP,
        functional.pk: Basis.FUNCTIONAL_ADDRESS,
    }
    assert set(cleared) == {consenting.email, customer.email, functional.email}


def test_a_customer_whose_contract_has_ended_is_no_longer_an_existing_customer():
    contact = _customer()
    contact.organisation.customer_contract_ends = timezone.localdate() - timedelta(days=1)
    contact.organisation.save(update_fields=["customer_contract_ends"])
    assert not allowed(contact)


def test_consenting_to_direct_marketing_again_does_not_bring_back_the_topics_given_before_the_objection():
    # Issue 9 (4): the person's own later tick on "direct marketing" lifts the objection as such,
    # but a topic consent given before the objection needs a fresh consent of its own.
    contact = ContactFactory()
    grant(contact)
    services.objection_record(
        contact=contact,
        purpose_code="direct_marketing",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    assert not allowed(contact)
    grant(contact, "direct_marketing")
    assert not allowed(contact)
    grant(contact)  # fresh, confirmed, after the objection
    assert allowed(contact)


def test_only_a_consent_can_be_withdrawn():
    with pytest.raises(ApplicationError, match="consent"):
        services.consent_withdraw(
            contact=ContactFactory(), purpose_code="contract", channel="portal", actor=PERSON,
            ip_address="192.0.2.7",
        )  # fmt: skip
    assert not ConsentEvent.objects.exists()
