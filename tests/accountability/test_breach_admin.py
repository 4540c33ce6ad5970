"""The breach doors in the admin: the record through the service, the Art. 34 review and its permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accountability import services
from accountability.models import Breach, BreachCommunication
from core.audit import Actor
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _draft() -> BreachCommunication:
    org = OrganisationFactory()
    ContactFactory(organisation=org, language="en")
    breach = services.breach_create(actor=Actor.system("t"), title="Misdirected email", discovered_by="Sales",
                                    description="A price list went to the wrong customer.")  # fmt: skip
    return services.breach_communication_create(
        actor=Actor.system("t"), breach=breach, subject_nb="Avvik", body_nb="Vi beklager feilsendingen.",
        subject_en="Breach", body_en="We apologise for the misdirected email.", organisation_ids=[org.pk],
    )  # fmt: skip


def test_staff_record_a_breach_and_its_versions_in_the_admin(staff_client):
    response = staff_client.post("/admin/accountability/breach/add/", {
        "title": "Stolen phone", "discovered_at_0": "2026-12-01", "discovered_at_1": "08:00:00",
        "discovered_by": "Kari in sales", "description": "A phone with the CRM app was stolen.",
        "categories": '["contact"]', "decision": "undecided",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    breach = Breach.objects.get()
    assert breach.revisions.count() == 1
    page = staff_client.get(f"/admin/accountability/breach/{breach.pk}/change/")
    assert b"72-hour clock" in page.content


def test_the_admin_refuses_a_decision_without_reason(staff_client):
    response = staff_client.post("/admin/accountability/breach/add/", {
        "title": "Stolen phone", "discovered_at_0": "2026-12-01", "discovered_at_1": "08:00:00",
        "discovered_by": "Kari", "description": "Stolen.", "categories": "[]", "decision": "not_notify",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
    })  # fmt: skip
    assert response.status_code == 200
    assert b"Give the reason for the decision." in response.content
    assert not Breach.objects.exists()


def test_the_review_shows_the_message_in_both_languages(staff_client):
    communication = _draft()
    page = staff_client.get(f"/admin/accountability/breachcommunication/{communication.pk}/change/")
    assert page.status_code == 200
    assert "Vi beklager feilsendingen." in page.content.decode()
    assert "We apologise for the misdirected email." in page.content.decode()
    assert "0 of 1 told" in page.content.decode()


def test_only_staff_with_the_permission_may_send(client, staff_user, colleague, stranger):
    communication = _draft()
    url = f"/admin/accountability/breachcommunication/{communication.pk}/send/"
    colleague.user_permissions.add(Permission.objects.get(codename="view_breachcommunication"))
    for user in (colleague, stranger):
        client.force_login(user)
        response = client.post(url)
        assert response.status_code in {302, 403}
        communication.refresh_from_db()
        assert communication.status == "draft"
    client.force_login(staff_user)
    response = client.post(url)
    assert response.status_code == 302
    communication.refresh_from_db()
    assert communication.status in {"sending", "finished"}
