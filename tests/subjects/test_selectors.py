"""The register's reads that other apps call on every request."""

from __future__ import annotations

import pytest

from subjects.selectors import contact_by_email
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_lookup_by_address_finds_the_contact_in_any_case_and_spacing():
    kari = ContactFactory(email="kari@firma.no")
    found = contact_by_email(email="  Kari@FIRMA.no ")
    assert found is not None and found.pk == kari.pk
    assert found.email == "kari@firma.no"


def test_the_lookup_by_address_knows_no_one_for_an_unknown_address():
    ContactFactory(email="kari@firma.no")
    assert contact_by_email(email="ola@firma.no") is None
