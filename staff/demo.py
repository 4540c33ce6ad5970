"""Demo staff: one login per role, so the local demo shows what each role sees. Local demo only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .roles import ROLES, roles_sync

# role code -> demo username (bokmål, as the staff would name them)
DEMO_USERNAMES: dict[str, str] = {
    "privacy_officer": "demo-ombud",
    "request_handler": "demo-saksbehandler",
    "sales_support": "demo-salg",
    "recruiter": "demo-rekruttering",
    "auditor": "demo-revisor",
}


def demo_role_users_create(*, password: str) -> list[tuple[str, str]]:
    """Create (or reset) one staff user per role, in that role's group only; returns (username, role name)."""
    User = get_user_model()
    created = []
    with transaction.atomic():
        roles_sync()
        for role in ROLES:
            username = DEMO_USERNAMES[role.code]
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = False
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role.name)])
            created.append((username, role.name))
    return created
