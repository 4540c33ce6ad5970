"""Found broken 10: text typed by anyone never goes into mail to an address nobody confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from consent import services as consent_services
from core.audit import Actor
from requests_dsar.models import DataSubjectRequest
from subjects.models import Contact
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

PAYLOAD = "Vinner av iPhone! Hent premien på https://svindel.example/premie"


def test_the_portals_confirmation_mail_does_not_repeat_the_typed_name(client):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/portal/request/", {"type": "access", "email": "offer@firma.no", "name": PAYLOAD}
        )
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get().name == PAYLOAD  # kept for the staff, not mailed
    assert [m.to for m in mail.outbox] == [["offer@firma.no"]]
    sent = mail.outbox[0]
    html = sent.alternatives[0][0] if sent.alternatives else ""
    assert "svindel" not in sent.subject + sent.body + html
    assert "Vinner" not in sent.body + html


def test_the_notice_campaign_does_not_greet_a_web_sign_up_by_its_typed_name():
    now = timezone.now()
    typed = ContactFactory(
        name=PAYLOAD, source_type=Contact.SourceType.WEB_FORM, last_interaction_at=now - timedelta(days=3)
    )
    known = ContactFactory(name="Ola Nordmann", source_type=Contact.SourceType.PHONE, last_interaction_at=now)
    notice = consent_services.notice_create(
        actor=Actor.system("test"), version="2027-02", text_nb="Ny", text_en="New",
        summary_nb="Endring.", summary_en="Change.", is_material=True,
        effective_from=now + timedelta(days=30),
    )  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):
        consent_services.notice_publish(notice=notice, actor=Actor.system("test"))
    by_address = {m.to[0]: m for m in mail.outbox}
    to_typed = by_address[typed.email]
    assert "svindel" not in to_typed.body + to_typed.alternatives[0][0]
    assert "Ola Nordmann" in by_address[known.email].body  # staff-entered names still greet
