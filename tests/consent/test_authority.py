"""Who may move which state: regression tests for issue 9, items 4-6, 9-11 and 13, and Art. 21(1) grounds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consent import machine, selectors, services
from consent.models import ConsentEvent, ConsentState, LegitimateInterestAssessment, PendingSignup, Purpose
from core.audit import Actor
from core.errors import Conflict
from subjects.models import Contact
from tests.consent.factories import PERSON, WORDING, grant
from tests.requests_dsar.test_workflow import KARI, act, submit_and_confirm
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # A private local cache: flushing the shared Redis would drop a real worker's queues.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ca"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


IMPORT = Actor.system("import")
MARKETING = (
    "marketing_products",
    "marketing_events",
    "partner_marketing",
    "direct_sales",
    "product_information",
)


def allowed(contact, code="marketing_products") -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def _activate(code: str, staff_user=None) -> Purpose:
    purpose = Purpose.objects.get(code=code)
    LegitimateInterestAssessment.objects.create(
        purpose=purpose, interest="i", necessity="n", balancing="b", outcome="approved",
        reviewed_on=timezone.localdate(), next_review=timezone.localdate() + timedelta(days=365),
    )  # fmt: skip
    Purpose.objects.filter(pk=purpose.pk).update(is_active=True)
    purpose.refresh_from_db()
    return purpose


def _object(contact, code="direct_marketing"):
    return services.objection_record(
        contact=contact, purpose_code=code, channel="portal", actor=PERSON, ip_address="192.0.2.7"
    )


# --- The machine itself ---------------------------------------------------------------


def test_nobody_but_the_person_lifts_an_opt_out():
    topic = machine.PurposeFacts(1, True, False, "consent")
    for state in machine.OPT_OUTS:
        for authority in (machine.STAFF, machine.IMPORT, machine.INTEGRATION, machine.SYSTEM):
            ruling = machine.rule(
                states={1: state}, marketing_ids={1}, direct_marketing_id=2, purpose=topic,
                action=machine.GRANTED, authority=authority,
            )  # fmt: skip
            assert not ruling.allowed
        assert machine.rule(
            states={1: state}, marketing_ids={1}, direct_marketing_id=2, purpose=topic,
            action=machine.GRANTED, authority=machine.PERSON_CONFIRMED,
        ).changes == {1: "granted"}  # fmt: skip


def test_an_unconfirmed_act_changes_nothing():
    topic = machine.PurposeFacts(1, True, False, "consent")
    for action in (machine.GRANTED, machine.WITHDRAWN, machine.OBJECTED):
        ruling = machine.rule(
            states={1: "granted"}, marketing_ids={1}, direct_marketing_id=2, purpose=topic,
            action=action, authority=machine.PERSON_UNCONFIRMED,
        )  # fmt: skip
        assert not ruling.allowed and not ruling.changes


def test_an_import_cannot_subscribe_an_inbox_that_objected():
    contact = ContactFactory()
    _object(contact)
    with pytest.raises(Conflict):
        services.consent_grant(
            contact=contact, purpose_code="marketing_events", channel="import", actor=IMPORT, wording=WORDING,
            reference="fair-2026",
        )  # fmt: skip
    assert not allowed(contact, "marketing_events")


def test_consent_record_is_the_integrations_door_and_obeys_the_machine():
    contact = ContactFactory()
    api = Actor.api_client("crm")
    [event] = services.consent_record(
        email=contact.email, purpose="marketing_products", act="grant", actor=api, authority="integration",
        wording=WORDING, reference="crm",
    )  # fmt: skip
    assert event.authority == "integration" and allowed(contact)
    services.consent_record(contact=contact, purpose="marketing_products", act="withdraw", actor=api,
                            authority="integration", reference="crm")  # fmt: skip
    with pytest.raises(Conflict):
        services.consent_record(contact=contact, purpose="marketing_products", act="grant", actor=api,
                                authority="integration", wording=WORDING, reference="crm")  # fmt: skip
    with pytest.raises(ValidationError):
        services.consent_record(contact=contact, purpose="marketing_products", act="grant", actor=api,
                                authority="person_confirmed", wording=WORDING, reference="crm")  # fmt: skip
    assert not allowed(contact)


# --- Item 5: opt-outs outlive erasure for every kind of address -------------------------


def test_a_functional_address_that_objected_stays_out_after_erasure_and_re_import():
    contact = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    _object(contact)
    Contact.objects.filter(pk=contact.pk).delete()  # erasure
    again = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    for code in ("marketing_products", "marketing_events", "partner_marketing"):
        assert not allowed(again, code)


# --- Item 6: an objection request stops legitimate interests (Art. 21(1)) -----------------


@pytest.fixture
def kari(db):
    return ContactFactory(email=KARI, name="Kari Nordmann", language="en")


def test_a_completed_objection_request_stops_a_legitimate_interest_purpose(
    client,
    staff_client,
    committed,
    kari,
):
    _activate("relationship_management")
    assert allowed(kari, "relationship_management")
    request = submit_and_confirm(client, committed, "objection", details="Stop it")
    act(staff_client, committed, request, "complete")
    assert not allowed(kari, "relationship_management")
    assert not allowed(kari, "marketing_products")


def test_staff_may_record_compelling_grounds_with_a_reason_and_the_person_is_told(staff_user):
    contact = ContactFactory(language="en")
    _activate("relationship_management")
    _object(contact, "relationship_management")
    assert not allowed(contact, "relationship_management")
    staff = Actor.staff(staff_user)
    with pytest.raises(ValidationError):
        services.objection_grounds_record(
            contact=contact, purpose_code="relationship_management", actor=staff, reason=" "
        )
    with pytest.raises(ValidationError, match="staff"):
        services.objection_grounds_record(
            contact=contact, purpose_code="relationship_management", actor=PERSON, reason="x"
        )
    mail.outbox.clear()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.objection_grounds_record(
            contact=contact, purpose_code="relationship_management", actor=staff,
            reason="We must keep managing the support contract you signed for your company.",
        )  # fmt: skip
    assert allowed(contact, "relationship_management")
    assert mail.outbox[-1].to == [contact.email] and "support contract" in mail.outbox[-1].body


def test_an_objection_to_direct_marketing_has_no_compelling_grounds(staff_user):
    contact = ContactFactory()
    _object(contact)
    with pytest.raises(Conflict):
        services.objection_grounds_record(contact=contact, purpose_code="direct_marketing",
                                          actor=Actor.staff(staff_user), reason="We want to")  # fmt: skip


# --- Items 9 and 11: the preferences page ------------------------------------------------


def test_the_preferences_page_shows_blocked_topics_unticked_and_saving_does_not_bring_them_back(
    client,
    committed,
    kari,
):
    grant(kari, "marketing_products")
    _object(kari)
    submit_and_confirm(client, committed, "other", details="Preferences")
    page = client.get("/portal/preferences/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="marketing_products" id="topic-marketing_products" checked' not in page
    assert "objection" in page
    client.post("/portal/preferences/", {}, HTTP_ACCEPT_LANGUAGE="en")
    assert not allowed(kari)
    assert ConsentState.objects.get(contact=kari, purpose__code="marketing_products").state == "objected"


def test_saving_preferences_leaves_a_sign_up_waiting_for_confirmation_alone(client, committed, kari):
    grant(kari, "marketing_products")
    with committed():
        services.signup_create(email=KARI, name="Kari", topics=["marketing_events"], language="en",
                               ip_address="192.0.2.9")  # fmt: skip
    submit_and_confirm(client, committed, "other", details="Preferences")
    page = client.get("/portal/preferences/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting for you to confirm" in page
    client.post("/portal/preferences/", {"granted": ["marketing_products"]}, HTTP_ACCEPT_LANGUAGE="en")
    assert PendingSignup.objects.filter(email=KARI).exists()
    assert not ConsentEvent.objects.filter(contact=kari, action="withdrawn").exists()
    assert allowed(kari, "marketing_products")


def test_the_preferences_page_never_invents_an_ip_address(client, committed, kari):
    submit_and_confirm(client, committed, "other", details="Preferences")
    client.post("/portal/preferences/", {"granted": ["marketing_products"]}, REMOTE_ADDR="",
                HTTP_USER_AGENT="Mozilla/5.0")  # fmt: skip
    event = ConsentEvent.objects.get(contact=kari)
    assert event.ip_address is None and event.user_agent == "Mozilla/5.0"


# --- Item 10: receipts -------------------------------------------------------------------


def test_a_receipt_is_complete_and_states_the_effective_status(settings):
    contact = ContactFactory()
    event = grant(contact, "partner_marketing")
    receipt = services.consent_receipt(event=event)
    controller = receipt["piiControllers"][0]
    assert controller["phone"] == settings.CONTROLLER_PHONE and controller["phone"]
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["thirdPartyDisclosure"] is True and purpose["thirdPartyName"]
    assert purpose["consentType"] == "EXPLICIT" and receipt["consentStatus"] == "granted"
    _object(contact)
    assert services.consent_receipt(event=event)["consentStatus"] == "objected"

    imported = ContactFactory()
    event = services.consent_grant(contact=imported, purpose_code="marketing_products", channel="import",
                                   actor=IMPORT, wording=WORDING, reference="fair-2026")  # fmt: skip
    assert services.consent_receipt(event=event)["services"][0]["purposes"][0]["consentType"] != "EXPLICIT"


def test_the_person_downloads_every_receipt_from_the_portal(client, committed, kari):
    assert client.get(reverse("consent:receipts")).status_code == 403
    grant(kari, "marketing_products")
    grant(kari, "marketing_events")
    submit_and_confirm(client, committed, "other", details="Receipts")
    response = client.get(reverse("consent:receipts"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    receipts = json.loads(response.content)
    assert {r["services"][0]["purposes"][0]["purposeCode"] for r in receipts} == {
        "marketing_products", "marketing_events"
    }  # fmt: skip


# --- Item 13: the admin's update door ----------------------------------------------------


def test_a_purpose_with_recorded_consents_keeps_its_code_even_when_handed_a_changed_instance(staff_user):
    grant(ContactFactory(), "marketing_events")
    purpose = Purpose.objects.get(code="marketing_events")
    purpose.code = "renamed"  # what the admin's form does to the instance before save_model
    with pytest.raises(Conflict):
        services.purpose_update(purpose=purpose, actor=Actor.staff(staff_user), changes={"code": "renamed"})
    assert Purpose.objects.filter(code="marketing_events").exists()


def test_the_admin_refuses_to_rename_a_purpose_with_recorded_consents(staff_client):
    grant(ContactFactory(), "marketing_events")
    purpose = Purpose.objects.get(code="marketing_events")
    data = {
        "code": "renamed", "name_nb": purpose.name_nb, "name_en": purpose.name_en,
        "description_nb": purpose.description_nb, "description_en": purpose.description_en,
        "legal_basis": purpose.legal_basis, "data_categories": '["contact"]', "is_marketing": "on",
        "is_active": "on", "created_at_0": "2026-01-01", "created_at_1": "10:00:00",
        "assessments-TOTAL_FORMS": "0", "assessments-INITIAL_FORMS": "0",
    }  # fmt: skip
    staff_client.post(reverse("admin:consent_purpose_change", args=[purpose.pk]), data)
    assert Purpose.objects.filter(pk=purpose.pk, code="marketing_events").exists()


# --- Domain events -----------------------------------------------------------------------


def test_services_send_consent_changed_and_suppression_added():
    from core.events import consent_changed, suppression_added

    changed, suppressed = [], []

    def on_changed(**kwargs):
        changed.append((kwargs["purpose"], kwargs["allowed"], kwargs["actor_kind"]))

    def on_suppressed(**kwargs):
        suppressed.append(kwargs["purposes"])

    consent_changed.connect(on_changed, dispatch_uid="test-changed")
    suppression_added.connect(on_suppressed, dispatch_uid="test-suppressed")
    try:
        contact = ContactFactory()
        grant(contact)
        assert changed == [("marketing_products", True, "person_confirmed")]
        changed.clear()
        _object(contact)
        assert ("marketing_products", False, "person_confirmed") in changed
        assert {code for code, _a, _k in changed} >= {"direct_marketing", "marketing_events"}
        assert suppressed == [["direct_marketing"]]
    finally:
        consent_changed.disconnect(dispatch_uid="test-changed")
        suppression_added.disconnect(dispatch_uid="test-suppressed")


def test_staff_record_grounds_in_the_admin_and_others_cannot(client, staff_user, colleague, stranger):
    contact = ContactFactory(language="en")
    _activate("relationship_management")
    _object(contact, "relationship_management")
    url = reverse("admin:consent_grounds", args=[contact.pk, "relationship_management"])
    for user, status in ((stranger, 302), (colleague, 403)):
        client.force_login(user)
        assert client.post(url, {"reason": "Because"}).status_code == status
    assert not allowed(contact, "relationship_management")
    client.force_login(staff_user)
    page = client.get(reverse("admin:subjects_contact_change", args=[contact.pk])).content.decode()
    assert url in page
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": " "}).status_code == 200  # a form error, nothing recorded
    assert not allowed(contact, "relationship_management")
    response = client.post(url, {"reason": "The support contract for your company needs it."})
    assert response.status_code == 302
    assert allowed(contact, "relationship_management")


def test_staff_cannot_give_back_a_consent_the_person_withdrew_even_outside_marketing(staff_user):
    contact = ContactFactory()
    grant(contact, "web_analytics")
    services.consent_withdraw(
        contact=contact, purpose_code="web_analytics", channel="portal", actor=PERSON, ip_address="192.0.2.7"
    )
    with pytest.raises(Conflict):
        services.consent_grant(
            contact=contact, purpose_code="web_analytics", channel="staff", actor=Actor.staff(staff_user),
            wording=WORDING, reference="phone call",
        )  # fmt: skip
    assert not allowed(contact, "web_analytics")
    grant(contact, "web_analytics")  # the person's own act does
    assert allowed(contact, "web_analytics")


def test_an_integration_cannot_pass_itself_off_as_the_person_by_naming_the_portal():
    contact = ContactFactory()
    grant(contact)
    services.consent_withdraw(
        contact=contact,
        purpose_code="marketing_products",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    with pytest.raises((Conflict, ValidationError)):
        services.consent_grant(
            contact=contact, purpose_code="marketing_products", channel="portal",
            actor=Actor.api_client("crm"), wording=WORDING, ip_address="192.0.2.7", reference="crm",
        )  # fmt: skip
    assert not allowed(contact)
