"""Every purpose a declaration names is in the purpose catalogue (issue 8; personvern.W010).

The access report (Art. 15(1)(a)) and the records of processing (Art. 30(1)(b)) state a
declaration's purposes from the catalogue: one missing is a purpose nobody documented.
"""

from __future__ import annotations

import pytest
from django.core import checks

from consent.models import Purpose
from core.registry import registry

pytestmark = pytest.mark.django_db


def test_the_database_check_finds_no_purpose_missing_from_the_catalogue():
    messages = checks.run_checks(databases=["default"])
    assert [m.msg for m in messages if m.id == "personvern.W010"] == []


def test_the_check_still_names_a_purpose_that_is_missing():
    # The check can fail: take a named purpose out of the catalogue and it says so.
    Purpose.objects.filter(code="legal_claims").delete()
    messages = [m for m in checks.run_checks(databases=["default"]) if m.id == "personvern.W010"]
    assert [m.msg for m in messages] == [
        "retention.legalhold names purposes that are not in the purpose catalogue: legal_claims."
    ]


def test_every_added_purpose_is_documented_in_both_languages_with_its_basis_and_article():
    named = {code for declaration in registry.personal() for code in declaration.purposes}
    for purpose in Purpose.objects.filter(code__in=named):
        assert purpose.name_nb and purpose.name_en and purpose.legal_basis
        assert "art." in purpose.description_nb.lower() or purpose.code not in {
            "honour_rights", "handle_data_subject_request", "honour_erasure", "legal_claims",
        }  # fmt: skip
        assert purpose.description_en
