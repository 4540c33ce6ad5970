from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditEvent
from subjects.models import Contact, Organisation
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

HEADER = "name,email,phone,job_title,organisation_number,organisation_name,language\n"


def _csv(tmp_path, body: str):
    path = tmp_path / "kontakter.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_it_imports_normalised_contacts_with_their_provenance(tmp_path):
    path = _csv(
        tmp_path,
        "Kari Nordmann,Kari@Firma.no,912 34 567,CFO,977 187 761,IntegrasjonsPartner BITS AS,nb\n"
        "Per Hansen,per@firma.no,,,977187761,IntegrasjonsPartner BITS AS,en\n",
    )
    call_command("import_contacts", str(path), "--source-type", "data_collector", "--source-name", "Proff")

    kari = Contact.objects.get(email="kari@firma.no")
    assert (kari.phone, kari.source_type, kari.source_name) == ("+4791234567", "data_collector", "Proff")
    assert kari.source_attests_consent is False
    assert Organisation.objects.get().org_number == "977187761"
    assert kari.organisation == Contact.objects.get(email="per@firma.no").organisation
    assert AuditEvent.objects.filter(action="contact.create", actor_id="import_contacts").count() == 2


def test_one_bad_row_stops_the_whole_import_and_is_named_without_its_value(tmp_path):
    path = _csv(
        tmp_path,
        "Kari Nordmann,kari@firma.no,91234567,,,,nb\nPer Hansen,per(at)firma.no,123,,977187762,Feil AS,nb\n",
    )
    with pytest.raises(CommandError) as error:
        call_command("import_contacts", str(path), "--source-type", "public_source")
    message = str(error.value)
    assert "row 2, email" in message and "row 2, phone" in message and "row 2, organisation_number" in message
    assert "per(at)firma.no" not in message and "977187762" not in message
    assert not Contact.objects.exists() and not Organisation.objects.exists()


def test_an_existing_contact_is_filled_in_not_overwritten(tmp_path):
    ContactFactory(email="kari@firma.no", name="Kari N.", job_title="", source_type="phone")
    path = _csv(tmp_path, "Kari Nordmann,KARI@firma.no,,Økonomisjef,,,nb\n")
    call_command("import_contacts", str(path), "--source-type", "marketing_partner")
    kari = Contact.objects.get()
    assert (kari.name, kari.job_title, kari.source_type) == ("Kari N.", "Økonomisjef", "phone")


def test_the_same_address_twice_in_one_file_is_refused(tmp_path):
    path = _csv(tmp_path, "Kari,kari@firma.no,,,,,nb\nKari,Kari@firma.no,,,,,nb\n")
    with pytest.raises(CommandError, match="row 2, email"):
        call_command("import_contacts", str(path), "--source-type", "web_form")
    assert not Contact.objects.exists()
