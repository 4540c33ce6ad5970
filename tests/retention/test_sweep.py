from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from retention.models import LegalHold, RetentionPolicy, RetentionStatistic, SweepRun
from retention.services import SweepBusy, retention_sweep, sweep_lock_claim
from subjects.models import ApplicationDocument, Contact, Interaction, JobApplication, WebVisit

from .factories import (
    ContactFactory,
    InteractionFactory,
    JobApplicationFactory,
    LegalHoldFactory,
    OrganisationFactory,
    RetentionPolicyFactory,
    WebVisitFactory,
)
from .helpers import (
    alive,
    contact_last_seen,
    interactions_of,
    open_requests,
    prospect,
    refuse_deleting_contact,
)

pytestmark = pytest.mark.django_db

YEARS_4 = 4 * 365
YEARS_2 = 2 * 365


def sweep(code: str = "contacts", **kwargs) -> SweepRun:
    outcome = retention_sweep(trigger=SweepRun.Trigger.COMMAND, codes=[code], **kwargs)
    assert len(outcome.runs) == 1
    return outcome.runs[0]


def test_default_policies_exist_without_demo_data():
    codes = set(RetentionPolicy.objects.values_list("code", flat=True))
    assert {"contacts", "job-applications", "web-visits"} <= codes


def test_contacts_policy_removes_exactly_the_contacts_due_and_nothing_else():
    # Many prospects in the register, so the share due stays under the safety valve.
    organisation = prospect()
    recent = [contact_last_seen(d, organisation=organisation) for d in (1, 300, YEARS_2, 3 * 365 - 2)]
    old = [contact_last_seen(d, organisation=organisation) for d in (3 * 365 + 2, YEARS_4)]

    run = sweep()

    assert run.status == SweepRun.Status.FINISHED
    assert alive(*recent, *old) == {c.pk for c in recent}
    assert run.deleted == 2
    # A contact goes with its interactions: none is left behind without its person.
    assert not Interaction.objects.filter(contact_id__in=[c.pk for c in old]).exists()
    assert all(interactions_of(c) == 2 for c in recent)


def test_a_contact_never_interacted_with_is_measured_from_its_creation():
    organisation = prospect()
    keep = [contact_last_seen(10, organisation=organisation) for _ in range(3)]
    fresh = contact_last_seen(None, organisation=organisation)
    stale = contact_last_seen(None, organisation=organisation)
    Contact.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=YEARS_4))

    sweep()

    assert alive(fresh, stale, *keep) == {fresh.pk, *(c.pk for c in keep)}


def test_held_contacts_organisations_and_open_requests_are_never_swept():
    organisation = prospect()
    held_org = prospect()
    filler = [contact_last_seen(5, organisation=organisation) for _ in range(12)]
    held = contact_last_seen(YEARS_4, organisation=organisation)
    LegalHoldFactory(contact=held)
    in_held_org = contact_last_seen(YEARS_4, organisation=held_org)
    LegalHoldFactory(scope=LegalHold.Scope.ORGANISATION, contact=None, organisation=held_org)
    asking = contact_last_seen(YEARS_4, organisation=organisation)
    lifted = contact_last_seen(YEARS_4, organisation=organisation)
    LegalHoldFactory(contact=lifted, lifted_at=timezone.now())
    expired = contact_last_seen(YEARS_4, organisation=organisation)
    LegalHoldFactory(contact=expired, starts_on=timezone.localdate() - timedelta(days=90),
                     ends_on=timezone.localdate() - timedelta(days=1))  # fmt: skip

    with open_requests(asking.email):
        run = sweep()

    assert alive(held, in_held_org, asking, lifted, expired) == {held.pk, in_held_org.pk, asking.pk}
    assert run.deleted == 2
    assert len(alive(*filler)) == 12


def test_contacts_of_an_active_customer_are_kept_until_the_contract_ends():
    today = timezone.localdate()
    others = [contact_last_seen(5) for _ in range(10)]
    customer = OrganisationFactory(is_customer=True)
    running = OrganisationFactory(is_customer=True, customer_contract_ends=today + timedelta(days=10))
    ended = OrganisationFactory(is_customer=True, customer_contract_ends=today - timedelta(days=1))
    kept = [contact_last_seen(YEARS_4, organisation=o) for o in (customer, running)]
    gone = contact_last_seen(YEARS_4, organisation=ended)

    sweep()

    assert alive(*kept, gone) == {c.pk for c in kept}
    assert len(alive(*others)) == 10


def test_statistics_survive_the_deletion():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(30)]
    # Five people: a cell of fewer would single someone out and is rolled up (see below).
    old = [contact_last_seen(YEARS_4, organisation=organisation, interactions=3) for _ in range(5)]
    month = timezone.localtime(old[0].last_interaction_at).date().replace(day=1)

    sweep()

    assert not alive(*old)
    stats = RetentionStatistic.objects.filter(organisation_ref=organisation.pk)
    contacts = stats.filter(model="subjects.contact")
    assert contacts.aggregate(n=Sum("count"))["n"] == 5
    assert contacts.get().month == month and contacts.get().relationship == "prospect"
    interactions = stats.filter(model="subjects.interaction")
    assert interactions.aggregate(n=Sum("count"))["n"] == 15
    assert set(interactions.values_list("kind", flat=True)) == {"call"}
    # Counts only: nothing in the statistics names the person.
    row = contacts.values().get()
    assert not {str(v) for v in row.values()} & {old[0].name, old[0].email, old[0].phone}


