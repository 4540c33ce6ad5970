from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.audit import Actor
from core.errors import Conflict
from core.models import AuditEvent
from core.registry import Erasure, registry
from retention.models import LegalHold, RetentionPolicy
from retention.services import legal_hold_lift, legal_hold_place, policy_create, policy_update
from subjects.models import ApplicationDocument

from .factories import ContactFactory, LegalHoldFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def make_policy(**overrides) -> RetentionPolicy:
    values = {"code": "test-policy", "category": "contact", "period_days": 30, "reason": "why"}
    return policy_create(actor=ACTOR, **{**values, **overrides})


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_a_valid_policy_is_created_and_audited():
    policy = make_policy()
    assert policy.pk and policy.action == RetentionPolicy.Action.DELETE
    assert AuditEvent.objects.filter(action="retention_policy.create", target_id=str(policy.pk)).exists()


@pytest.mark.parametrize("period", [-1, 0])
def test_a_negative_or_zero_period_is_refused(period):
    with pytest.raises(ValidationError) as excinfo:
        make_policy(period_days=period)
    assert "period_days" in errors_of(excinfo)
    assert not RetentionPolicy.objects.filter(code="test-policy").exists()


def test_a_missing_period_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError) as excinfo:
        make_policy(period_days=None)
    assert errors_of(excinfo)["period_days"] == ["Give the retention period in days."]


def test_an_unknown_category_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        make_policy(category="no_such_category")
    message = errors_of(excinfo)["category"][0]
    assert "Unknown data category" in message and "contact" in message


def test_a_category_kept_on_purpose_cannot_get_a_policy():
    with pytest.raises(ValidationError) as excinfo:
        make_policy(category="suppression")
    assert "never swept" in errors_of(excinfo)["category"][0]


def test_an_anchor_that_is_not_a_date_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        make_policy(anchor="name")
    assert "anchor" in errors_of(excinfo)


def test_anonymising_is_refused_where_a_required_link_cannot_be_emptied():
    # A document cannot lose its application (NOT NULL), so a declaration that
    # would empty that link cannot back an anonymising policy.
    declaration = registry.get(ApplicationDocument)
    emptied = dataclasses.replace(
        declaration, erasure=Erasure.ANONYMISE, anonymise={"application": None, "file": "", "title": ""}
    )
    registry.unregister(ApplicationDocument)
    registry.register(emptied)
    try:
        with pytest.raises(ValidationError) as excinfo:
            make_policy(category="job_application", action=RetentionPolicy.Action.ANONYMISE)
    finally:
        registry.unregister(ApplicationDocument)
        registry.register(declaration)
    assert "application cannot be emptied" in errors_of(excinfo)["action"][0]


def test_a_policy_update_is_validated_too():
    policy = make_policy()
    with pytest.raises(ValidationError):
        policy_update(policy=policy, actor=ACTOR, changes={"period_days": -5})
    policy.refresh_from_db()
    assert policy.period_days == 30


def test_a_hold_without_a_reason_is_refused():
    contact = ContactFactory()
    with pytest.raises(ValidationError) as excinfo:
        legal_hold_place(
            actor=ACTOR, scope="contact", contact=contact, reason="   ", ends_on=timezone.localdate()
        )
    assert "reason" in errors_of(excinfo)
    assert not LegalHold.objects.exists()


def test_a_hold_needs_its_target():
    with pytest.raises(ValidationError) as excinfo:
        legal_hold_place(actor=ACTOR, scope="organisation", reason="Sak 1", ends_on=timezone.localdate())
    assert "organisation" in errors_of(excinfo)


def test_a_hold_on_an_unknown_category_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        legal_hold_place(
            actor=ACTOR, scope="category", category="nope", reason="Sak 1", ends_on=timezone.localdate()
        )
    assert "category" in errors_of(excinfo)


def test_a_hold_is_placed_audited_and_lifted_once():
    contact = ContactFactory()
    hold = legal_hold_place(
        actor=ACTOR, scope="contact", contact=contact, reason="Sak 2025-1", ends_on=timezone.localdate()
    )
    assert hold.is_active
    legal_hold_lift(hold=hold, actor=ACTOR)
    assert not hold.is_active
    with pytest.raises(Conflict):
        legal_hold_lift(hold=hold, actor=ACTOR)
    actions = list(AuditEvent.objects.filter(target_id=str(hold.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["legal_hold.lift", "legal_hold.place"]


def test_an_active_hold_keeps_its_contact_from_any_deletion():
    from django.db.models import ProtectedError

    hold = LegalHoldFactory()
    with pytest.raises(ProtectedError):
        hold.contact.delete()


def test_a_hold_ends_at_the_end_of_its_last_day():
    import time_machine

    hold = LegalHoldFactory(ends_on=timezone.localdate() + timedelta(days=1))
    assert hold.is_active
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert not hold.is_active
        assert not LegalHold.objects.active().exists()


def test_the_refusal_reads_in_bokmal_for_norwegian_staff():
    from django.utils import translation

    with translation.override("nb"), pytest.raises(ValidationError) as excinfo:
        make_policy(period_days=None)
    with translation.override("nb"):
        assert errors_of(excinfo)["period_days"] == ["Oppgi lagringstiden i dager."]


def test_in_a_mixed_category_only_the_models_not_kept_on_purpose_are_swept():
    from core.registry import Erasure, registry
    from retention.selectors import policy_declarations

    mixed = [
        c for c in registry.categories() if {d.erasure for d in registry.by_category(c)} > {Erasure.KEEP}
    ]
    if not mixed:
        pytest.skip("no category mixes kept and swept models in this register")
    policy = make_policy(category=mixed[0], anchor="", fallback_anchor="")
    swept = policy_declarations(policy)
    assert swept and all(d.erasure is not Erasure.KEEP for d in swept)
