"""Art. 19 end to end: a request filed through the API, an erasure completed in the admin,
a signed ``subject.erased`` to the subscribed recipient, and the acknowledgement on record."""

from __future__ import annotations

import pytest

from api.models import WebhookDelivery
from api.webhooks import services
from core.audit import Actor
from requests_dsar.models import DataSubjectRequest, RecipientNotice
from subjects.models import Contact
from tests.api.receiver import webhook_receiver
from tests.subjects.factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db
KARI = "kari.nordmann@firma.no"


def test_an_erasure_completed_in_the_admin_reaches_the_recipient_and_the_notice_shows_when(
    caller, staff_client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email=KARI, name="Kari Nordmann")
    InteractionFactory.create_batch(2, contact=contact)
    with webhook_receiver() as crm, webhook_receiver() as mailer:
        _s, crm.secret = services.subscription_create(
            actor=Actor.system("test"), url=crm.url, events=["subject.erased"], recipient="crm_provider"
        )
        _s, mailer.secret = services.subscription_create(
            actor=Actor.system("test"), url=mailer.url, events=["subject.erased"], recipient="accountant"
        )
        with django_capture_on_commit_callbacks(execute=True):
            filed = caller.post(
                "/api/v1/requests",
                {"type": "erasure", "email": KARI, "channel": "phone", "identity_check": "Called back"},
            )
        assert filed.status_code == 201, filed.content
        request = DataSubjectRequest.objects.get(reference=filed.json()["reference"])
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/complete/", {"answer": ""},
                HTTP_ACCEPT_LANGUAGE="en",
            )  # fmt: skip
        assert response.status_code == 302, response.content.decode()[:2000]
    assert not Contact.objects.filter(email=KARI).exists()
    # The recipient that held Kari's data got one signed event naming her as it knew her.
    assert [(r.payload["type"], r.payload["data"]["emails"]) for r in crm.delivered] == [
        ("subject.erased", [KARI])
    ]
    assert all(r.verified for r in crm.received)
    # A recipient that did not hold her data heard nothing.
    assert mailer.received == []
    notice = RecipientNotice.objects.get(request=request, recipient="crm_provider")
    delivery = WebhookDelivery.objects.get(recipient="crm_provider")
    assert notice.told_at is not None and notice.channel == RecipientNotice.Channel.API
    assert notice.told_at >= delivery.delivered_at
    # The request (now redacted) keeps the step, and the API client can read that it is done.
    assert request.events.filter(action="recipient_told").exists()
    assert caller.get(f"/api/v1/requests/{request.reference}").json()["status"] == "completed"
