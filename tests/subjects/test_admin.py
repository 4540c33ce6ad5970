from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.html import escape

from core.audit import Actor, audit_record
from core.models import AuditEvent
from core.services import audit_chain_check
from subjects.models import ApplicationDocument, Contact, Organisation
from tests.subjects.factories import (
    ContactFactory,
    InteractionFactory,
    JobApplicationFactory,
    OrganisationFactory,
    WebVisitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    contact = ContactFactory(name="Kari Nordmann", email="kari@firma.no", phone="+4791234567")
    InteractionFactory.create_batch(3, contact=contact)
    application = JobApplicationFactory()
    ApplicationDocument.objects.create(
        application=application, title="CV", file=ContentFile(b"cv", name="cv.pdf")
    )
    WebVisitFactory(contact=contact)
    audit_record(actor=Actor.system("test"), action="contact.view", target=contact)
    audit_chain_check(anchor=False)  # a row for the chain verifications' admin page
    return contact


def _registered_models():
    return [m for m in admin.site._registry if m._meta.app_label in {"core", "subjects"}]


def test_every_changelist_and_change_page_renders_with_data(staff_client, register):
    for model in _registered_models():
        opts = model._meta
        changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        obj = model._default_manager.first()
        assert obj is not None, opts.label
        change = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200, opts.label


def test_the_contact_page_shows_the_person_whole_and_is_audited(staff_client, staff_user, register):
    response = staff_client.get(reverse("admin:subjects_contact_change", args=[register.pk]))
    body = response.content.decode()
    assert escape(register.organisation.name) in body
    assert "Spørsmål om lisens" in body  # an interaction
    assert "Alt vi har om denne adressen" in body  # bokmål unless the browser asks for English
    event = AuditEvent.objects.filter(action="contact.view", actor_kind="staff").get()
    assert (event.actor_id, event.target_id) == (str(staff_user.pk), str(register.pk))


@pytest.mark.parametrize("term", ["Nordmann", "kari@firma.no", "+4791234567"])
def test_contacts_are_found_by_name_email_and_phone(staff_client, register, term):
    ContactFactory(name="Per Hansen")
    response = staff_client.get(reverse("admin:subjects_contact_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [register]


def test_organisations_are_found_by_number(staff_client):
    wanted = OrganisationFactory(org_number="977187761")
    OrganisationFactory()
    response = staff_client.get(reverse("admin:subjects_organisation_changelist"), {"q": "977187761"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_the_contact_list_makes_no_query_per_row(staff_client, django_assert_max_num_queries):
    ContactFactory.create_batch(3)
    url = reverse("admin:subjects_contact_changelist")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    ContactFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(url)


def test_adding_a_contact_goes_through_the_service(staff_client, staff_user):
    response = staff_client.post(
        reverse("admin:subjects_contact_add"),
        {
            "name": "Ola Nordmann", "email": "Ola@Firma.no", "email_kind": "personal",
            "phone": "91234567", "language": "nb", "source_type": "phone",
            "collected_at_0": "2026-01-01", "collected_at_1": "10:00",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = Contact.objects.get()
    assert (contact.email, contact.phone) == ("ola@firma.no", "+4791234567")
    assert AuditEvent.objects.filter(action="contact.create", actor_id=str(staff_user.pk)).exists()


@pytest.mark.parametrize(
    ("language", "message"), [("en", "check digit is wrong"), ("nb", "Kontrollsifferet i dette")]
)
def test_a_bad_organisation_number_in_the_admin_is_a_form_error_not_a_500(staff_client, language, message):
    response = staff_client.post(
        reverse("admin:subjects_organisation_add"),
        {"name": "Feil AS", "org_number": "977187762", "country": "NO"},
        headers={"accept-language": language},
    )
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["org_number"])
    assert not Organisation.objects.exists()


def test_csv_export_is_audited_per_contact(staff_client, register):
    other = ContactFactory()
    response = staff_client.post(
        reverse("admin:subjects_contact_changelist"),
        {"action": "export_csv", "_selected_action": [register.pk, other.pk]},
    )
    body = b"".join(response.streaming_content).decode()
    assert "kari@firma.no" in body and other.email in body
    exported = set(AuditEvent.objects.filter(action="contact.export").values_list("target_id", flat=True))
    assert exported == {str(register.pk), str(other.pk)}


def test_audit_events_are_read_only_in_the_admin(staff_client, register):
    event = AuditEvent.objects.first()
    response = staff_client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


class TestApplicationDocument:
    def url(self, register):
        return reverse("subjects:application_document", args=[ApplicationDocument.objects.get().pk])

    def test_staff_with_permission_downloads_it(self, staff_client, register):
        response = staff_client.get(self.url(register))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"cv"
        assert AuditEvent.objects.filter(action="application_document.view").exists()

    def test_a_colleague_without_permission_gets_nothing(self, client, colleague, register):
        client.force_login(colleague)
        assert client.get(self.url(register)).status_code == 403

    def test_a_stranger_is_sent_to_login(self, client, stranger, register):
        client.force_login(stranger)
        response = client.get(self.url(register))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_viewing_the_contact_list_is_audited_without_the_search_words(staff_client, staff_user, register):
    staff_client.get(reverse("admin:subjects_contact_changelist"), {"q": "Nordmann"})
    event = AuditEvent.objects.get(action="contact.list")
    assert (event.actor_id, event.target_type) == (str(staff_user.pk), "subjects.contact")
    assert "Nordmann" not in str(AuditEvent.objects.filter(pk=event.pk).values().get())
