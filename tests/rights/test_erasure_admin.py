"""Issue 8, found broken 1: the admin removes personal data only through the removal engine."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.base import ContentFile
from django.test import RequestFactory as HttpRequestFactory
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentEvent, SuppressionEntry
from core.models import AuditEvent
from core.registry import registry
from requests_dsar.models import DataSubjectRequest
from rights.models import ErasureJournalEntry
from subjects.models import Contact, Interaction, JobApplication, Organisation, private_storage
from tests.consent.factories import grant
from tests.requests_dsar.factories import RequestFactory

from .conftest import KARI, OLA

pytestmark = pytest.mark.django_db


def _changelist(model: type) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _erase(client, model: type, pks: list[int], *, confirm: bool, capture=None):
    data = {"action": "erase_selected", "_selected_action": [str(pk) for pk in pks]}
    if confirm:
        data["post"] = "yes"
    if capture is None:
        return client.post(_changelist(model), data, HTTP_ACCEPT_LANGUAGE="en")
    # Files leave storage once the transaction commits: run those callbacks.
    with capture(execute=True):
        return client.post(_changelist(model), data, HTTP_ACCEPT_LANGUAGE="en")


def test_every_admin_of_personal_data_has_no_stock_delete(staff_user):
    request = HttpRequestFactory().get("/admin/")
    request.user = staff_user
    offenders = []
    for model, model_admin in admin.site._registry.items():
        declaration = registry.get(model)
        if declaration is None or not declaration.holds_personal_data:
            continue
        actions = model_admin.get_actions(request)
        if model_admin.has_delete_permission(request) or "delete_selected" in actions:
            offenders.append(model._meta.label)
        for inline in model_admin.get_inline_instances(request):
            declared = registry.get(inline.model)
            deletes = inline.can_delete and inline.has_delete_permission(request)
            if declared is not None and declared.holds_personal_data and deletes:
                offenders.append(f"{inline.model._meta.label} (inline)")
    assert offenders == []


def test_the_confirmation_page_says_what_goes_what_is_anonymised_and_what_is_kept(staff_client, kari):
    response = _erase(staff_client, Contact, [kari.contact.pk], confirm=False)

    assert response.status_code == 200
    text = response.content.decode()
    assert "deleted" in text and "anonymised" in text and "kept" in text
    assert "subjects.contact" not in text
    # Nothing happened yet.
    assert Contact.objects.filter(pk=kari.contact.pk).exists()


def test_erasing_a_contact_in_the_admin_is_an_erasure(
    staff_client, staff_user, kari, ola, django_capture_on_commit_callbacks
):
    contact = kari.contact
    cv_name = kari.document.file.name
    closed = RequestFactory(
        email=KARI, name="Kari Nordmann", type=DataSubjectRequest.Type.ACCESS,
        status=DataSubjectRequest.Status.COMPLETED, closed_at=timezone.now(),
    )  # fmt: skip
    closed.answer_file.save("DSR-old.zip", ContentFile(b"PK a copy of everything"), save=True)
    zip_name = closed.answer_file.name
    LogEntry.objects.log_actions(user_id=staff_user.pk, queryset=[contact], action_flag=CHANGE)
    assert LogEntry.objects.filter(object_repr="Kari Nordmann").exists()  # the search below can fail

    response = _erase(
        staff_client, Contact, [contact.pk], confirm=True, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    # Interactions anonymised, as erasure does, not deleted.
    assert Interaction.objects.filter(contact__isnull=True).count() == 3
    # Journal, suppression and audit trail, so that a restore cannot bring the person back.
    assert ErasureJournalEntry.objects.count() == 1
    assert SuppressionEntry.objects.count() == 1
    assert AuditEvent.objects.filter(action="rights.erase").exists()
    # What the person is found by goes too: the application, the CV, the old request's details and zip.
    assert not JobApplication.objects.filter(email=KARI).exists()
    assert not private_storage.exists(cv_name)
    closed.refresh_from_db()
    assert closed.email == "" and closed.name == "" and not closed.answer_file
    assert not private_storage.exists(zip_name)
    # The admin log no longer names the person.
    assert not LogEntry.objects.filter(object_repr="Kari Nordmann").exists()
    # Ola is untouched.
    assert Contact.objects.filter(email=OLA).exists()
    assert JobApplication.objects.filter(email=OLA).exists()


def test_a_contact_with_consents_is_erased_not_dead_ended(staff_client, kari):
    grant(kari.contact)
    assert ConsentEvent.objects.filter(contact=kari.contact).exists()

    response = _erase(staff_client, Contact, [kari.contact.pk], confirm=True)

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=kari.contact.pk).exists()
    assert not ConsentEvent.objects.exists()


def test_erasing_a_job_application_removes_its_documents_and_files(
    staff_client, kari, django_capture_on_commit_callbacks
):
    cv_name = kari.document.file.name

    _erase(
        staff_client, JobApplication, [kari.application.pk], confirm=True,
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip

    assert not JobApplication.objects.filter(pk=kari.application.pk).exists()
    assert not private_storage.exists(cv_name)
    # Only the application: the person's contact record is another matter.
    assert Contact.objects.filter(pk=kari.contact.pk).exists()


def test_erasing_an_organisation_erases_the_people_who_represent_it(staff_client, kari, ola):
    organisation = Organisation.objects.create(name="Firma AS")
    Contact.objects.filter(pk=kari.contact.pk).update(organisation=organisation)

    _erase(staff_client, Organisation, [organisation.pk], confirm=True)

    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert not Contact.objects.filter(pk=kari.contact.pk).exists()
    assert Contact.objects.filter(email=OLA).exists()


def test_a_colleague_without_the_delete_permission_cannot_erase(client, colleague, kari):
    from django.contrib.auth.models import Permission

    colleague.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(colleague)

    response = _erase(client, Contact, [kari.contact.pk], confirm=True)

    assert Contact.objects.filter(pk=kari.contact.pk).exists()
    assert response.status_code in (200, 302, 403)


def test_a_stranger_cannot_erase(client, stranger, kari):
    client.force_login(stranger)

    response = _erase(client, Contact, [kari.contact.pk], confirm=True)

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Contact.objects.filter(pk=kari.contact.pk).exists()


def test_the_preview_counts_each_row_once_and_matches_the_erasure(kari):
    from core.audit import Actor
    from rights.services import contacts_erase, contacts_erase_preview

    contacts = Contact.objects.filter(pk=kari.contact.pk)
    preview = contacts_erase_preview(contacts=contacts)

    assert preview.anonymised["subjects.interaction"] == 3
    assert preview.erased["subjects.webvisit"] == 1
    done = contacts_erase(contacts=contacts, actor=Actor.system("test"))
    assert done.erased == preview.erased
    assert done.anonymised == preview.anonymised
