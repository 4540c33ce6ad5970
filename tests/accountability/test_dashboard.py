"""The privacy officer's dashboard: who sees it, what it shows, and a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability import services
from accountability.models import DashboardFigure, Recipient
from core.audit import Actor
from tests.requests_dsar.factories import RequestFactory
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _register(size: int) -> None:
    today = timezone.localdate()
    for i in range(size):
        ContactFactory()
        RequestFactory(due_date=today + timedelta(days=i % 5 - 2), first_due_date=today - timedelta(days=3))
        services.breach_create(actor=Actor.system("t"), title=f"Breach {i}", discovered_by="IT",
                               description="Lost.")  # fmt: skip
    Recipient.objects.update(dpa_next_review=today + timedelta(days=10))


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(queries)


def test_the_privacy_officer_sees_the_dashboard_with_what_is_due(staff_client):
    _register(3)
    services.dashboard_refresh()
    page = staff_client.get("/admin/").content.decode()
    assert "What needs a decision today" in page
    assert "Breach 0" in page and "Hosting provider" in page
    assert "Requests per month by type" in page and 'role="img"' in page
    # Charts drawn on the server: no inline script, nothing from a CDN (CSP).
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", page)
    # The audit chain's check (core.selectors.audit_chain_last_verified): never run in this test.
    assert "never found intact" in page
    assert staff_client.get("/admin/?models=1").content.decode().count("What needs a decision today") == 0


def test_a_colleague_without_the_permission_gets_the_model_list(client, colleague, stranger):
    client.force_login(colleague)
    page = client.get("/admin/")
    assert page.status_code == 200 and b"What needs a decision today" not in page.content
    colleague.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(colleague)
    assert b"What needs a decision today" in client.get("/admin/").content
    client.force_login(stranger)
    assert client.get("/admin/").status_code == 302


def test_the_number_of_queries_does_not_grow_with_the_register(staff_client, django_assert_max_num_queries):
    _register(2)
    services.dashboard_refresh()
    small = _queries(staff_client)
    _register(25)
    services.dashboard_refresh()
    large = _queries(staff_client)
    assert small == large
    with django_assert_max_num_queries(25):
        staff_client.get("/admin/")


def test_the_refresh_counts_requests_consents_and_sources():
    RequestFactory.create_batch(3)
    ContactFactory.create_batch(2, source_type="given_directly")
    services.dashboard_refresh()
    month = timezone.localdate().replace(day=1)
    assert DashboardFigure.objects.get(key="requests", dimension="access", month=month).value == 3
    assert DashboardFigure.objects.get(key="contacts_by_source", dimension="given_directly").value == 2
    assert DashboardFigure.objects.filter(key="deletions_due_30d").exists()


def test_the_dashboard_speaks_bokmal(staff_client):
    page = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Hva som må besluttes i dag" in page
    assert "Revisjonskjeden sist kontrollert" in page


def test_a_superseded_assessment_is_not_shown_as_due(staff_client, staff_user):
    from consent.models import LegitimateInterestAssessment, Purpose

    today = timezone.localdate()
    purpose = Purpose.objects.get(code="direct_sales")
    common = {"purpose": purpose, "interest": "Sales", "necessity": "Needed", "balancing": "Balanced",
              "outcome": "approved", "reviewer": staff_user}  # fmt: skip
    LegitimateInterestAssessment.objects.create(**common, reviewed_on=today - timedelta(days=400),
                                                next_review=today - timedelta(days=35))  # fmt: skip
    page = staff_client.get("/admin/").content.decode()
    assert "Legitimate-interest assessment: " in page
    LegitimateInterestAssessment.objects.create(**common, reviewed_on=today - timedelta(days=30),
                                                next_review=today + timedelta(days=335))  # fmt: skip
    page = staff_client.get("/admin/").content.decode()
    assert "Legitimate-interest assessment: " not in page


def test_the_dashboard_shows_when_the_audit_chain_was_last_found_intact(staff_client):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from core.models import AuditChainVerification

    AuditChainVerification.objects.create(
        ok=True, at=datetime(2026, 11, 30, 3, 15, tzinfo=ZoneInfo("Europe/Oslo"))
    )
    AuditChainVerification.objects.create(ok=False, problem="broken")
    page = staff_client.get("/admin/").content.decode()
    assert "2026-11-30 03:15" in page
