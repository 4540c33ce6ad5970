from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import ConsentEvent, LegitimateInterestAssessment, PrivacyNotice, Purpose
from core.audit import Actor
from tests.consent.factories import PERSON, grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    contact = ContactFactory(name="Kari Nordmann")
    grant(contact, "marketing_products")
    grant(contact, "marketing_events")
    services.consent_withdraw(
        contact=contact,
        purpose_code="marketing_events",
        channel="portal",
        actor=PERSON,
        ip_address="192.0.2.7",
    )
    return contact


def test_every_consent_admin_page_renders(staff_client, history, staff_user):
    services.assessment_record(
        actor=Actor.system("test"), purpose=Purpose.objects.get(code="direct_sales"), interest="Sales",
        necessity="Needed", balancing="Balanced", outcome="approved", reviewer=staff_user,
        next_review=timezone.localdate() + timedelta(days=365),
    )  # fmt: skip
    for model in [m for m in admin.site._registry if m._meta.app_label == "consent"]:
        opts = model._meta
        assert staff_client.get(reverse(f"admin:consent_{opts.model_name}_changelist")).status_code == 200
        obj = model._default_manager.first()
        if obj is not None:
            url = reverse(f"admin:consent_{opts.model_name}_change", args=[obj.pk])
            assert staff_client.get(url).status_code == 200, opts.label


def test_the_ledger_cannot_be_changed_or_deleted_from_the_admin(staff_client, history):
    event = ConsentEvent.objects.filter(action="granted").first()
    response = staff_client.post(
        reverse("admin:consent_consentevent_change", args=[event.pk]), {"reference": "x"}
    )
    assert response.status_code == 403
    response = staff_client.post(
        reverse("admin:consent_consentevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ConsentEvent.objects.filter(pk=event.pk, reference="test").exists()


def test_the_contact_page_shows_current_state_and_history(
    staff_client, history, django_assert_max_num_queries
):
    response = staff_client.get(reverse("admin:subjects_contact_change", args=[history.pk]))
    body = response.content.decode()
    assert "Samtykker" in body or "Consents" in body
    assert "Nyheter om produkter og tjenester" in body
    assert "<td>Trukket" in body or "<td>Withdrawn" in body
    assert "<td>192.0.2.7" in body or "· 192.0.2.7" in body  # the evidence


def test_the_contact_panel_queries_do_not_grow_with_the_history(staff_client, history):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:subjects_contact_change", args=[history.pk])
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    for _ in range(10):
        grant(history, "marketing_products")
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)


def test_the_consent_report_counts_per_purpose_and_state_and_exports_csv(staff_client, history):
    response = staff_client.get(reverse("admin:consent_report"))
    assert response.status_code == 200
    csv = staff_client.get(reverse("admin:consent_report") + "?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert "marketing_products,Nyheter om produkter og tjenester,granted,1" in lines
    assert "marketing_events,Arrangementer og webinarer,withdrawn,1" in lines


def test_the_report_is_for_staff_with_permission_only(client, colleague, stranger, history):
    client.force_login(colleague)
    assert client.get(reverse("admin:consent_report")).status_code == 403
    client.force_login(stranger)
    assert client.get(reverse("admin:consent_report")).status_code == 302  # to the login page


def test_the_admin_refuses_to_switch_on_a_legitimate_interest_purpose_without_assessment(staff_client):
    purpose = Purpose.objects.get(code="direct_sales")
    data = {
        "code": purpose.code, "name_nb": purpose.name_nb, "name_en": purpose.name_en,
        "description_nb": purpose.description_nb, "description_en": purpose.description_en,
        "legal_basis": purpose.legal_basis, "data_categories": '["contact"]', "is_marketing": "on",
        "is_active": "on", "created_at_0": "2026-01-01", "created_at_1": "10:00:00",
        "assessments-TOTAL_FORMS": "0", "assessments-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = staff_client.post(reverse("admin:consent_purpose_change", args=[purpose.pk]), data)
    assert (response.status_code == 200 and "assessment" in response.content.decode().lower()) or (
        "vurdering" in response.content.decode()
    )
    assert not Purpose.objects.get(pk=purpose.pk).is_active
    assert not LegitimateInterestAssessment.objects.exists()


def test_the_admin_publishes_a_notice_through_the_service(staff_client):
    notice = services.notice_create(
        actor=Actor.system("test"), version="2027-02", text_nb="Ny", text_en="New", is_material=True,
        effective_from=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    response = staff_client.post(
        reverse("admin:consent_privacynotice_changelist"),
        {"action": "publish", "_selected_action": [notice.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert PrivacyNotice.objects.get(pk=notice.pk).published_at is None  # material, but not in the future
