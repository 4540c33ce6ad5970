"""The demo fills the accountability registers, so `make run` shows a dashboard with something on it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accountability.checks import check_recipients_registered
from accountability.models import Breach, DashboardFigure, Disclosure, ProcessingRecordVersion, Recipient

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_demo_seeds_recipients_disclosures_breaches_records_and_figures():
    call_command("seed_demo", "--contacts", "60", "--interactions-per-contact", "2", stdout=io.StringIO())
    assert Recipient.objects.get(code="crm_provider").transfer_mechanism == "scc"
    assert Disclosure.objects.count() >= 5
    running = [b for b in Breach.objects.all() if b.clock_running]
    assert len(running) == 1 and Breach.objects.count() == 2
    assert ProcessingRecordVersion.objects.exists() and DashboardFigure.objects.exists()
    assert check_recipients_registered(databases=["default"]) == []
