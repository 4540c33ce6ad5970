from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.audit import Actor
from core.models import AuditEvent
from rights.selectors import recipients_for, recipients_for_display
from rights.services import subject_erase, subject_rectify
from subjects.models import Contact, JobApplication

from .conftest import KARI, OLA

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")


def test_rectification_corrects_the_named_fields_in_every_model_and_audits_names_only(kari, ola):
    changed = subject_rectify(
        emails=[KARI],
        changes={
            "subjects.contact": {"name": "Kari Nordmann-Berg", "phone": "912 34 999"},
            "subjects.jobapplication": {"name": "Kari Nordmann-Berg"},
        },
        actor=DPO,
        reference="DSAR-7",
    )

    assert changed == {"subjects.contact": 1, "subjects.jobapplication": 1}
    contact = Contact.objects.get(email=KARI)
    assert (contact.name, contact.phone) == ("Kari Nordmann-Berg", "+4791234999")
    assert JobApplication.objects.get(email=KARI).name == "Kari Nordmann-Berg"
    assert Contact.objects.get(email=OLA).name == "Ola Hansen"
    event = AuditEvent.objects.get(action="rights.rectify", target_type="subjects.contact")
    assert event.changed_fields == ["name", "phone"]
    assert "Nordmann-Berg" not in str(list(AuditEvent.objects.values()))


def test_a_corrected_email_is_normalised(kari):
    subject_rectify(
        emails=[KARI],
        changes={"subjects.contact": {"email": " Kari.Berg@Firma.NO "}},
        actor=DPO,
        reference="R",
    )
    assert Contact.objects.filter(email="kari.berg@firma.no").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"subjects.contact": {"source_type": "phone"}}, "cannot be corrected"),
        ({"subjects.interaction": {"summary": "x"}}, "cannot be corrected"),
        ({"nowhere.model": {"name": "x"}}, "no register"),
        ({"subjects.contact": {"phone": "not a phone"}}, ""),
        ({"subjects.contact": {"email": "not-an-address"}}, ""),
        ({"subjects.contact": {"name": "x" * 300}}, ""),
        ({"subjects.contact": {"email": OLA}}, ""),
    ],
)
def test_bad_corrections_are_refused_and_nothing_is_half_written(kari, ola, changes, message):
    with pytest.raises(ValidationError) as refused:
        subject_rectify(
            emails=[KARI],
            changes={"subjects.jobapplication": {"name": "Written first?"}, **changes},
            actor=DPO,
            reference="R",
        )
    assert message in " ".join(refused.value.messages)
    assert JobApplication.objects.get(email=KARI).name == "Kari Nordmann"
    assert Contact.objects.get(email=KARI).name == "Kari Nordmann"
    assert not AuditEvent.objects.filter(action="rights.rectify").exists()


def test_recipients_are_those_of_the_models_that_hold_the_person(kari):
    assert recipients_for(emails=[KARI]) == ["crm_provider", "hosting_provider"]
    names = dict(recipients_for_display(emails=[KARI]))
    assert set(names) == {"crm_provider", "hosting_provider"} and all(names.values())


def test_a_job_applicant_only_reaches_the_hosting_provider(db):
    from tests.subjects.factories import JobApplicationFactory

    JobApplicationFactory(email="soker@epost.no")
    assert recipients_for(emails=["Soker@epost.no"]) == ["hosting_provider"]


def test_nobody_is_told_about_a_person_we_do_not_hold(db):
    assert recipients_for(emails=["nobody@example.no"]) == []
    assert recipients_for(emails=[""]) == []


def test_after_erasure_no_recipient_holds_the_person_through_us(kari):
    before = recipients_for(emails=[KARI])
    subject_erase(emails=[KARI], actor=DPO, reference="R")
    assert before and recipients_for(emails=[KARI]) == []


def test_a_correction_is_told_to_every_recipient_by_the_address_they_knew(kari, ola):
    """Art. 19: recipients hear of a correction (core.events.subject_rectified: the API's webhooks)."""
    from core.events import subject_rectified

    heard: list[dict] = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    subject_rectified.connect(listener)
    try:
        expected_recipients = recipients_for(emails=[KARI])
        subject_rectify(
            emails=[KARI], changes={"subjects.contact": {"email": "kari.ny@firma.no", "name": "Kari N."}},
            actor=DPO, reference="DSAR-8", request_id=None,
        )  # fmt: skip
    finally:
        subject_rectified.disconnect(listener)

    contact = Contact.objects.get(email="kari.ny@firma.no")
    assert heard == [{
        "signal": subject_rectified, "email": KARI, "contact_id": contact.pk, "fields": ["email", "name"],
        "recipients": expected_recipients, "request_id": None,
    }]  # fmt: skip
    assert expected_recipients, "the test contact should have a recipient to tell"


def test_a_refused_correction_tells_no_one(kari):
    from core.events import subject_rectified

    heard: list[dict] = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    subject_rectified.connect(listener)
    try:
        with pytest.raises(ValidationError):
            subject_rectify(emails=[KARI], changes={"subjects.contact": {"email": "not an address"}},
                            actor=DPO, reference="DSAR-9")  # fmt: skip
    finally:
        subject_rectified.disconnect(listener)
    assert heard == []
