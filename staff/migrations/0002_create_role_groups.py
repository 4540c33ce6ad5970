"""The staff roles as groups (staff/roles.py). After every migrate the groups are
synced again (staff/apps.py), so permissions of models that appear later follow."""

from __future__ import annotations

from django.db import migrations


def create_role_groups(apps, schema_editor) -> None:
    from staff.roles import roles_sync

    roles_sync(apps, using=schema_editor.connection.alias)


def remove_role_groups(apps, schema_editor) -> None:
    from staff.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=[role.name for role in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_custom_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