def test_statistics_add_up_over_runs():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(10)]
    first = contact_last_seen(YEARS_4, organisation=organisation, interactions=1)
    sweep()
    second = contact_last_seen(YEARS_4, organisation=organisation, interactions=1)
    Contact.objects.filter(pk=second.pk).update(last_interaction_at=first.last_interaction_at)
    sweep()
    assert not alive(first, second)
    # Two people are too few for a cell of their own: rolled up, and still counted once each.
    cells = RetentionStatistic.objects.filter(model="subjects.contact")
    assert cells.aggregate(n=Sum("count"))["n"] == 2
    assert not cells.filter(organisation_ref=organisation.pk).exists()


def test_web_visits_go_after_90_days_whoever_made_them():
    customer_contact = ContactFactory(organisation=OrganisationFactory(is_customer=True))
    now = timezone.now()
    recent = [WebVisitFactory(visited_at=now - timedelta(days=d)) for d in (0, 30, 89)]
    old = WebVisitFactory(visited_at=now - timedelta(days=91), contact=customer_contact)

    run = sweep("web-visits")

    assert run.deleted == 1
    assert set(WebVisit.objects.values_list("pk", flat=True)) == {v.pk for v in recent}
    assert not WebVisit.objects.filter(pk=old.pk).exists()


def test_job_applications_go_six_months_after_the_decision_with_their_files(
    django_capture_on_commit_callbacks,
):
    from django.core.files.base import ContentFile

    now = timezone.now()
    keep = [
        JobApplicationFactory(status="rejected", decided_at=now - timedelta(days=100)),
        JobApplicationFactory(status="received", submitted_at=now - timedelta(days=900)),
        JobApplicationFactory(status="hired", decided_at=now - timedelta(days=170)),
    ]
    due = JobApplicationFactory(status="rejected", decided_at=now - timedelta(days=200))
    document = ApplicationDocument(application=due, title="CV")
    document.file.save("cv.pdf", ContentFile(b"%PDF-1.4 cv"), save=True)
    path = document.file.path
    # The one document is all of its model: open the valve for this test.
    RetentionPolicy.objects.filter(code="job-applications").update(max_share="1")

    with django_capture_on_commit_callbacks(execute=True):
        run = sweep("job-applications")

    assert set(JobApplication.objects.values_list("pk", flat=True)) == {a.pk for a in keep}
    assert not ApplicationDocument.objects.filter(pk=document.pk).exists()
    import os

    assert not os.path.exists(path)  # the stored CV is removed from storage, not only its row
    assert run.deleted == 2  # the document, then the application


def test_a_category_on_hold_is_not_swept():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(5)]
    old = contact_last_seen(YEARS_4, organisation=organisation)
    LegalHoldFactory(scope=LegalHold.Scope.CATEGORY, contact=None, category="contact")

    run = sweep()

    assert run.status == SweepRun.Status.HELD
    assert alive(old)


def test_the_dry_run_changes_nothing():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(5)]
    old = contact_last_seen(YEARS_4, organisation=organisation)
    runs_before = SweepRun.objects.count()

    outcome = retention_sweep(codes=["contacts"], dry_run=True)

    line = next(line for line in outcome.preview if line.declaration.label == "subjects.contact")
    assert line.due == 1 and line.total == 6
    assert line.sample == [{"pk": old.pk, "label": str(old)}]
    assert alive(old)
    assert SweepRun.objects.count() == runs_before
    assert not RetentionStatistic.objects.exists()


def test_the_safety_valve_stops_a_run_and_alerts_the_privacy_officer(settings):
    settings.PRIVACY_OFFICER_EMAIL = "dpo@example.no"
    organisation = prospect()
    keep = [contact_last_seen(5, organisation=organisation) for _ in range(2)]
    old = [contact_last_seen(YEARS_4, organisation=organisation) for _ in range(3)]
    RetentionPolicy.objects.filter(code="contacts").update(max_share="0.5")

    run = sweep()

    assert run.status == SweepRun.Status.STOPPED_BY_VALVE
    assert (run.due, run.total) == (3, 5)
    assert len(alive(*keep, *old)) == 5  # nothing removed
    assert [m.to for m in mail.outbox] == [["dpo@example.no"]]
    assert "contacts" in mail.outbox[0].subject
    assert old[0].email not in mail.outbox[0].body


def test_a_failing_row_is_recorded_and_the_rest_go_on_without_half_deleting_anyone():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(10)]
    old = [contact_last_seen(YEARS_4, organisation=organisation, interactions=3) for _ in range(4)]
    refuse_deleting_contact(old[1].pk)

    run = sweep(batch_size=2)

    assert run.status == SweepRun.Status.FINISHED
    assert alive(*old) == {old[1].pk}
    # The refused contact keeps every interaction: nothing of it went.
    assert interactions_of(old[1]) == 3
    assert run.deleted == 3 and run.error_count == 1
    assert run.errors == [{"model": "subjects.contact", "id": old[1].pk, "error": run.errors[0]["error"]}]
    # The record holds ids and error kinds only.
    assert old[1].email not in str(run.errors)


