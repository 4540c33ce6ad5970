"""A declaration that names a purpose the catalogue does not know is reported (issue 8, Structure)."""

from __future__ import annotations

import dataclasses

import pytest

from consent.models import Purpose
from core.checks import check_declared_purposes_exist
from core.registry import registry
from subjects.models import Contact

pytestmark = pytest.mark.django_db


def test_an_unknown_purpose_code_is_reported_and_a_known_one_is_not():
    declaration = registry.get(Contact)
    registry.unregister(Contact)
    registry.register(dataclasses.replace(declaration, purposes=("contract", "no_such_purpose")))
    try:
        found = [w for w in check_declared_purposes_exist(databases=["default"]) if w.obj is Contact]
    finally:
        registry.unregister(Contact)
        registry.register(declaration)
    assert Purpose.objects.filter(code="contract").exists()
    assert len(found) == 1 and "no_such_purpose" in found[0].msg and "contract," not in found[0].msg


def test_without_a_database_the_check_does_not_run():
    assert check_declared_purposes_exist(databases=None) == []
