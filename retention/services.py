"""Writes: policies, legal holds, and the sweep that enforces them.

The sweep (``retention_sweep``) takes a lease on a lock row, then for each
enabled policy: checks the safety valve, and removes what is due in batches.
Each batch is one transaction that claims its rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), records the statistics, removes the rows and adds to the run's
counters, so a run stopped at any moment has lost nothing and repeats nothing:
the next run finds exactly what is still due.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.deletion import CASCADE, get_candidate_relations_to_delete
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth, TruncYear
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict, NotFound
from core.mail import send_email
from core.registry import PersonalData, registry
from core.removal import Action, Door, Target, removal_execute
from subjects.models import Contact, Organisation

from .errors import LockLost, SweepBusy
from .models import LegalHold, RetentionPolicy, RetentionStatistic, SweepLock, SweepRun
from .selectors import (
    anchor_expression,
    category_is_held,
    path_to_model,
    policy_declarations,
    policy_due,
    policy_plan,
    retention_preview,
    valve_share,
)

logger = logging.getLogger(__name__)

LOCK_NAME = "retention-sweep"
MAX_RECORDED_ERRORS = 100


# Policies and holds -------------------------------------------------------


def _save(instance: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    instance.full_clean()
    instance.save(update_fields=list(update_fields) if update_fields is not None else None)


def policy_create(*, actor: Actor, **values: Any) -> RetentionPolicy:
    policy = RetentionPolicy(**values)
    with transaction.atomic():
        _save(policy)
        audit_record(actor=actor, action="retention_policy.create", target=policy, fields=values)
    return policy


def policy_update(*, policy: RetentionPolicy, actor: Actor, changes: dict[str, Any]) -> RetentionPolicy:
    for name, value in changes.items():
        setattr(policy, name, value)
    with transaction.atomic():
        _save(policy, update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="retention_policy.update", target=policy, fields=changes)
    return policy


def legal_hold_place(
    *,
    actor: Actor,
    scope: str,
    reason: str,
    ends_on: date,
    contact: Contact | None = None,
    organisation: Organisation | None = None,
    category: str = "",
    starts_on: date | None = None,
    placed_by: AbstractBaseUser | None = None,
) -> LegalHold:
    hold = LegalHold(
        scope=scope,
        reason=(reason or "").strip(),
        ends_on=ends_on,
        contact=contact,
        organisation=organisation,
        category=category or "",
        starts_on=starts_on or timezone.localdate(),
        placed_by=placed_by,
    )
    with transaction.atomic():
        _save(hold)
        audit_record(
            actor=actor, action="legal_hold.place", target=hold, fields=["scope", "reason", "ends_on"]
        )
    return hold


def legal_hold_update(*, hold: LegalHold, actor: Actor, changes: dict[str, Any]) -> LegalHold:
    for name, value in changes.items():
        setattr(hold, name, value)
    with transaction.atomic():
        _save(hold, update_fields=list(changes))
        audit_record(actor=actor, action="legal_hold.update", target=hold, fields=changes)
    return hold


def legal_hold_lift(*, hold: LegalHold, actor: Actor) -> LegalHold:
    with transaction.atomic():
        # Conditional UPDATE: lifting twice records one event.
        if not LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(lifted_at=timezone.now()):
            raise Conflict(_("This hold has already been lifted."))
        hold.refresh_from_db(fields=["lifted_at"])
        audit_record(actor=actor, action="legal_hold.lift", target=hold, fields=["lifted_at"])
    return hold


# The lock -----------------------------------------------------------------


def sweep_lock_claim(*, holder: str, lease_seconds: int | None = None) -> bool:
    """Take the lease if nobody holds it, it has expired, or ``holder`` holds it already.

    One conditional UPDATE. The holder is the Celery task's id when a task runs
    the sweep: a task redelivered after its worker was killed holds the lock
    under its own id and takes its interrupted run over at once, instead of
    waiting out the lease (and skipping the night's sweep).
    """
    lease = timedelta(seconds=lease_seconds or settings.RETENTION_LOCK_LEASE_SECONDS)
    now = timezone.now()
    SweepLock.objects.get_or_create(name=LOCK_NAME)
    claimed = (
        SweepLock.objects.filter(name=LOCK_NAME)
        .filter(Q(holder="") | Q(holder=holder) | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + lease)
    )
    return claimed == 1


def sweep_lock_renew(*, holder: str) -> None:
    lease = timedelta(seconds=settings.RETENTION_LOCK_LEASE_SECONDS)
    if not SweepLock.objects.filter(name=LOCK_NAME, holder=holder).update(expires_at=timezone.now() + lease):
        raise LockLost(_("The sweep lost its lock to another run and stopped."))


def sweep_lock_release(*, holder: str) -> None:
    SweepLock.objects.filter(name=LOCK_NAME, holder=holder).update(holder="", expires_at=None)


# Statistics ---------------------------------------------------------------

RELATIONSHIP = (
    ("is_customer", "customer"),
    ("is_partner", "partner"),
    ("is_supplier", "supplier"),
    ("is_prospect", "prospect"),
)


def _statistics_queryset(
    *, category: str, label: str, base: type[models.Model], rows: Q, month: Any, via: str = "", kind: bool
) -> models.QuerySet:
    """Counts of the batch grouped by month, organisation, relationship and kind.

    ``via`` is the reverse relation from ``base`` (the swept model) to the
    model counted (a contact's ``interactions``): the query starts from the
    batch's own rows, found by primary key, so it never scans the whole table.
    """
    prefix = f"{via}__" if via else ""
    organisation = path_to_model(base, Organisation)
    if organisation is None:
        org_ref: Any = Value(0)
        relationship: Any = Value("")
    else:
        org_prefix = f"{organisation}__" if organisation else ""
        org_ref = Coalesce(F(f"{org_prefix}pk"), Value(0))
        relationship = Case(
            *[When(**{f"{org_prefix}{flag}": True}, then=Value(label)) for flag, label in RELATIONSHIP],
            default=Value(""),
            output_field=CharField(),
        )
    if via:
        rows &= Q(**{f"{via}__isnull": False})
    return (
        base._default_manager.filter(rows)
        .annotate(
            s_category=Value(category, output_field=CharField()),
            s_model=Value(label, output_field=CharField()),
            s_month=TruncMonth(month, output_field=models.DateField()),
            s_org=org_ref,
            s_relationship=relationship,
            s_kind=F(f"{prefix}kind") if kind else Value("", output_field=CharField()),
        )
        .values("s_category", "s_model", "s_month", "s_org", "s_relationship", "s_kind")
        .annotate(s_count=Count(f"{prefix}pk"))
        .order_by()
    )


def _has_kind(model: type[models.Model]) -> bool:
    return any(f.name == "kind" and f.choices for f in model._meta.concrete_fields)


def _pks(pks: list[Any]) -> Any:
    """The batch's primary keys as one array parameter on PostgreSQL, not a thousand placeholders."""
    if connection.vendor == "postgresql" and pks and all(isinstance(pk, int) for pk in pks):
        return RawSQL("SELECT unnest(%s::bigint[])", (pks,))
    return pks


def _statistics_add(queryset: models.QuerySet) -> None:
    """Add the grouped counts of ``queryset`` to RetentionStatistic in one statement.

    INSERT ... SELECT ... ON CONFLICT DO UPDATE adds to existing rows; both
    PostgreSQL and SQLite (3.24+) know it, and the ORM writes the SELECT.
    """
    select, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(RetentionStatistic._meta.db_table)
    columns = "category, model, month, organisation_ref, relationship, kind, period"
    month = RetentionStatistic.Period.MONTH.value
    sql = (
        f"INSERT INTO {table} ({columns}, count) "  # noqa: S608  (names from model metadata)
        f"SELECT s_category, s_model, s_month, s_org, s_relationship, s_kind, '{month}', s_count "
        f"FROM ({select}) AS s WHERE s_month IS NOT NULL "
        f"ON CONFLICT ({columns}) DO UPDATE SET count = {table}.count + excluded.count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Recital 26: coarser and coarser cells until each counts enough people.
_ROLL_UP_STEPS: tuple[tuple[Q, dict[str, Any]], ...] = (
    (Q(period="month") & ~Q(organisation_ref=0), {"organisation_ref": Value(0)}),
    (
        Q(period="month", organisation_ref=0),
        {"month": TruncYear("month", output_field=models.DateField()), "period": Value("year")},
    ),
    (Q(period="year") & ~Q(relationship="", kind=""), {"relationship": Value(""), "kind": Value("")}),
)


def statistics_roll_up() -> int:
    """Merge every statistics cell of fewer than ``MIN_PEOPLE`` into a coarser one; returns cells merged.

    Three set-based steps, each one INSERT ... SELECT ... ON CONFLICT that adds
    the small cells' counts to the coarser cell, then a DELETE of the small
    cells: first the organisation goes, then the month becomes the year, then
    the relationship and kind go. A coarsest cell still under the threshold
    stays: a yearly count per record type names nobody.
    """
    table = connection.ops.quote_name(RetentionStatistic._meta.db_table)
    columns = ["category", "model", "month", "organisation_ref", "relationship", "kind", "period"]
    merged = 0
    with transaction.atomic():
        for where, replacements in _ROLL_UP_STEPS:
            small = RetentionStatistic.objects.filter(where, count__lt=RetentionStatistic.MIN_PEOPLE)
            pks = list(small.values_list("pk", flat=True))
            if not pks:
                continue
            grouped = (
                RetentionStatistic.objects.filter(pk__in=pks)
                .annotate(**{f"r_{c}": replacements.get(c, F(c)) for c in columns})
                .values(*(f"r_{c}" for c in columns))
                .annotate(r_count=Sum("count"))
                .order_by()
            )
            select, params = grouped.query.sql_with_params()
            names = ", ".join(columns)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({names}, count) "  # noqa: S608  (names from model metadata)
                    f"SELECT {', '.join(f'r_{c}' for c in columns)}, r_count FROM ({select}) AS r "
                    # WHERE: SQLite's parser needs it between an INSERT's SELECT and ON CONFLICT.
                    f"WHERE true "
                    f"ON CONFLICT ({names}) DO UPDATE SET count = {table}.count + excluded.count",
                    params,
                )
            # Counts, never personal data: the small cells are merged above, then go.
            RetentionStatistic.objects.filter(pk__in=pks).delete()
            merged += len(pks)
    return merged


def _cascading_children(model: type[models.Model]) -> list[tuple[PersonalData, str, str]]:
    """Registered models whose rows go with a row of ``model`` (a contact's interactions).

    Each as (declaration, its foreign key's name, the reverse query name from ``model``).
    """
    children = []
    for relation in get_candidate_relations_to_delete(model._meta):
        if relation.one_to_many and relation.on_delete is CASCADE:
            declaration = registry.get(relation.related_model)
            if declaration is not None and declaration.holds_personal_data:
                children.append((declaration, relation.field.name, relation.field.related_query_name()))
    return children


def _record_statistics(*, policy: RetentionPolicy, declaration: PersonalData, pks: list[Any]) -> None:
    rows = Q(pk__in=_pks(pks))
    _statistics_add(
        _statistics_queryset(
            category=policy.category,
            label=declaration.label,
            base=declaration.model,
            rows=rows,
            month=anchor_expression(policy, declaration),
            kind=_has_kind(declaration.model),
        )
    )
    for child, _fk, via in _cascading_children(declaration.model):
        if child.retention_anchor is None or via.endswith("+"):
            continue  # no event to count by, or no way to reach it from the row (related_name="+")
        _statistics_add(
            _statistics_queryset(
                category=child.category,
                label=child.label,
                base=declaration.model,
                rows=rows,
                month=F(f"{via}__{child.retention_anchor}"),
                via=via,
                kind=_has_kind(child.model),
            )
        )


# Removing one batch ---------------------------------------------------------


def _remove(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    pks: list[Any],
    plan: dict[str, Any] | None,
    run_id: int,
) -> tuple[int, int]:
    """Delete or anonymise the rows ``pks`` through the removal engine; returns (deleted, anonymised).

    The engine applies holds, guards and ``must_keep`` again and walks what
    hangs off the rows (a contact's interactions follow their own declaration,
    a spent hold loses its link and stays). The statistics count the batch
    first, deleted or anonymised alike (the policy: statistics only anonymised).
    """
    rows = Q(pk__in=_pks(pks))
    _record_statistics(policy=policy, declaration=declaration, pks=pks)
    target = Target(
        declaration,
        declaration.model._default_manager.filter(rows),
        action=Action.DELETE if plan is None else Action.ANONYMISE,
        keep_fields=tuple(policy.keep_for_statistics or ()),
    )
    outcome = removal_execute(
        targets=[target],
        door=Door.SWEEP,
        actor=Actor.system("retention"),
        reference=f"sweep-run-{run_id}",
        audit_action="retention.remove",
    )
    line = outcome.models.get(declaration.label)
    if line is None:
        return 0, 0
    return line.deleted, line.anonymised


@dataclass
class BatchResult:
    claimed: int = 0
    deleted: int = 0
    anonymised: int = 0
    last_pk: Any = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _claim(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    plan: dict[str, Any] | None,
    after: Any,
    size: int,
    now: datetime,
) -> list[Any]:
    queryset = policy_due(policy=policy, declaration=declaration, now=now, plan=plan).order_by("pk")
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    if connection.features.has_select_for_update_skip_locked:
        # Two workers never take the same rows: each skips what the other holds.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.values_list("pk", flat=True)[:size])


def sweep_batch(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    run: SweepRun,
    after: Any = None,
    size: int | None = None,
    now: datetime | None = None,
    lock_holder: str | None = None,
) -> BatchResult | None:
    """Claim and remove one batch, in one transaction; None when nothing is left.

    A row that fails is retried alone, in its own savepoint, and recorded; the
    others go on. A row and whatever cascades from it go in one statement set
    inside one savepoint, so a person is never half-deleted.
    """
    size = size or settings.RETENTION_BATCH_SIZE
    now = now or timezone.now()
    plan = policy_plan(policy, declaration)
    result = BatchResult()
    with transaction.atomic():
        if lock_holder is not None:
            sweep_lock_renew(holder=lock_holder)
        pks = _claim(policy=policy, declaration=declaration, plan=plan, after=after, size=size, now=now)
        if not pks:
            return None
        result.claimed, result.last_pk = len(pks), pks[-1]
        try:
            with transaction.atomic():
                result.deleted, result.anonymised = _remove(
                    policy=policy, declaration=declaration, pks=pks, plan=plan, run_id=run.pk
                )
        except Exception:  # any failure: go row by row, below
            for pk in pks:
                try:
                    with transaction.atomic():
                        deleted, anonymised = _remove(
                            policy=policy, declaration=declaration, pks=[pk], plan=plan, run_id=run.pk
                        )
                except Exception as error:
                    # Ids and the error's kind only: messages can quote values.
                    result.errors.append(
                        {"model": declaration.label, "id": pk, "error": type(error).__name__}
                    )
                    logger.warning(
                        "retention: %s #%s not removed (%s)", declaration.label, pk, type(error).__name__
                    )
                else:
                    result.deleted += deleted
                    result.anonymised += anonymised
        SweepRun.objects.filter(pk=run.pk).update(
            deleted=F("deleted") + result.deleted,
            anonymised=F("anonymised") + result.anonymised,
            batches=F("batches") + 1,
            error_count=F("error_count") + len(result.errors),
        )
        if result.errors:
            current = SweepRun.objects.select_for_update().get(pk=run.pk)
            current.errors = (current.errors + result.errors)[:MAX_RECORDED_ERRORS]
            current.save(update_fields=["errors"])
    return result


# The sweep ------------------------------------------------------------------


def _valve_alert(*, run: SweepRun, share: float, limit: float) -> None:
    send_email(
        "retention-valve",
        {
            "policy_code": run.policy_code,
            "category": run.category,
            "due": run.due,
            "total": run.total,
            "share": f"{share:.1%}",
            "limit": f"{limit:.1%}",
            "run_id": run.pk,
        },
        to=settings.PRIVACY_OFFICER_EMAIL,
        language=settings.LANGUAGE_CODE,
    )


def _finish(run: SweepRun, status: str) -> SweepRun:
    SweepRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now())
    run.refresh_from_db()
    audit_record(
        actor=Actor.system("retention"),
        action="retention.sweep",
        target=run,
        fields=["status", "deleted", "anonymised", "error_count"],
    )
    return run


def policy_sweep(
    *,
    policy: RetentionPolicy,
    trigger: str,
    now: datetime | None = None,
    lock_holder: str | None = None,
    batch_size: int | None = None,
    task_id: str = "",
) -> SweepRun:
    """One policy's run: the safety valve, then batches until nothing is due."""
    now = now or timezone.now()
    declarations = policy_declarations(policy)
    run = SweepRun.objects.create(
        policy=policy,
        policy_code=policy.code,
        category=policy.category,
        trigger=trigger,
        cutoff=now - timedelta(days=policy.period_days),
        task_id=task_id,
    )
    if category_is_held(policy.category, today=timezone.localdate(now)):
        return _finish(run, SweepRun.Status.HELD)
    # The safety valve (a wrong policy must not wipe the register): measured
    # before the first row goes, per model of the category.
    limit = valve_share(policy)
    worst = 0.0
    for declaration in declarations:
        due = policy_due(
            policy=policy, declaration=declaration, now=now, plan=policy_plan(policy, declaration)
        ).count()
        total = declaration.model._default_manager.count()
        run.due += due
        run.total += total
        if total:
            worst = max(worst, due / total)
    SweepRun.objects.filter(pk=run.pk).update(due=run.due, total=run.total)
    if worst > limit:
        run = _finish(run, SweepRun.Status.STOPPED_BY_VALVE)
        logger.warning(
            "retention: policy %s stopped by the safety valve (%.3f > %.3f)", policy.code, worst, limit
        )
        _valve_alert(run=run, share=worst, limit=limit)
        return run
    pause = float(getattr(settings, "RETENTION_BATCH_PAUSE_SECONDS", 0) or 0)
    try:
        for declaration in declarations:
            after = None
            while True:
                result = sweep_batch(
                    policy=policy,
                    declaration=declaration,
                    run=run,
                    after=after,
                    size=batch_size,
                    now=now,
                    lock_holder=lock_holder,
                )
                if result is None:
                    break
                after = result.last_pk
                if pause:
                    time.sleep(pause)  # test harness only: gives a test time to kill the worker mid-run
    except LockLost:
        return _finish(run, SweepRun.Status.INTERRUPTED)
    except Exception as error:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(error, SoftTimeLimitExceeded):
            # Resumable: every committed batch stays done; the next run goes on.
            _finish(run, SweepRun.Status.INTERRUPTED)
        else:
            _finish(run, SweepRun.Status.FAILED)
        raise
    statistics_roll_up()
    return _finish(run, SweepRun.Status.FINISHED)


def sweep_skipped_record(
    *, trigger: str, codes: Iterable[str] | None = None, task_id: str = ""
) -> list[SweepRun]:
    """Put a sweep that could not start on record, one run per policy it would have run.

    The run history then shows the night a sweep did not happen, not only a log line.
    """
    policies = RetentionPolicy.objects.filter(enabled=True)
    if codes:
        policies = RetentionPolicy.objects.filter(code__in=list(codes))
    now = timezone.now()
    runs = SweepRun.objects.bulk_create(
        [
            SweepRun(
                policy=policy,
                policy_code=policy.code,
                category=policy.category,
                trigger=trigger,
                status=SweepRun.Status.SKIPPED,
                started_at=now,
                finished_at=now,
                task_id=task_id,
            )
            for policy in policies
        ]
    )
    return runs


@dataclass
class SweepOutcome:
    runs: list[SweepRun] = field(default_factory=list)
    preview: list[Any] = field(default_factory=list)
    dry_run: bool = False


def retention_sweep(
    *,
    trigger: str = SweepRun.Trigger.SCHEDULE,
    codes: Iterable[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int | None = None,
    task_id: str = "",
) -> SweepOutcome:
    """Run every enabled policy (or those named), under the lock. A dry run only reads.

    ``task_id``: the Celery task's id, the lock's holder and each run's
    ``task_id``, so that the same task redelivered takes its own run over.
    """
    policies = RetentionPolicy.objects.filter(enabled=True)
    if codes:
        codes = list(codes)
        policies = RetentionPolicy.objects.filter(code__in=codes)
        missing = sorted(set(codes) - set(policies.values_list("code", flat=True)))
        if missing:
            raise NotFound(_("No retention policy with the code %(code)s.") % {"code": ", ".join(missing)})
    if dry_run:
        return SweepOutcome(preview=retention_preview(policies=policies), dry_run=True)
    holder = task_id or uuid.uuid4().hex
    if not sweep_lock_claim(holder=holder):
        raise SweepBusy(_("Another retention sweep is running; this one did not start."))
    outcome = SweepOutcome()
    try:
        # Holding the lock, no other run is alive: a run still marked running
        # was cut off (its worker killed); every batch it committed stays done.
        SweepRun.objects.filter(status=SweepRun.Status.RUNNING).update(
            status=SweepRun.Status.INTERRUPTED, finished_at=timezone.now()
        )
        for policy in policies:
            run = policy_sweep(
                policy=policy,
                trigger=trigger,
                now=now,
                lock_holder=holder,
                batch_size=batch_size,
                task_id=task_id,
            )
            outcome.runs.append(run)
            if run.status == SweepRun.Status.INTERRUPTED:
                break
    finally:
        sweep_lock_release(holder=holder)
    return outcome
