"""Purposes and legitimate-interest assessments (Art. 5(1)(b), 6(1)(f))."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict

from .. import selectors
from ..models import (
    LegalBasis,
    LegitimateInterestAssessment,
    Purpose,
)
from .common import _save
from .decisions import decisions_refresh


def _purpose_gate(purpose: Purpose) -> None:
    if (
        purpose.is_active
        and purpose.legal_basis == LegalBasis.LEGITIMATE_INTEREST
        and (purpose.pk is None or not selectors.purpose_has_approved_assessment(purpose=purpose))
    ):
        # Art. 6(1)(f) and the policy (Vår hjemmel): legitimate interest only after
        # a documented balancing of the person's interests.
        raise Conflict(
            _(
                "A purpose on legitimate interest cannot be switched on "
                "without an approved, current assessment."
            )
        )


def purpose_create(*, actor: Actor, **values: Any) -> Purpose:
    purpose = Purpose(**values)
    _purpose_gate(purpose)
    with transaction.atomic():
        _save(purpose)
        audit_record(actor=actor, action="purpose.create", target=purpose, fields=values)
        decisions_refresh(purpose_ids=[purpose.pk])
    return purpose


def purpose_update(*, purpose: Purpose, actor: Actor, changes: dict[str, Any]) -> Purpose:
    """Change a purpose. The rules compare with the row as stored, read afresh and locked, so a
    door that hands in an instance it has already changed (the admin's form) cannot slip past."""
    with transaction.atomic():
        stored = Purpose.objects.select_for_update().get(pk=purpose.pk)
        if "code" in changes and changes["code"] != stored.code and stored.consent_events.exists():
            # Art. 7(1): the ledger's events name the purpose; renaming it would rewrite the evidence.
            raise Conflict(_("The code of a purpose with recorded consents cannot change."))
        for name, value in changes.items():
            setattr(stored, name, value)
        _purpose_gate(stored)
        _save(stored)
        audit_record(actor=actor, action="purpose.update", target=stored, fields=changes)
        decisions_refresh(purpose_ids=[stored.pk])
    return stored


def assessment_record(*, actor: Actor, **values: Any) -> LegitimateInterestAssessment:
    """Record a balancing assessment; a rejected one switches the purpose off."""
    assessment = LegitimateInterestAssessment(**values)
    purpose = assessment.purpose
    if purpose.legal_basis != LegalBasis.LEGITIMATE_INTEREST:
        raise Conflict(_("Only a purpose on legitimate interest needs a balancing assessment."))
    with transaction.atomic():
        _save(assessment)
        if assessment.outcome == LegitimateInterestAssessment.Outcome.REJECTED and purpose.is_active:
            Purpose.objects.filter(pk=purpose.pk).update(is_active=False)
        audit_record(actor=actor, action="assessment.record", target=assessment, fields=values)
        decisions_refresh(purpose_ids=[purpose.pk])
    return assessment


def assessment_update(
    *, assessment: LegitimateInterestAssessment, actor: Actor, changes: dict[str, Any]
) -> LegitimateInterestAssessment:
    with transaction.atomic():
        stored = LegitimateInterestAssessment.objects.select_for_update().get(pk=assessment.pk)
        for name, value in changes.items():
            setattr(stored, name, value)
        _save(stored)
        if stored.outcome == LegitimateInterestAssessment.Outcome.REJECTED:
            Purpose.objects.filter(pk=stored.purpose_id).update(is_active=False)
        audit_record(actor=actor, action="assessment.update", target=stored, fields=changes)
        decisions_refresh(purpose_ids=[stored.purpose_id])
    return stored
