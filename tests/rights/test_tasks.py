from __future__ import annotations

import io
import json
import zipfile

import pytest

from core.models import AuditEvent
from rights.tasks import access_report_build_for_contact
from subjects.models import private_storage
from tests.conftest import wait_for
from tests.subjects.factories import ContactFactory, InteractionFactory


@pytest.mark.django_db
def test_the_task_stores_the_contacts_access_report_privately_and_audits_it():
    contact = ContactFactory(email="kari@firma.no")
    InteractionFactory.create_batch(2, contact=contact)

    name = access_report_build_for_contact.delay(contact.pk, "DSAR-2026-0009").get()

    assert name == "access-reports/DSAR-2026-0009.zip"
    with private_storage.open(name) as stored:
        report = json.loads(zipfile.ZipFile(io.BytesIO(stored.read())).read("report.json"))
    assert {s["model"] for s in report["sections"]} >= {"subjects.contact", "subjects.interaction"}
    event = AuditEvent.objects.get(action="rights.access_report")
    assert (event.target_type, event.target_id) == ("subjects.contact", str(contact.pk))


@pytest.mark.django_db
def test_the_task_refuses_a_reference_that_could_name_another_path():
    contact = ContactFactory()
    with pytest.raises(ValueError):
        access_report_build_for_contact.delay(contact.pk, "../../etc/x").get()


@pytest.mark.django_db
def test_the_task_does_nothing_for_a_contact_that_is_gone():
    assert access_report_build_for_contact.delay(987654, "R-1").get() == ""


def test_the_real_worker_builds_access_reports(celery_worker):
    contact = ContactFactory(email="kari.worker@firma.no")
    InteractionFactory.create_batch(3, contact=contact)

    access_report_build_for_contact.delay(contact.pk, "DSAR-WORKER-1")

    event = wait_for(lambda: AuditEvent.objects.filter(action="rights.access_report").first())
    assert event.target_id == str(contact.pk)
