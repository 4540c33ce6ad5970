"""The demo: one login per role, printed by `make run` (demo_login)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from staff.demo import DEMO_USERNAMES
from staff.roles import ROLES

pytestmark = pytest.mark.django_db


def test_demo_login_creates_and_prints_one_user_per_role(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_login", stdout=out)
    call_command("demo_login", stdout=StringIO())  # a second `make run` resets, never duplicates
    printed = out.getvalue()
    for role in ROLES:
        username = DEMO_USERNAMES[role.code]
        user = get_user_model().objects.get(username=username)
        assert user.is_staff and not user.is_superuser and user.is_active
        assert list(user.groups.values_list("name", flat=True)) == [role.name]
        assert user.check_password("demo-personvern")
        assert f"{role.name}: {username} / demo-personvern" in printed
