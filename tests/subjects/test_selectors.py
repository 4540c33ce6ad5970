"""The register's reads that other apps call on every request."""

from __future__ import annotations

import pytest

from subjects.selectors import contact_by_email, contact_by_email_id_only
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_id_only_lookup_finds_the_same_contact_as_the_full_one_in_any_case():
    kari = ContactFactory(email="kari@firma.no")
    found = contact_by_email_id_only(email="  Kari@FIRMA.no ")
    assert found is not None and found.pk == kari.pk == contact_by_email(email="Kari@FIRMA.no").pk
    # The other fields load when first read.
    assert found.email == "kari@firma.no"


def test_the_id_only_lookup_knows_no_one_for_an_unknown_address():
    ContactFactory(email="kari@firma.no")
    assert contact_by_email_id_only(email="ola@firma.no") is None
