"""The register of recipients, its system check, the disclosure log and the reminders."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accountability import selectors, services, tasks
from accountability.checks import check_recipients_registered
from accountability.models import Disclosure, Recipient
from core.audit import Actor
from core.events import data_disclosed
from core.registry import registry
from rights.services import access_report_build
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_every_code_the_declarations_use():
    declared = {code for d in registry.personal() for code in d.recipients}
    assert declared
    assert declared <= set(Recipient.objects.values_list("code", flat=True))
    assert check_recipients_registered(databases=["default"]) == []


def test_the_check_fails_for_a_code_not_in_the_register():
    Recipient.objects.filter(code="crm_provider").delete()
    errors = check_recipients_registered(databases=["default"])
    assert [e.id for e in errors] == ["accountability.E001"]
    assert "crm_provider" in errors[0].msg
    assert "subjects.contact" in errors[0].msg


def test_the_register_shows_which_models_and_categories_reach_a_recipient():
    reach = selectors.recipient_reach(code="crm_provider")
    assert {r.label for r in reach} == {"subjects.contact", "subjects.interaction"}
    assert selectors.recipient_categories(code="email_provider") == sorted(
        {d.category for d in registry.personal() if "email_provider" in d.recipients}
    )


def test_only_a_sub_processor_serves_a_processor():
    hosting = Recipient.objects.get(code="hosting_provider")
    with pytest.raises(ValidationError):
        services.recipient_create(actor=Actor.system("test"), code="cdn", name="CDN", kind="processor",
                                  serves=hosting)  # fmt: skip
    sub = services.recipient_create(
        actor=Actor.system("test"), code="cdn", name="CDN", kind="sub_processor", serves=hosting,
        country="US", transfer_mechanism="scc", transfer_mechanism_date=date(2024, 5, 1),
    )  # fmt: skip
    assert list(hosting.sub_processors.all()) == [sub]
    assert sub.outside_eea and not hosting.outside_eea


def test_a_data_disclosed_event_writes_one_row_per_person():
    kari, ola = ContactFactory(), ContactFactory()
    with transaction.atomic():
        data_disclosed.send(
            sender=None, recipient="crm_provider", contact_ids=[kari.pk, ola.pk], categories=["contact"],
            purpose="relationship_management", channel="webhook", reason="contact.updated",
        )  # fmt: skip
    rows = Disclosure.objects.order_by("contact_id")
    assert [(r.contact_id, r.recipient.code, r.channel, r.categories) for r in rows] == [
        (kari.pk, "crm_provider", "webhook", ["contact"]),
        (ola.pk, "crm_provider", "webhook", ["contact"]),
    ]


def test_the_disclosure_rolls_back_with_its_sender():
    kari = ContactFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        data_disclosed.send(sender=None, recipient="crm_provider", contact_ids=[kari.pk],
                            categories=["contact"], channel="export")  # fmt: skip
        raise RuntimeError("the delivery failed")
    assert not Disclosure.objects.exists()


def test_a_disclosure_to_an_unregistered_recipient_is_refused_by_staff_but_not_held_against_the_sender(
    caplog,
):
    kari = ContactFactory()
    with pytest.raises(ValidationError):
        services.disclosure_record(recipient="unknown_party", contact_ids=[kari.pk], categories=["contact"],
                                   channel="manual", actor=Actor.system("t"))  # fmt: skip
    # The data already left by a webhook: refusing would roll the delivery back and send it again.
    data_disclosed.send(sender=None, recipient="unknown_party", contact_ids=[kari.pk],
                        categories=["contact"], channel="webhook")  # fmt: skip
    assert not Disclosure.objects.exists()
    assert "unknown_party" in caplog.text and kari.email not in caplog.text


def test_the_check_names_a_recipient_code_set_on_a_webhook_but_not_registered():
    from api.models import WebhookSubscription

    WebhookSubscription.objects.create(recipient="erp_vendor", url="https://erp.example.no/hook",
                                       events=["subject.erased"], secret="whsec_test")  # fmt: skip
    errors = check_recipients_registered(databases=["default"])
    assert [(e.id, "erp_vendor" in e.msg) for e in errors] == [("accountability.E002", True)]


def test_disclosures_for_lists_the_persons_rows_only():
    kari, ola = ContactFactory(), ContactFactory()
    services.disclosure_record(recipient="authorities", contact_ids=[kari.pk], categories=["contact"],
                               channel="manual", reason="Politiet, kjennelse 12/2026",
                               actor=Actor.system("t"))  # fmt: skip
    services.disclosure_record(recipient="crm_provider", contact_ids=[ola.pk], categories=["contact"],
                               channel="webhook", actor=Actor.system("t"))  # fmt: skip
    assert [d.recipient.code for d in selectors.disclosures_for([kari.pk])] == ["authorities"]
    both = selectors.recipients_disclosed_to([kari.pk, ola.pk])
    assert sorted(r.code for r in both) == ["authorities", "crm_provider"]


def test_the_access_report_lists_the_recipients_that_actually_received_the_data():
    kari = ContactFactory(email="kari@firma.no")
    services.disclosure_record(recipient="authorities", contact_ids=[kari.pk], categories=["contact"],
                               channel="manual", reason="Skatteetaten, pålegg",
                               actor=Actor.system("t"))  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(access_report_build(emails=["kari@firma.no"], reference="T-1")))
    document = json.loads(archive.read("report.json"))
    section = next(s for s in document["sections"] if s["model"] == "accountability.disclosure")
    assert section["rows"][0]["recipient__name"] == "Public authorities"
    assert section["rows"][0]["reason"] == "Skatteetaten, pålegg"
    assert b"Public authorities" in archive.read("report.html")


def test_erasure_keeps_the_disclosure_without_the_person():
    from rights.services import subject_erase

    kari = ContactFactory(email="kari@firma.no")
    services.disclosure_record(recipient="crm_provider", contact_ids=[kari.pk], categories=["contact"],
                               channel="webhook", actor=Actor.system("t"))  # fmt: skip
    subject_erase(emails=["kari@firma.no"], actor=Actor.system("t"), reference="T-2")
    row = Disclosure.objects.get()
    assert row.contact_id is None and row.recipient.code == "crm_provider"


def test_reminders_tell_the_privacy_officer_once_per_review_and_of_every_unlawful_transfer(settings):
    settings.PRIVACY_OFFICER_EMAIL = "dpo@example.no"
    today = timezone.localdate()
    Recipient.objects.filter(code="crm_provider").update(dpa_next_review=today + timedelta(days=29))
    Recipient.objects.filter(code="email_provider").update(dpa_next_review=today + timedelta(days=31))
    Recipient.objects.create(code="us_cloud", name="US Cloud Inc.", kind="processor", country="US")
    tasks.recipients_send_reminders()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dpo@example.no"]
    body = mail.outbox[0].body
    assert "crm_provider" in body and "email_provider" not in body and "us_cloud" in body
    mail.outbox.clear()
    tasks.recipients_send_reminders()
    # The review was told; the transfer stays unlawful, so it is told again.
    assert len(mail.outbox) == 1
    assert "crm_provider" not in mail.outbox[0].body and "us_cloud" in mail.outbox[0].body
    Recipient.objects.filter(code="us_cloud").update(transfer_mechanism="scc")
    mail.outbox.clear()
    tasks.recipients_send_reminders()
    assert mail.outbox == []


class TestTheAdmin:
    def test_staff_record_a_manual_disclosure(self, staff_client):
        kari = ContactFactory()
        authorities = Recipient.objects.get(code="authorities")
        response = staff_client.post("/admin/accountability/disclosure/add/", {
            "recipient": authorities.pk, "contact": kari.pk, "categories": '["contact"]',
            "purpose": "legal_obligation_security", "reason": "Datatilsynet asked",
            "disclosed_at_0": "2026-11-30", "disclosed_at_1": "10:00:00",
        })  # fmt: skip
        assert response.status_code == 302, response.content[:2000]
        row = Disclosure.objects.get()
        assert (row.channel, row.contact_id, row.reason) == ("manual", kari.pk, "Datatilsynet asked")

    def test_the_recipient_page_shows_what_reaches_it(self, staff_client):
        crm = Recipient.objects.get(code="crm_provider")
        response = staff_client.get(f"/admin/accountability/recipient/{crm.pk}/change/")
        assert response.status_code == 200
        assert b"subjects.interaction" in response.content

    def test_a_colleague_without_permission_is_refused(self, client, colleague, stranger):
        for user in (colleague, stranger):
            client.force_login(user)
            response = client.get("/admin/accountability/disclosure/add/")
            assert response.status_code in {302, 403}
            assert not Disclosure.objects.exists()
