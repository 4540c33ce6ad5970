"""The login records django-axes keeps are personal data with a period (Art. 5(1)(e), Art. 32):
declared in staff/personal_data.py, given the retention policy "staff-logins", and removed by the
nightly sweep through the one removal engine, old ones only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from core.registry import registry
from retention.models import RetentionPolicy, SweepRun
from retention.services import retention_sweep

pytestmark = pytest.mark.django_db

RIGHT = "riktig-passord-1"


def login(client, username: str, password: str, ip: str = "192.0.2.44") -> None:
    client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"},
                REMOTE_ADDR=ip)  # fmt: skip


def age(model, days: int) -> None:
    model.objects.update(attempt_time=timezone.now() - timedelta(days=days))


def test_every_axes_table_is_declared_and_the_policy_exists():
    for model in (AccessLog, AccessAttempt):
        declaration = registry.get(model)
        assert declaration is not None and "ip_address" in declaration.personal_fields
        assert declaration.category == "staff_login"
    policy = RetentionPolicy.objects.get(code="staff-logins")
    assert (policy.category, policy.period_days, policy.enabled) == ("staff_login", 90, True)
    policy.full_clean()  # the anchor the registry declares is a date of every row


def test_the_sweep_removes_login_records_past_their_period_and_keeps_recent_ones(client, django_user_model):
    django_user_model.objects.create_user("ombud", "ombud@example.no", RIGHT, is_staff=True)
    login(client, "ombud", RIGHT)  # a successful login, long ago
    age(AccessLog, 91)
    client.logout()
    login(client, "ombud", RIGHT)  # a recent login, within the period
    recent = AccessLog.objects.filter(attempt_time__gte=timezone.now() - timedelta(days=1))
    assert recent.count() == 1
    # A failed attempt from elsewhere, long ago (axes itself forgets attempts past the cool-off
    # only when the next login comes; the sweep does not wait for one).
    login(client, "ukjent", "feil", ip="198.51.100.7")
    assert AccessAttempt.objects.count() == 1
    age(AccessAttempt, 91)

    outcome = retention_sweep(trigger=SweepRun.Trigger.COMMAND, codes=["staff-logins"])

    (run,) = outcome.runs
    assert run.status == SweepRun.Status.FINISHED
    assert list(AccessLog.objects.values_list("pk", flat=True)) == list(recent.values_list("pk", flat=True))
    assert not AccessAttempt.objects.exists()
    run.refresh_from_db()
    assert (run.due, run.deleted) == (2, 2)
    # The engine records the removal in the audit trail, field names only.
    assert AuditEvent.objects.filter(target_type__in=["axes.accesslog", "axes.accessattempt"]).count() == 2


def test_the_preview_names_the_login_records_that_would_go(client, django_user_model):
    django_user_model.objects.create_user("ombud", "ombud@example.no", RIGHT, is_staff=True)
    login(client, "ombud", RIGHT)
    age(AccessLog, 200)

    outcome = retention_sweep(codes=["staff-logins"], dry_run=True)

    assert AccessLog.objects.count() == 1  # a dry run writes nothing
    due = {line.declaration.model: (line.due, line.total) for line in outcome.preview}
    assert due[AccessLog] == (1, 1)
    assert due[AccessAttempt] == (0, 0)
