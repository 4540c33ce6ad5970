"""Personas for the staff-access tests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def viewer(django_user_model):
    """Staff who may see every list and record, and change nothing (the pen tester's account)."""
    user = django_user_model.objects.create_user("leser", "leser@example.no", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return django_user_model.objects.get(pk=user.pk)  # a fresh permission cache
