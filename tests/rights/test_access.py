from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.utils import translation

from core.registry import registry
from rights.services import access_report_build, portability_export_build
from tests.subjects.factories import InteractionFactory

from .conftest import KARI

pytestmark = pytest.mark.django_db


def _open(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def test_the_access_report_holds_every_model_with_its_purposes_sources_recipients_and_retention(kari, ola):
    archive = _open(access_report_build(emails=[KARI], reference="DSAR-2026-0001"))

    assert sorted(archive.namelist()) == ["report.html", "report.json"]
    report = json.loads(archive.read("report.json"))
    sections = {s["model"]: s for s in report["sections"]}
    assert set(sections) >= {
        "subjects.contact",
        "subjects.interaction",
        "subjects.webvisit",
        "subjects.jobapplication",
        "subjects.applicationdocument",
    }
    contact = sections["subjects.contact"]
    assert contact["rows"][0]["email"] == KARI
    assert {p["code"] for p in contact["purposes"]} == set(registry.get(kari.contact.__class__).purposes)
    assert {r["code"] for r in contact["recipients"]} == {"hosting_provider", "crm_provider"}
    assert contact["source"] and contact["retention"] and contact["category"] == "contact"
    assert len(sections["subjects.interaction"]["rows"]) == 3
    assert report["reference"] == "DSAR-2026-0001"
    # Nothing of Ola's.
    assert "ola.hansen" not in archive.read("report.json").decode()
    assert "ola.hansen" not in archive.read("report.html").decode()


def test_the_html_report_is_in_the_active_language(kari):
    with translation.override("nb"):
        norwegian = _open(access_report_build(emails=[KARI], reference="R-1")).read("report.html").decode()
    with translation.override("en"):
        english = _open(access_report_build(emails=[KARI], reference="R-1")).read("report.html").decode()

    assert '<html lang="nb">' in norwegian and "Dette har vi om deg" in norwegian
    assert "Datatilsynet" in norwegian
    assert '<html lang="en">' in english and "What we hold about you" in english
    assert "Kari Nordmann" in norwegian and "Kari Nordmann" in english


def test_the_report_escapes_what_it_shows(kari):
    InteractionFactory(contact=kari.contact, summary="<script>alert(1)</script>")
    html = _open(access_report_build(emails=[KARI], reference="R-1")).read("report.html").decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_unknown_address_gets_a_report_that_says_we_hold_nothing(db):
    with translation.override("en"):
        archive = _open(access_report_build(emails=["nobody@example.no"], reference="R-2"))
    assert json.loads(archive.read("report.json"))["sections"] == []
    assert "We hold no personal data about you." in archive.read("report.html").decode()


def test_the_access_report_finds_the_person_under_each_of_their_addresses(kari, ola):
    report = json.loads(
        _open(access_report_build(emails=[KARI.upper(), " ola.hansen@firma.no"], reference="R")).read(
            "report.json"
        )
    )
    emails = {
        row["email"] for s in report["sections"] if s["model"] == "subjects.contact" for row in s["rows"]
    }
    assert emails == {KARI, "ola.hansen@firma.no"}


def test_the_access_report_query_count_does_not_grow_with_the_rows(kari, django_assert_num_queries):
    # One per findable model, one for the retention policies in force, one for the person's
    # requests (whose portal acts the audit trail holds; kari has none).
    findable = sum(1 for d in registry.personal() if d.findable) + 2
    with django_assert_num_queries(findable):
        access_report_build(emails=[KARI], reference="R")
    InteractionFactory.create_batch(60, contact=kari.contact)
    with django_assert_num_queries(findable):
        archive = _open(access_report_build(emails=[KARI], reference="R"))
    sections = {s["model"]: s for s in json.loads(archive.read("report.json"))["sections"]}
    assert len(sections["subjects.interaction"]["rows"]) == 63


def test_portability_holds_only_what_the_person_gave_us_as_json_and_csv(kari, ola):
    archive = _open(portability_export_build(emails=[KARI], reference="R-3"))

    names = set(archive.namelist())
    assert {"data.json", "subjects_contact.csv", "subjects_jobapplication.csv"} <= names
    data = json.loads(archive.read("data.json"))["data"]
    assert set(data["subjects.contact"][0]) == set(registry.get(kari.contact.__class__).provided_by_subject)
    assert data["subjects.contact"][0]["email"] == KARI
    # What we recorded about the person ourselves is not theirs to carry (Art. 20(1)).
    assert "subjects.interaction" not in data
    assert "source_type" not in data["subjects.contact"][0]
    rows = archive.read("subjects_contact.csv").decode().splitlines()
    assert rows[0].split(",") == list(registry.get(kari.contact.__class__).provided_by_subject)
    assert KARI in rows[1]
    assert "ola.hansen" not in archive.read("data.json").decode()


def test_a_request_without_any_address_is_refused(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        access_report_build(emails=["  "], reference="R")


# --- Issue 9, item 12: in the requester's language, with words instead of codes ---------------


def _report(content: bytes) -> tuple[dict, str]:
    archive = _open(content)
    return json.loads(archive.read("report.json")), archive.read("report.html").decode()


@pytest.mark.parametrize(("asked_in", "worker_speaks"), [("en", "nb"), ("nb", "en")])
def test_the_answer_to_an_access_request_is_in_the_language_it_was_made_in(
    kari, asked_in, worker_speaks, django_capture_on_commit_callbacks
):
    from requests_dsar.models import DataSubjectRequest
    from requests_dsar.tasks import request_answer_build
    from tests.requests_dsar.factories import RequestFactory

    request = RequestFactory(type="access", email=KARI, language=asked_in)
    with translation.override(worker_speaks), django_capture_on_commit_callbacks(execute=True):
        request_answer_build.delay(request.pk)

    request = DataSubjectRequest.objects.get(pk=request.pk)
    report, html = _report(request.answer_file.read())
    assert report["language"] == asked_in
    assert f'<html lang="{asked_in}">' in html
    heading = "What we hold about you" if asked_in == "en" else "Dette har vi om deg"
    assert heading in html


def test_a_report_built_from_a_contact_is_in_the_contacts_language(kari):
    from rights.tasks import access_report_build_for_contact
    from subjects.models import private_storage

    kari.contact.language = "en"
    kari.contact.save(update_fields=["language"])
    with translation.override("nb"):
        name = access_report_build_for_contact.delay(kari.contact.pk, "R-EN").get()

    assert '<html lang="en">' in _open(private_storage.open(name).read()).read("report.html").decode()


def test_purposes_are_named_not_coded(kari):
    from consent.models import Purpose
    from tests.consent.factories import grant

    grant(kari.contact, "marketing_products")
    purpose = Purpose.objects.get(code="marketing_products")

    for language, name in (("en", purpose.name_en), ("nb", purpose.name_nb)):
        with translation.override(language):
            report, html = _report(access_report_build(emails=[KARI], reference="R"))
        events = next(s for s in report["sections"] if s["model"] == "consent.consentevent")
        assert {row["purpose__code"] for row in events["rows"]} == {name}
        assert "marketing_products" not in html
        assert name in html


def test_interactions_are_listed_by_date(kari):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for days in (3, 30, 1):
        InteractionFactory(contact=kari.contact, occurred_at=now - timedelta(days=days), summary=f"{days} d")

    report, _html = _report(access_report_build(emails=[KARI], reference="R"))

    rows = next(s for s in report["sections"] if s["model"] == "subjects.interaction")["rows"]
    moments = [row["occurred_at"] for row in rows]
    assert moments == sorted(moments)


def test_retention_is_stated_from_the_policy_in_force(kari):
    from retention.models import RetentionPolicy

    RetentionPolicy.objects.filter(category="contact").update(enabled=False)
    policy, _created = RetentionPolicy.objects.update_or_create(
        code="contacts",
        defaults={"category": "contact", "period_days": 3 * 365, "anchor": "last_interaction_at",
                  "action": "delete", "enabled": True},
    )  # fmt: skip
    with translation.override("en"):
        report, _html = _report(access_report_build(emails=[KARI], reference="R"))
    contact = next(s for s in report["sections"] if s["model"] == "subjects.contact")
    assert contact["retention"] == "Deleted 3 years after last interaction."

    # The DPO changes the policy: the next report says so.
    policy.period_days, policy.action = 540, "anonymise"
    policy.save()
    with translation.override("nb"):
        report, _html = _report(access_report_build(emails=[KARI], reference="R"))
    contact = next(s for s in report["sections"] if s["model"] == "subjects.contact")
    assert contact["retention"].startswith("Anonymiseres 18 måneder etter")
    assert "statistikk" in contact["retention"]


def test_without_a_policy_the_declarations_note_stands(kari):
    from rights.report import retention_text

    declaration = registry.get(kari.contact.__class__)
    assert retention_text(declaration, {}) == str(declaration.retention_note)


def test_the_report_shows_the_addresses_used_in_the_portal_and_their_period(kari):
    from django.conf import settings

    from core.audit import Actor, audit_record
    from tests.requests_dsar.factories import RequestFactory

    request = RequestFactory(type="access", email=KARI)
    audit_record(actor=Actor.subject("203.0.113.44"), action="dsar.verify", target=request)

    with translation.override("en"):
        report, html = _report(access_report_build(emails=[KARI], reference="R"))

    portal = next(s for s in report["sections"] if s["model"] == "core.auditevent")
    assert portal["rows"][0]["ip_address"] == "203.0.113.44"
    assert portal["rows"][0]["action"] == "You confirmed the request by email"
    assert str(settings.AUDIT_SUBJECT_IP_KEEP_DAYS) in portal["description"]
    assert "203.0.113.44" in html


def test_a_declared_purpose_without_words_fails_the_system_check(monkeypatch):
    from dataclasses import replace

    from django.core.checks import run_checks

    from rights.checks import check_declared_codes_have_words

    assert check_declared_codes_have_words() == []
    assert not [m for m in run_checks() if m.id == "rights.E001"]
    real = registry.personal()
    broken = replace(real[0], purposes=("secret_sauce",))
    monkeypatch.setattr(registry, "personal", lambda: [broken, *real[1:]])

    errors = check_declared_codes_have_words()

    assert [e.id for e in errors] == ["rights.E001"]
    assert "secret_sauce" in errors[0].msg
