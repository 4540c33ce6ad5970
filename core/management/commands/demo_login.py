from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-personvern"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login and print it. Local demo only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo login is only for the local demo (DEBUG on).")
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo staff login (local demo only): {DEMO_USERNAME} / {DEMO_PASSWORD} "
                "at http://127.0.0.1:8000/admin/"
            )
        )
        # staff-roles: one login per role (staff/roles.py), same password.
        from staff.demo import demo_role_users_create

        for username, role in demo_role_users_create(password=DEMO_PASSWORD):
            self.stdout.write(f"  {role}: {username} / {DEMO_PASSWORD}")
