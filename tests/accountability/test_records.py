"""The records of processing (Art. 30): generated, as at a past date after a change, a diff, the doors."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from accountability import records, selectors, services
from accountability.models import ProcessingRecordVersion, ProcessorActivity, Recipient
from retention.models import RetentionPolicy
from tests.subjects.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def _activity(record: dict, code: str) -> dict:
    return next(a for a in record["controller"]["activities"] if a["purpose"] == code)


def test_the_controller_record_is_generated_from_purposes_registry_policies_and_recipients():
    Recipient.objects.filter(code="crm_provider").update(
        country="US", transfer_mechanism="scc", transfer_mechanism_date=date(2023, 7, 10)
    )
    with translation.override("en"):
        record = records.build_record()
    support = _activity(record, "support")
    assert support["legal_basis"] == "Contract"
    assert {r["code"] for r in support["recipients"]} == {"hosting_provider", "crm_provider"}
    assert support["transfers"] == [{"recipient": "CRM provider", "country": "US",
                                     "mechanism": "Standard contractual clauses (Art. 46(2)(c))",
                                     "dated": "2023-07-10"}]  # fmt: skip
    assert "1095 days, then deleted (policy contacts)" in support["retention"]["Contact details"]
    assert _activity(record, "web_analytics")["categories_of_people"] == ["Visitors to our website"]
    assert record["controller"]["security_measures"]


def test_the_processor_record_names_the_customers_and_their_sub_processors():
    customer = OrganisationFactory(name="Kunde AS")
    activity = ProcessorActivity.objects.create(customer=customer, processing="Hosting of their CRM data")
    activity.sub_processors.add(Recipient.objects.get(code="hosting_provider"))
    record = records.build_record()
    (entry,) = record["processor"]["activities"]
    assert entry["customer"] == "Kunde AS"
    assert [r["code"] for r in entry["sub_processors"]] == ["hosting_provider"]


def test_the_record_of_a_past_date_is_reproduced_after_a_policy_changed(django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 1, 10, 12, 0, tzinfo=OSLO), tick=False):
        services.processing_record_snapshot()
    with time_machine.travel(datetime(2026, 2, 1, 9, 0, tzinfo=OSLO), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            policy = RetentionPolicy.objects.get(code="contacts")
            policy.period_days = 730
            policy.save()
        assert ProcessingRecordVersion.objects.count() == 2
        before, since = selectors.processing_record_as_at(on=date(2026, 1, 31), language="en")
        now, _ = selectors.processing_record_as_at(on=date(2026, 2, 1), language="en")
        nothing, _ = selectors.processing_record_as_at(on=date(2026, 1, 9), language="en")
    assert since.astimezone(OSLO).date() == date(2026, 1, 10)
    assert "1095 days" in _activity(before, "support")["retention"]["Contact details"]
    assert "730 days" in _activity(now, "support")["retention"]["Contact details"]
    assert nothing is None
    # The bokmål version was kept too.
    nb, _ = selectors.processing_record_as_at(on=date(2026, 1, 31), language="nb")
    assert _activity(nb, "support")["name"] != _activity(before, "support")["name"]
    changes = records.diff(before, now)
    assert any(
        "support / retention" in where and "1095" in old and "730" in new for where, old, new in changes
    )


def test_no_new_version_is_kept_when_nothing_changed():
    assert services.processing_record_snapshot() is not None
    assert services.processing_record_snapshot() is None


class TestTheAdminPages:
    def test_the_record_prints_in_both_languages(self, staff_client):
        page = staff_client.get("/admin/accountability/processingrecordversion/record/?lang=en")
        assert page.status_code == 200
        assert "As controller (Art. 30(1))" in page.content.decode()
        page = staff_client.get("/admin/accountability/processingrecordversion/record/?lang=nb")
        assert page.status_code == 200 and 'lang="nb"' in page.content.decode()

    def test_it_downloads_as_csv_and_json(self, staff_client):
        base = "/admin/accountability/processingrecordversion/record/?lang=en&format="
        csv_response = staff_client.get(base + "csv")
        assert csv_response["Content-Type"].startswith("text/csv")
        assert "controller / support / legal_basis" in csv_response.content.decode()
        document = json.loads(staff_client.get(base + "json").content)
        assert _activity(document, "support")["legal_basis"] == "Contract"

    def test_a_malformed_date_is_a_400(self, staff_client):
        response = staff_client.get("/admin/accountability/processingrecordversion/record/?as_at=2026-13-45")
        assert response.status_code == 400

    def test_the_diff_page_lists_the_changes(self, staff_client):
        response = staff_client.get("/admin/accountability/processingrecordversion/record/diff/"
                                    "?since=2026-01-01&until=2026-12-31&lang=en")  # fmt: skip
        assert response.status_code == 200
        assert b"record-diff" in response.content

    def test_a_colleague_without_permission_is_refused(self, client, colleague, stranger):
        for user in (colleague, stranger):
            client.force_login(user)
            response = client.get("/admin/accountability/processingrecordversion/record/")
            assert response.status_code in {302, 403}
