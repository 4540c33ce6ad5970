"""Issue 8, found broken: what the sweep must never remove, and how it anonymises.

Each test here failed on the code before the one removal engine (core.removal).
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from consent.models import InformationNotice, PrivacyNotice
from requests_dsar.models import DataSubjectRequest, ProcessingRestriction
from retention.models import LegalHold, RetentionPolicy, RetentionStatistic, SweepRun
from retention.services import retention_sweep
from subjects.models import Interaction, WebVisit
from tests.requests_dsar.factories import RequestFactory

from .factories import LegalHoldFactory, RetentionPolicyFactory, WebVisitFactory
from .helpers import alive, contact_last_seen, prospect

pytestmark = pytest.mark.django_db

YEARS_4 = 4 * 365


def sweep(code: str = "contacts") -> SweepRun:
    (run,) = retention_sweep(trigger=SweepRun.Trigger.COMMAND, codes=[code]).runs
    return run


def register(*, filler: int = 12):
    organisation = prospect()
    others = [contact_last_seen(5, organisation=organisation) for _ in range(filler)]
    return organisation, others


@pytest.mark.parametrize("category", ["web_visit", "interaction"])
def test_a_category_hold_stops_the_cascade_from_a_swept_contact(category):
    organisation, others = register()
    old = contact_last_seen(YEARS_4, organisation=organisation, interactions=2)
    WebVisitFactory(contact=old, visited_at=timezone.now() - timedelta(days=YEARS_4))
    LegalHoldFactory(scope=LegalHold.Scope.CATEGORY, contact=None, category=category)

    run = sweep()

    # The held rows stay, and so does the contact they belong to (erasure does the same).
    assert WebVisit.objects.filter(contact_id=old.pk).count() == 1
    assert Interaction.objects.filter(contact_id=old.pk).count() == 2
    assert alive(old) == {old.pk}
    assert run.status == SweepRun.Status.FINISHED
    assert len(alive(*others)) == len(others)


def test_a_lifted_or_ended_hold_stays_when_its_contact_is_swept():
    organisation, _others = register()
    lifted = contact_last_seen(YEARS_4, organisation=organisation)
    ended = contact_last_seen(YEARS_4, organisation=organisation)
    lifted_hold = LegalHoldFactory(contact=lifted, lifted_at=timezone.now())
    ended_hold = LegalHoldFactory(
        contact=ended,
        starts_on=timezone.localdate() - timedelta(days=90),
        ends_on=timezone.localdate() - timedelta(days=1),
    )

    run = sweep()

    assert alive(lifted, ended) == set()
    assert run.deleted == 2
    # Records of a legal duty: lifted, never deleted; the link to the removed contact is cut.
    holds = {h.pk: h for h in LegalHold.objects.all()}
    assert set(holds) == {lifted_hold.pk, ended_hold.pk}
    assert {h.contact_id for h in holds.values()} == {None}
    assert holds[lifted_hold.pk].reason == lifted_hold.reason


def test_an_open_request_protects_a_contact_staff_linked_to_it_under_another_address():
    organisation, _others = register()
    linked = contact_last_seen(YEARS_4, organisation=organisation)
    request = RequestFactory(email="annen.adresse@privat.no", status=DataSubjectRequest.Status.IN_PROGRESS)
    request.contacts.add(linked)

    sweep()

    assert alive(linked) == {linked.pk}


def test_an_objection_being_assessed_protects_the_contact():
    organisation, _others = register()
    objecting = contact_last_seen(YEARS_4, organisation=organisation)
    ProcessingRestriction.objects.create(email=objecting.email, kind=ProcessingRestriction.Kind.OBJECTION)

    sweep()

    assert alive(objecting) == {objecting.pk}


def _anonymising_policy() -> RetentionPolicy:
    policy = RetentionPolicyFactory(
        code="contacts-anon", action=RetentionPolicy.Action.ANONYMISE, keep_for_statistics=["organisation"]
    )
    RetentionPolicy.objects.exclude(pk=policy.pk).update(enabled=False)
    return policy


def test_anonymisation_removes_one_to_one_children_and_what_finds_the_person_again():
    organisation, _others = register(filler=8)
    old = contact_last_seen(YEARS_4, organisation=organisation, interactions=2)
    InformationNotice.objects.create(contact=old, notice=PrivacyNotice.objects.first(), language="nb")
    closed = RequestFactory(
        email=old.email, name=old.name, status=DataSubjectRequest.Status.COMPLETED, closed_at=timezone.now()
    )
    closed.contacts.add(old)
    _anonymising_policy()

    run = sweep("contacts-anon")

    assert run.anonymised == 1
    # The Art. 14 notice (one-to-one, hidden relation) goes with the person.
    assert not InformationNotice.objects.filter(contact_id=old.pk).exists()
    # The request keeps the fact that we answered, not who asked.
    closed.refresh_from_db()
    assert closed.email != old.email and closed.name == ""
    assert not closed.contacts.exists()
    assert closed.status == DataSubjectRequest.Status.COMPLETED


def test_anonymisation_coarsens_every_timestamp_and_counts_the_rows_in_the_statistics():
    organisation, _others = register(filler=8)
    old = contact_last_seen(YEARS_4, organisation=organisation, interactions=2)
    _anonymising_policy()

    sweep("contacts-anon")

    old.refresh_from_db()
    times = [old.created_at, old.collected_at, old.last_interaction_at]
    times += list(Interaction.objects.filter(contact_id=old.pk).values_list("occurred_at", flat=True))
    for value in times:
        # The first instant of a month (of the site's time zone, or UTC on SQLite).
        starts = {
            (t.day, t.hour, t.minute, t.second, t.microsecond)
            for t in (timezone.localtime(value), value.astimezone(UTC))
        }
        assert (1, 0, 0, 0, 0) in starts, value
    counted = RetentionStatistic.objects.filter(model="subjects.contact")
    assert sum(counted.values_list("count", flat=True)) == 1


def test_a_sweep_that_cannot_start_is_logged_as_a_warning_and_recorded(caplog):
    import logging

    from retention.services import sweep_lock_claim
    from retention.tasks import retention_sweep_task

    RetentionPolicyFactory(code="contacts")
    assert sweep_lock_claim(holder="another-task")

    with caplog.at_level(logging.INFO, logger="retention.tasks"):
        retention_sweep_task.apply(kwargs={"codes": ["contacts"]})

    assert any(r.levelno == logging.WARNING and "did not start" in r.getMessage() for r in caplog.records)
    skipped = SweepRun.objects.get(policy_code="contacts")
    assert skipped.status == SweepRun.Status.SKIPPED
    assert skipped.task_id


def test_statistics_cells_of_fewer_than_five_people_are_rolled_up():
    # Issue 8, found broken 6: one contact per organisation and month made cells of one person.
    from django.db.models import Sum

    for _ in range(20):
        contact_last_seen(5, organisation=prospect())
    gone = [contact_last_seen(YEARS_4, organisation=prospect(), interactions=1) for _ in range(7)]

    sweep()

    assert alive(*gone) == set()
    cells = RetentionStatistic.objects.filter(model="subjects.contact")
    assert cells.aggregate(n=Sum("count"))["n"] == 7
    # No cell names an organisation with fewer than five people in it.
    assert not cells.filter(count__lt=5).exclude(organisation_ref=0).exists()
    # Only a coarsest cell (a year, no organisation, relationship or kind) may count fewer.
    small = cells.filter(count__lt=5).values_list("period", "organisation_ref", "relationship", "kind")
    assert set(small) <= {("year", 0, "", "")}
