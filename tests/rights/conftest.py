from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from subjects.models import ApplicationDocument, Contact, JobApplication
from tests.subjects.factories import (
    ContactFactory,
    InteractionFactory,
    JobApplicationFactory,
    WebVisitFactory,
)

KARI = "kari.nordmann@firma.no"
OLA = "ola.hansen@firma.no"


@dataclass
class Person:
    email: str
    contact: Contact
    application: JobApplication
    document: ApplicationDocument


def make_person(email: str, *, interactions: int = 3, name: str = "Kari Nordmann") -> Person:
    contact = ContactFactory(email=email, name=name, phone="+4791234567")
    InteractionFactory.create_batch(interactions, contact=contact, summary=f"Samtale med {name}")
    WebVisitFactory(contact=contact, path="/priser/")
    application = JobApplicationFactory(email=email, name=name, phone="+4791234567")
    document = ApplicationDocument.objects.create(
        application=application, title="CV", file=SimpleUploadedFile("cv.pdf", b"%PDF-1.4 kari")
    )
    return Person(email, contact, application, document)


@pytest.fixture
def kari(db) -> Person:
    return make_person(KARI)


@pytest.fixture
def ola(db) -> Person:
    """Somebody else, who must come through every operation on Kari untouched."""
    return make_person(OLA, interactions=2, name="Ola Hansen")
