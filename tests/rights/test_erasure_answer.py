"""Issue 8, found broken 8: the erasure answer speaks the person's words and counts right."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.audit import Actor
from requests_dsar.models import DataSubjectRequest
from requests_dsar.services import erasure_summary
from rights.services import subject_erase
from subjects.models import Interaction
from tests.requests_dsar.factories import RequestFactory

from .conftest import KARI

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")


def _linked_requests(kari, count: int = 2) -> None:
    for _ in range(count):
        request = RequestFactory(
            email="kari.privat@epost.no", status=DataSubjectRequest.Status.COMPLETED, closed_at=timezone.now()
        )
        request.contacts.add(kari.contact)


def test_the_answer_names_no_internal_label_and_does_not_call_anonymised_rows_erased(kari):
    _linked_requests(kari)

    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    answer = erasure_summary(outcome, language="en")

    assert "requests_dsar." not in answer and "subjects." not in answer and "_contacts" not in answer
    # The three interactions were anonymised (kept for statistics), not erased.
    assert Interaction.objects.filter(contact__isnull=True).count() == 3
    assert "subjects.interaction" not in outcome.erased
    assert outcome.anonymised["subjects.interaction"] == 3
    erased_part = answer.split("We have kept")[0]
    assert "Meetings, calls" not in erased_part


def test_the_outcome_describes_itself_in_bokmal_and_english(kari):
    _linked_requests(kari, count=1)

    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    english = "\n".join(outcome.describe(language="en"))
    bokmal = "\n".join(outcome.describe(language="nb"))
    assert "anonymised" in english and "deleted" in english
    assert "anonymisert" in bokmal and "slettet" in bokmal
    for text in (english, bokmal):
        assert "subjects." not in text and "requests_dsar." not in text


def test_requests_linked_to_the_erased_contact_lose_who_asked(kari):
    _linked_requests(kari, count=1)
    request = DataSubjectRequest.objects.get(email="kari.privat@epost.no")

    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    request.refresh_from_db()
    assert request.email == "" and request.name == ""
    assert not request.contacts.exists()
    assert request.status == DataSubjectRequest.Status.COMPLETED
