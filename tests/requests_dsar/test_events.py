"""The request workflow tells the rest of the product what it did, through core.events."""

from __future__ import annotations

import pytest

from core.audit import Actor
from core.events import request_completed, subject_restricted
from requests_dsar import services
from requests_dsar.models import DataSubjectRequest, ProcessingRestriction
from tests.subjects.factories import ContactFactory

from .factories import RequestFactory

pytestmark = pytest.mark.django_db
DPO = Actor.system("test.dpo")


@pytest.fixture
def heard():
    received: list[tuple[str, dict]] = []

    def on_completed(sender, **kwargs):
        received.append(("completed", kwargs))

    def on_restricted(sender, **kwargs):
        received.append(("restricted", kwargs))

    request_completed.connect(on_completed)
    subject_restricted.connect(on_restricted)
    yield received
    request_completed.disconnect(on_completed)
    subject_restricted.disconnect(on_restricted)


def test_a_completed_request_is_announced(heard):
    request = RequestFactory(type=DataSubjectRequest.Type.OTHER)
    services.request_complete(request=request, actor=DPO, answer="Svar.")

    assert heard == [
        ("completed", {"signal": request_completed, "request_id": request.pk, "request_type": "other",
                       "outcome": "completed"}),
    ]  # fmt: skip


def test_a_restriction_and_its_lifting_are_announced(heard):
    contact = ContactFactory(email="kari@firma.no")
    request = RequestFactory(type=DataSubjectRequest.Type.RESTRICTION, email="kari@firma.no")
    request.contacts.add(contact)
    services.request_complete(request=request, actor=DPO)

    restricted = [kwargs for kind, kwargs in heard if kind == "restricted"]
    assert [(k["email"], k["contact_ids"], k["lifted"]) for k in restricted] == [
        ("kari@firma.no", [contact.pk], False)
    ]

    services.restriction_lift(restriction=ProcessingRestriction.objects.get(), reason="Checked", actor=DPO)
    restricted = [kwargs for kind, kwargs in heard if kind == "restricted"]
    assert restricted[-1]["lifted"] is True and restricted[-1]["request_id"] == request.pk
