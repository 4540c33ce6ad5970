"""A sweep killed with SIGKILL loses nothing that should stay, and the next run finishes it.

Real worker, real Redis, real database: the worker sweeps in small batches with a
pause between them (tests/retention/worker_settings.py), the test kills it in the
middle, then runs the sweep again.
"""

from __future__ import annotations

import time

import pytest
from django.db.models import Sum

from retention.models import LegalHold, RetentionPolicy, RetentionStatistic, SweepRun
from retention.tasks import retention_sweep_task
from subjects.models import Contact, Interaction
from tests.conftest import wait_for

from .factories import LegalHoldFactory, OrganisationFactory, RetentionPolicyFactory
from .helpers import contact_last_seen, prospect

DUE = 40
LEASE = 2  # tests/retention/worker_settings.py


@pytest.fixture
def register(transactional_db):
    # transactional_db empties the tables the data migration filled: the policy is made here.
    RetentionPolicyFactory(code="contacts")
    RetentionPolicy.objects.filter(code="contacts").update(max_share=1)
    organisation = prospect()
    due = [contact_last_seen(4 * 365, organisation=organisation, interactions=2).pk for _ in range(DUE)]
    keep = [contact_last_seen(30, organisation=organisation).pk for _ in range(5)]
    customer = OrganisationFactory(is_customer=True)
    keep += [contact_last_seen(4 * 365, organisation=customer).pk for _ in range(3)]
    held = [contact_last_seen(4 * 365, organisation=organisation) for _ in range(3)]
    for contact in held:
        LegalHoldFactory(contact=contact, scope=LegalHold.Scope.CONTACT)
    keep += [c.pk for c in held]
    return {"due": due, "keep": keep}


def remaining(pks: list[int]) -> int:
    return Contact.objects.filter(pk__in=pks).count()


def assert_nothing_kept_and_nothing_lost(register) -> None:
    assert remaining(register["due"]) == 0
    assert remaining(register["keep"]) == len(register["keep"])
    # Every kept contact still has all of its interactions: nobody half-deleted.
    assert Interaction.objects.filter(contact_id__in=register["keep"]).count() == 5 * 2 + 3 * 2 + 3 * 2
    assert not Interaction.objects.filter(contact_id__in=register["due"]).exists()
    # Each removed contact was counted once: no batch repeated, none lost.
    counted = RetentionStatistic.objects.filter(model="subjects.contact").aggregate(n=Sum("count"))["n"]
    assert counted == DUE
    interactions = RetentionStatistic.objects.filter(model="subjects.interaction").aggregate(n=Sum("count"))[
        "n"
    ]
    assert interactions == DUE * 2


def run_again_until_finished(started_after: float) -> SweepRun:
    time.sleep(LEASE + 0.5)  # the killed run's lease runs out
    retention_sweep_task.delay(codes=["contacts"], trigger=SweepRun.Trigger.COMMAND)
    return wait_for(
        lambda: SweepRun.objects.filter(policy_code="contacts", status=SweepRun.Status.FINISHED).first(),
        timeout=30,
    )


def wait_until_mid_sweep(register) -> int:
    # Some batches done, and at least three still to go (each pauses 0.4 s): kill now.
    return wait_for(lambda: 12 <= (left := remaining(register["due"])) < DUE and left, timeout=30)


@pytest.mark.redis
def test_a_sweep_whose_pool_process_is_killed_loses_nothing_and_the_next_run_finishes(
    killable_worker, register
):
    killable_worker.start()
    retention_sweep_task.delay(codes=["contacts"], trigger=SweepRun.Trigger.SCHEDULE)
    left = wait_until_mid_sweep(register)

    killable_worker.kill_pool_process()

    # The worker itself lives on and replaces its pool process.
    wait_for(lambda: killable_worker.process.poll() is None and killable_worker.pool_pids(), timeout=20)
    # (The requeued task may already be at work again, once the killed run's lease has run out.)
    assert remaining(register["due"]) <= left
    assert remaining(register["keep"]) == len(register["keep"])

    # The requeued task (acks_late, reject_on_worker_lost) or the next run finishes the work.
    run_again_until_finished(time.monotonic())
    assert_nothing_kept_and_nothing_lost(register)
    # The killed run is on record as cut off; the runs together removed each due contact once.
    runs = list(SweepRun.objects.filter(policy_code="contacts").order_by("started_at", "pk").values())
    assert runs[0]["status"] == SweepRun.Status.INTERRUPTED, runs
    assert sum(r["deleted"] for r in runs) == DUE, runs


@pytest.mark.redis
def test_a_sweep_whose_whole_worker_is_killed_loses_nothing_and_the_next_run_finishes(
    killable_worker, register
):
    killable_worker.start()
    retention_sweep_task.delay(codes=["contacts"], trigger=SweepRun.Trigger.SCHEDULE)
    left = wait_until_mid_sweep(register)

    killable_worker.kill_whole_worker()

    assert 0 < remaining(register["due"]) <= left
    assert remaining(register["keep"]) == len(register["keep"])
    killable_worker.start()  # a fresh worker, as after a crash and restart
    run_again_until_finished(time.monotonic())
    assert_nothing_kept_and_nothing_lost(register)


@pytest.mark.redis
def test_a_redelivered_sweep_takes_over_its_own_interrupted_run_without_waiting_for_the_lease(
    killable_worker, register
):
    # Issue 8, found broken 7: with the default lease the redelivered task found the dead run's
    # lease, quit at INFO, and the night's sweep was skipped. Here the lease is ten minutes.
    killable_worker.env["TEST_RETENTION_LOCK_LEASE_SECONDS"] = "600"
    killable_worker.start()
    retention_sweep_task.delay(codes=["contacts"], trigger=SweepRun.Trigger.SCHEDULE)
    wait_until_mid_sweep(register)

    killable_worker.kill_pool_process()

    # No second task is sent: the same task, redelivered, finishes the work well within the lease.
    finished = wait_for(
        lambda: SweepRun.objects.filter(policy_code="contacts", status=SweepRun.Status.FINISHED).first(),
        timeout=45,
    )
    assert_nothing_kept_and_nothing_lost(register)
    runs = list(SweepRun.objects.filter(policy_code="contacts").order_by("started_at", "pk"))
    assert runs[0].status == SweepRun.Status.INTERRUPTED
    # The run knows its task; the take-over is the same task.
    assert finished.task_id and {r.task_id for r in runs} == {finished.task_id}
