"""The preview a privacy officer reads: period, anchor, cut-off, what goes, what is spared and why."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from retention.models import RetentionPolicy

from .factories import LegalHoldFactory
from .helpers import alive, contact_last_seen, prospect

pytestmark = pytest.mark.django_db

YEARS_4 = 4 * 365


def preview(language: str) -> str:
    out = StringIO()
    call_command("retention_preview", "--policy", "contacts", "--language", language, stdout=out)
    return out.getvalue()


@pytest.fixture
def register():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(10)]
    due = [contact_last_seen(YEARS_4, organisation=organisation, interactions=2) for _ in range(3)]
    held = contact_last_seen(YEARS_4, organisation=organisation)
    LegalHoldFactory(contact=held)
    return due, held


def test_the_preview_says_what_goes_what_is_spared_and_why_in_english(register):
    due, held = register

    text = preview("en")

    policy = RetentionPolicy.objects.get(code="contacts")
    assert f"after {policy.period_days} days" in text and "cut-off" in text
    assert "4 rows are past the cut-off, 3 would go" in text
    assert "1 spared: Kept under a legal hold" in text
    assert "With them, by cascade:" in text and "6 would be anonymised" in text
    assert "subjects." not in text
    # Nothing changed.
    assert alive(*due, held) == {c.pk for c in (*due, held)}


def test_the_preview_speaks_bokmal_when_asked(register):
    text = preview("nb")

    assert "skjæringsdato" in text and "ville blitt slettet" in text
    assert "rettslig sperre" in text
