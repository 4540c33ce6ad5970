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
    findable = sum(1 for d in registry.personal() if d.findable)
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
