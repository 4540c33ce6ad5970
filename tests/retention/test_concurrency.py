"""Two sweeps running at once on PostgreSQL never process a row twice (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from retention.models import RetentionPolicy, RetentionStatistic, SweepRun
from retention.services import policy_sweep
from subjects.models import Contact, Interaction
from tests.conftest import needs_postgres

from .factories import RetentionPolicyFactory
from .helpers import prospect

DUE = 120


@needs_postgres
def test_two_sweeps_at_once_never_take_the_same_row(transactional_db, settings):
    # A short pause between batches makes the two runs interleave batch by batch.
    settings.RETENTION_BATCH_PAUSE_SECONDS = 0.01
    policy = RetentionPolicyFactory(code="contacts")
    RetentionPolicy.objects.filter(pk=policy.pk).update(max_share=1)
    organisation = prospect()
    old = timezone.now() - timedelta(days=4 * 365)
    Contact.objects.bulk_create(
        Contact(name=f"Kontakt {i}", email=f"k{i}@firma.no", organisation=organisation, source_type="phone",
                last_interaction_at=old)
        for i in range(DUE)
    )  # fmt: skip
    keep = Contact.objects.create(
        name="Blir", email="blir@firma.no", organisation=organisation, source_type="phone",
        last_interaction_at=timezone.now(),
    )  # fmt: skip
    Interaction.objects.bulk_create(
        Interaction(contact=c, kind="call", occurred_at=old) for c in Contact.objects.exclude(pk=keep.pk)
    )
    start = threading.Barrier(2)
    runs: list[SweepRun] = []
    failures: list[BaseException] = []

    def sweeper() -> None:
        try:
            start.wait(timeout=10)
            runs.append(
                policy_sweep(
                    policy=RetentionPolicy.objects.get(pk=policy.pk), trigger=SweepRun.Trigger.COMMAND,
                    batch_size=5,
                )
            )  # fmt: skip
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures
    assert sorted(run.status for run in runs) == [SweepRun.Status.FINISHED] * 2
    # Each row went exactly once: the deletions and the statistics add up to the due rows.
    assert sum(run.deleted for run in runs) == DUE
    assert all(run.deleted > 0 for run in runs), "the two runs did not overlap"
    assert RetentionStatistic.objects.filter(model="subjects.contact").aggregate(n=Sum("count"))["n"] == DUE
    assert (
        RetentionStatistic.objects.filter(model="subjects.interaction").aggregate(n=Sum("count"))["n"] == DUE
    )
    assert list(Contact.objects.values_list("pk", flat=True)) == [keep.pk]