def test_anonymising_contacts_keeps_no_identifying_field_and_keeps_the_counts():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(6)]
    old = contact_last_seen(YEARS_4, organisation=organisation, interactions=2)
    WebVisitFactory(contact=old)
    policy = RetentionPolicyFactory(
        code="contacts-anon", action=RetentionPolicy.Action.ANONYMISE, keep_for_statistics=["organisation"]
    )
    RetentionPolicy.objects.exclude(pk=policy.pk).update(enabled=False)
    before = Contact.objects.values().get(pk=old.pk)

    run = sweep("contacts-anon")

    assert run.anonymised == 1 and run.deleted == 0
    after = Contact.objects.values().get(pk=old.pk)
    for name in ("name", "email", "phone", "job_title", "source_name"):
        assert after[name] != before[name] or before[name] == ""
        assert before[name] == "" or before[name] not in str(after.values())
    assert after["email"].endswith("@anonymised.invalid")
    assert after["organisation_id"] == organisation.pk  # what statistics need
    assert timezone.localtime(after["last_interaction_at"]).day in (1, 31, 30, 28, 29)
    # Interactions stay, counted per organisation, month and kind, without what identified anyone.
    kept = Interaction.objects.filter(contact_id=old.pk)
    assert kept.count() == 2
    assert set(kept.values_list("summary", "staff_member")) == {("", None)}
    assert not WebVisit.objects.filter(contact_id=old.pk).exists()
    # A second run finds nothing more to do: no repetition.
    assert sweep("contacts-anon").anonymised == 0


def test_overlapping_runs_do_not_sweep_at_once():
    assert sweep_lock_claim(holder="someone-else")
    with pytest.raises(SweepBusy):
        retention_sweep(codes=["contacts"])


def test_an_expired_lock_is_taken_over(settings):
    import time_machine

    assert sweep_lock_claim(holder="killed-worker")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.RETENTION_LOCK_LEASE_SECONDS + 1)):
        assert sweep_lock_claim(holder="next-run")


def test_an_unknown_policy_code_is_refused():
    from core.errors import NotFound

    with pytest.raises(NotFound):
        retention_sweep(codes=["no-such-policy"])


def test_every_run_is_recorded_without_personal_data():
    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(5)]
    old = contact_last_seen(YEARS_4, organisation=organisation)
    run = sweep()
    record = str(SweepRun.objects.values().get(pk=run.pk))
    assert old.email not in record and old.name not in record
    assert run.finished_at is not None and run.cutoff is not None and run.deleted == 1


def test_the_sweep_is_recorded_in_the_audit_trail():
    from core.models import AuditEvent

    run = sweep()
    assert AuditEvent.objects.filter(action="retention.sweep", target_id=str(run.pk)).exists()


@pytest.mark.parametrize("days", [YEARS_4])
def test_interactions_of_a_kept_contact_are_not_touched(days):
    organisation = prospect()
    kept = contact_last_seen(5, organisation=organisation)
    InteractionFactory(contact=kept, occurred_at=timezone.now() - timedelta(days=days))
    sweep()
    assert interactions_of(kept) == 3


def test_a_contact_goes_with_its_consent_ledger_through_the_ledgers_own_erasure():
    # On PostgreSQL the ledger's trigger refuses any other delete (consent app).
    from consent.models import ConsentConfirmation, ConsentEvent
    from consent.services import consent_grant
    from core.audit import Actor

    organisation = prospect()
    [contact_last_seen(5, organisation=organisation) for _ in range(6)]
    old = contact_last_seen(YEARS_4, organisation=organisation)
    consent_grant(
        contact=old, purpose_code="marketing_products", channel="portal", actor=Actor.subject("192.0.2.7"),
        wording="Ja, send meg nyheter.", ip_address="192.0.2.7", user_agent="Mozilla/5.0", reference="test",
    )  # fmt: skip
    # A (legacy) double opt-in confirmation row, linked without a reverse name. Web sign-ups
    # are kept apart from contacts now (consent.PendingSignup); older rows may remain.
    from consent.models import Purpose

    ConsentConfirmation.objects.create(
        contact=old, purpose=Purpose.objects.get(code="marketing_products"), token_digest="0" * 64,
        expires_at=timezone.now(),
    )  # fmt: skip
    assert ConsentEvent.objects.filter(contact_id=old.pk).exists()
    assert ConsentConfirmation.objects.filter(contact_id=old.pk).exists()

    run = sweep()

    assert run.deleted == 1 and run.error_count == 0
    assert not alive(old)
    assert not ConsentEvent.objects.filter(contact_id=old.pk).exists()
    # Nothing left pointing at the deleted contact: the (deferred) foreign keys hold at commit.
    connection.check_constraints()
    assert not ConsentConfirmation.objects.filter(contact_id=old.pk).exists()
