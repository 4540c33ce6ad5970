"""The system checks that keep staff access from regressing when someone adds an admin action."""

from __future__ import annotations

from django.contrib import admin

from staff.checks import check_admin_actions_declare_permissions, check_two_factor_required
from subjects.models import Contact


def test_the_project_declares_a_permission_for_every_action():
    assert check_admin_actions_declare_permissions() == []


def test_an_action_without_a_permission_is_reported(monkeypatch):
    contact_admin = admin.site._registry[Contact]

    def send_everyone_a_newsletter(modeladmin, request, queryset) -> None:
        pass

    monkeypatch.setattr(
        contact_admin.__class__, "send_everyone_a_newsletter", send_everyone_a_newsletter, raising=False
    )
    monkeypatch.setattr(contact_admin, "actions", (*contact_admin.actions, "send_everyone_a_newsletter"))
    problems = check_admin_actions_declare_permissions()
    assert [(p.id, "send_everyone_a_newsletter" in p.msg) for p in problems] == [("staff.W001", True)]


def test_production_without_two_factor_login_warns(settings):
    settings.STAFF_2FA_REQUIRED = True
    assert check_two_factor_required() == []
    settings.STAFF_2FA_REQUIRED = False
    assert [p.id for p in check_two_factor_required()] == ["staff.W002"]
