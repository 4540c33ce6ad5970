"""Every admin action checks the permission its effect needs, not only the view permission.

Found broken (issue 11, 1): a staff member with view permissions only ran
`publish`, `lift`, `run_now`, `toggle_tasks` and `assign_to_me`, each with its effect.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory as HttpRequestFactory
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from consent.models import PrivacyNotice
from core.schedules import sync_periodic_tasks
from requests_dsar.models import DataSubjectRequest
from retention.models import LegalHold, SweepRun
from tests.requests_dsar.factories import RequestFactory
from tests.retention.factories import LegalHoldFactory
from tests.subjects.factories import ContactFactory, JobApplicationFactory

pytestmark = pytest.mark.django_db


def _every_action() -> list[tuple[str, str]]:
    """(model label, action name) of every action registered in the admin, for a superuser."""
    from django.contrib.auth.models import User

    request = HttpRequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    found = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_actions(request):
            found.append((model._meta.label_lower, name))
    return sorted(found)


EVERY_ACTION = _every_action()


def _admin_for(label: str) -> admin.ModelAdmin:
    return next(a for m, a in admin.site._registry.items() if m._meta.label_lower == label)


def test_the_list_of_actions_covers_the_ones_the_pen_tester_ran():
    names = {name for _, name in EVERY_ACTION}
    assert {"publish", "lift", "run_now", "toggle_tasks", "assign_to_me", "export_csv"} <= names


@pytest.mark.parametrize(("label", "name"), EVERY_ACTION)
def test_every_action_declares_a_permission_beyond_view(label, name):
    action = getattr(_admin_for(label), name, None) or admin.site.get_action(name)
    permissions = set(getattr(action, "allowed_permissions", ()))
    assert permissions and permissions != {"view"}, f"{label}: {name} runs for anyone who may see the list"


@pytest.mark.parametrize(("label", "name"), EVERY_ACTION)
def test_a_view_only_staff_member_is_offered_no_action(label, name, viewer):
    request = HttpRequestFactory().get("/admin/")
    request.user = viewer
    assert name not in _admin_for(label).get_actions(request)


def _run(client, model: str, action: str, pks: list[object]):
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"},
    )


@pytest.fixture
def notice():
    return PrivacyNotice.objects.create(
        version="2099-1", text_nb="Ny tekst", text_en="New text", effective_from=timezone.now() + timedelta(1)
    )


@pytest.fixture
def sweep_schedule():
    sync_periodic_tasks()
    return PeriodicTask.objects.get(name="retention sweep")


class TestAViewOnlyStaffMember:
    """Each action POSTed by hand, as the pen tester did: refused, and nothing happens."""

    @pytest.fixture(autouse=True)
    def _login(self, client, viewer):
        client.force_login(viewer)

    def test_cannot_publish_a_notice(self, client, notice):
        _run(client, "consent_privacynotice", "publish", [notice.pk])
        assert PrivacyNotice.objects.get(pk=notice.pk).published_at is None

    def test_cannot_lift_a_hold(self, client):
        hold = LegalHoldFactory()
        _run(client, "retention_legalhold", "lift", [hold.pk])
        assert LegalHold.objects.get(pk=hold.pk).lifted_at is None

    def test_cannot_run_a_retention_policy_now(self, client, django_capture_on_commit_callbacks):
        from retention.models import RetentionPolicy

        policy = RetentionPolicy.objects.first()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _run(client, "retention_retentionpolicy", "run_now", [policy.pk])
        assert callbacks == [] and not SweepRun.objects.exists()

    @pytest.mark.parametrize("action", ["toggle_tasks", "disable_tasks"])
    def test_cannot_switch_the_retention_schedule_off(self, client, sweep_schedule, action):
        _run(client, "django_celery_beat_periodictask", action, [sweep_schedule.pk])
        assert PeriodicTask.objects.get(pk=sweep_schedule.pk).enabled

    def test_cannot_run_a_scheduled_task_now(self, client, sweep_schedule, monkeypatch):
        sent = []
        monkeypatch.setattr("celery.app.task.Task.apply_async", lambda *a, **k: sent.append(a))
        _run(client, "django_celery_beat_periodictask", "run_tasks", [sweep_schedule.pk])
        assert sent == []

    def test_cannot_assign_a_request_to_themselves(self, client):
        dsar = RequestFactory()
        _run(client, "requests_dsar_datasubjectrequest", "assign_to_me", [dsar.pk])
        assert DataSubjectRequest.objects.get(pk=dsar.pk).assignee is None

    def test_cannot_export_contacts(self, client):
        contact = ContactFactory()
        response = _run(client, "subjects_contact", "export_csv", [contact.pk])
        assert not response.get("Content-Type", "").startswith("text/csv")

    def test_cannot_download_an_application_document(self, client):
        document = _document()
        assert client.get(reverse("subjects:application_document", args=[document.pk])).status_code == 403


def _document():
    from django.core.files.base import ContentFile

    from subjects.models import ApplicationDocument

    application = JobApplicationFactory()
    document = ApplicationDocument(application=application, title="CV")
    document.file.save("cv.pdf", ContentFile(b"%PDF-1.4 cv"), save=True)
    return document


class TestThePrivacyOfficer:
    """The same actions work for who holds the permission: the refusals above are not a broken action."""

    @pytest.fixture(autouse=True)
    def _login(self, client, staff_user):
        client.force_login(staff_user)

    def test_publishes_a_notice(self, client, notice):
        _run(client, "consent_privacynotice", "publish", [notice.pk])
        assert PrivacyNotice.objects.get(pk=notice.pk).published_at is not None

    def test_lifts_a_hold(self, client):
        hold = LegalHoldFactory()
        _run(client, "retention_legalhold", "lift", [hold.pk])
        assert LegalHold.objects.get(pk=hold.pk).lifted_at is not None

    def test_toggles_the_schedule(self, client, sweep_schedule):
        _run(client, "django_celery_beat_periodictask", "toggle_tasks", [sweep_schedule.pk])
        assert not PeriodicTask.objects.get(pk=sweep_schedule.pk).enabled

    def test_assigns_a_request_to_themselves(self, client, staff_user):
        dsar = RequestFactory()
        _run(client, "requests_dsar_datasubjectrequest", "assign_to_me", [dsar.pk])
        assert DataSubjectRequest.objects.get(pk=dsar.pk).assignee == staff_user

    def test_exports_contacts(self, client):
        contact = ContactFactory()
        response = _run(client, "subjects_contact", "export_csv", [contact.pk])
        assert response["Content-Type"].startswith("text/csv")
        assert contact.email in b"".join(response.streaming_content).decode()

    def test_downloads_an_application_document(self, client):
        document = _document()
        response = client.get(reverse("subjects:application_document", args=[document.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 cv"


def test_a_staff_member_granted_only_the_run_permission_runs_a_policy(
    client, django_user_model, django_capture_on_commit_callbacks
):
    from retention.models import RetentionPolicy

    user = django_user_model.objects.create_user("drift", "drift@example.no", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_retentionpolicy", "run_retention"])
    )
    client.force_login(user)
    policy = RetentionPolicy.objects.filter(enabled=True).first()
    with django_capture_on_commit_callbacks(execute=True):
        _run(client, "retention_retentionpolicy", "run_now", [policy.pk])
    assert SweepRun.objects.filter(policy_code=policy.code).exists()
